// Package httpapi is dropsync's HTTP surface apart from the storefront's webhook receiver:
// health and readiness, the supplier event receiver, the JSON admin API behind the admin
// token, and the JSON error format every route answers with. It declares the small
// interfaces it needs; cmd/dropsync plugs the store, the pipeline and the connectors in.
package httpapi

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// codes maps dropsync error codes to HTTP statuses; everything else is 500.
var codes = map[string]int{
	dropsync.ECONFLICT:     http.StatusConflict,
	dropsync.EINVALID:      http.StatusBadRequest,
	dropsync.ENOTFOUND:     http.StatusNotFound,
	dropsync.EUNAUTHORIZED: http.StatusUnauthorized,
	dropsync.EUNAVAILABLE:  http.StatusServiceUnavailable,
	dropsync.ERATELIMITED:  http.StatusTooManyRequests,
	dropsync.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	dropsync.EPERMANENT:    http.StatusUnprocessableEntity,
	dropsync.EGONE:         http.StatusGone,
}

// StatusOf returns the HTTP status for an error's code.
func StatusOf(err error) int {
	if s, ok := codes[dropsync.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON body of every error reply.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail names what went wrong: a code from dropsync's error codes and a message.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WriteError answers with the JSON error for err and logs internal errors (which are never
// shown to the client: no stack traces, no internals).
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusOf(err)
	code := dropsync.ErrorCode(err)
	msg := dropsync.ErrorMessage(err)
	if status == http.StatusInternalServerError {
		code, msg = dropsync.EINTERNAL, "internal error"
		zerolog.Ctx(r.Context()).Error().Err(err).Str("path", r.URL.Path).Msg("internal error")
	}
	writeErrorBody(w, status, code, msg)
}

func writeErrorBody(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(ErrorBody{Error: ErrorDetail{Code: code, Message: msg}})
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// NotFound answers every unknown path with a JSON 404.
func NotFound(w http.ResponseWriter, r *http.Request) {
	writeErrorBody(w, http.StatusNotFound, dropsync.ENOTFOUND, "no such endpoint: "+r.URL.Path)
}

// methods wraps h so that other methods get a JSON 405 naming the allowed ones.
func methods(h http.HandlerFunc, allowed ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, m := range allowed {
			if r.Method == m || (m == http.MethodGet && r.Method == http.MethodHead) {
				h(w, r)
				return
			}
		}
		MethodNotAllowed(w, r, allowed...)
	}
}

// MethodNotAllowed answers a JSON 405 naming the allowed methods.
func MethodNotAllowed(w http.ResponseWriter, r *http.Request, allowed ...string) {
	allow := strings.Join(allowed, ", ")
	w.Header().Set("Allow", allow)
	writeErrorBody(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here; use "+allow)
}
