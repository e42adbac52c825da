package http

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/dropsync/dropsync/connectors/supplier/supplierapi"
	"github.com/dropsync/dropsync/internal/dropsync"
)

// defaultRetryAfter is the wait after a 429 that does not say how long to wait.
const defaultRetryAfter = 30 * time.Second

// call is one request to the supplier.
type call struct {
	op       string // what is being done, for error messages ("place order X")
	method   string
	path     []string // path segments below base_url, escaped one by one
	rawQuery string
	body     []byte
	headers  http.Header
	// cancel marks the cancel operation, where 409 means the order already shipped.
	cancel bool
	// redact lists customer data the supplier's message must not carry into an error.
	redact []string
}

// do sends the call and decodes a 2xx reply into out, or returns the reply as a coded error.
// A network error is EUNAVAILABLE: the idempotency key makes the retry safe.
func (s *Supplier) do(ctx context.Context, c call, out any) error {
	if s.badURL != nil {
		return dropsync.Wrap(dropsync.EINVALID, s.badURL, "supplier %s: %s: bad base_url", s.cfg.ID, c.op)
	}
	header := c.headers.Clone()
	if header == nil {
		header = http.Header{}
	}
	header.Set("Authorization", "Bearer "+s.cfg.Token)
	rep, err := supplierapi.Send(ctx, s.client, s.cfg.Timeout, supplierapi.Request{
		Supplier: s.cfg.ID, Op: c.op, Method: c.method, URL: s.endpoint(c.path, c.rawQuery), Header: header, Body: c.body,
	})
	if err != nil {
		return err
	}
	s.log.Debug().Str("op", c.op).Str("method", c.method).Int("status", rep.Status).
		Dur("took", rep.Took).Msg("supplier request")

	if rep.Status >= 200 && rep.Status < 300 {
		if err := rep.CheckBody(s.cfg.ID, c.op); err != nil {
			return err
		}
		if err := json.Unmarshal(rep.Body, out); err != nil {
			return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "supplier %s: %s: malformed reply (status %d)", s.cfg.ID, c.op, rep.Status)
		}
		return nil
	}
	return s.replyError(c, rep)
}

// replyError classifies a non-2xx reply. The jobs layer decides from the code alone whether
// to retry, so the mapping is the contract's: 422 is a permanent refusal, 429 and 5xx are
// transient, and the remaining 4xx mean dropsync sent something wrong.
func (s *Supplier) replyError(c call, rep supplierapi.Reply) error {
	var we wireError
	_ = json.Unmarshal(rep.Body, &we) // a garbled error body still has a status worth reporting
	reason := supplierapi.Scrub(we.Error.Code, c.redact)
	detail := supplierapi.Scrub(we.Error.Message, c.redact)
	if detail == "" {
		detail = reason
	}
	msg := supplierapi.StatusMessage(s.cfg.ID, c.op, rep.Status, detail)
	switch code := rep.Status; {
	case code == http.StatusUnprocessableEntity:
		return dropsync.Rejection(reason, supplierapi.Scrub(we.Error.SKU, c.redact), msg)
	case code == http.StatusNotFound:
		return &dropsync.Error{Code: dropsync.ENOTFOUND, Reason: reason, Message: msg}
	case code == http.StatusConflict && c.cancel:
		return &dropsync.Error{Code: dropsync.ECONFLICT, Reason: dropsync.ReasonAlreadyShipped, Message: msg}
	}
	if e := supplierapi.StatusError(rep.Status, msg); e != nil {
		switch e.Code {
		case dropsync.EUNAUTHORIZED:
			e.Message += " (check the supplier's token)"
		case dropsync.ERATELIMITED:
			e.RetryAfter = parseRetryAfter(rep.Header.Get("Retry-After"), s.now())
		}
		return e
	}
	return &dropsync.Error{Code: dropsync.EINVALID, Reason: reason, Message: msg}
}

// parseRetryAfter reads Retry-After as seconds (fractions allowed) or an HTTP date. A missing
// or unreadable value gets the default; a value of zero or in the past gets one second, so the
// error still says how long to wait.
func parseRetryAfter(v string, now time.Time) time.Duration {
	d, ok := supplierapi.RetryAfter(v, now)
	switch {
	case !ok:
		return defaultRetryAfter
	case d <= 0:
		return time.Second
	}
	return d
}

// endpoint joins base_url and the path segments, keeping base_url's prefix and query.
func (s *Supplier) endpoint(segments []string, rawQuery string) string {
	return supplierapi.JoinURL(s.base, segments, rawQuery)
}
