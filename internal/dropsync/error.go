// Package dropsync is dropsync's domain: orders as the storefront sold them, the purchase
// orders that forward them to suppliers, parcels, supplier mappings and the errors that decide
// behaviour at the edges. It imports nothing of dropsync's own; everything else depends on it.
package dropsync

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. A few codes decide behaviour at the edges: the admin API maps them to HTTP
// statuses, the job runner to retry or give up.
const (
	ECONFLICT     = "conflict"     // the action conflicts with the current state
	EINTERNAL     = "internal"     // a bug or an unexpected condition
	EINVALID      = "invalid"      // bad input; retrying the same input cannot help
	ENOTFOUND     = "not_found"    // the thing does not exist
	EUNAUTHORIZED = "unauthorized" // missing or wrong credentials or signature
	EUNAVAILABLE  = "unavailable"  // a dependency is down or timed out; retry later
	ERATELIMITED  = "rate_limited" // a dependency asked us to slow down; retry after RetryAfter
	ETOOLARGE     = "too_large"    // a request body over the size limit
	EPERMANENT    = "permanent"    // a remote party refused for good (e.g. a supplier's 422)
	EGONE         = "gone"         // the shop or resource was removed (e.g. app uninstalled)
)

// Error is dropsync's error with a code that decides behaviour and a message safe to show to
// an operator (it never carries customer data). Reason is a finer machine-readable cause, such
// as a supplier's "out_of_stock".
type Error struct {
	Code   string
	Reason string
	// SKU is the supplier SKU a refusal names, when it names one.
	SKU        string
	Message    string
	RetryAfter time.Duration
	Err        error
}

// Error implements error.
func (e *Error) Error() string {
	msg := e.Message
	if e.Reason != "" && msg == "" {
		msg = e.Reason
	}
	if e.Err != nil {
		if msg == "" {
			return e.Err.Error()
		}
		return msg + ": " + e.Err.Error()
	}
	if msg == "" {
		return e.Code
	}
	return msg
}

// Unwrap returns the wrapped cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with the code and message that wraps err.
func Wrap(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of the outermost *Error in err's chain, "" for nil and EINTERNAL
// for an error that carries no code.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorReason returns the Reason of the first *Error in err's chain that has one.
func ErrorReason(err error) string {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.Reason != "" {
			return e.Reason
		}
		err = e.Err
	}
	return ""
}

// ErrorMessage returns the operator-facing message of err: the whole chain's text for a coded
// error, and "internal error" for an uncoded one (its text may hold details not meant for
// clients; log it instead).
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Error()
	}
	return "internal error"
}

// RefusedSKU returns the supplier SKU the first refusal in err's chain names, or "".
func RefusedSKU(err error) string {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return ""
		}
		if e.SKU != "" {
			return e.SKU
		}
		err = e.Err
	}
	return ""
}

// RetryAfter returns the delay a dependency asked for, if any error in the chain carries one.
func RetryAfter(err error) (time.Duration, bool) {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return 0, false
		}
		if e.RetryAfter > 0 {
			return e.RetryAfter, true
		}
		err = e.Err
	}
	return 0, false
}

// IsRetryable reports whether the failure may go away by trying again later.
func IsRetryable(err error) bool {
	switch ErrorCode(err) {
	case EINVALID, ENOTFOUND, EUNAUTHORIZED, EPERMANENT, EGONE, ECONFLICT, ETOOLARGE:
		return false
	}
	return true
}

// ErrNoChange is returned by an update function to say that nothing needs storing.
var ErrNoChange = errors.New("no change")
