package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dropsync/dropsync/internal/dropsync"
)

const (
	// maxResponseBytes bounds what is read of a reply: a supplier answering with an endless
	// body must not exhaust a worker's memory.
	maxResponseBytes = 1 << 20
	// defaultRetryAfter is the wait after a 429 that does not say how long to wait.
	defaultRetryAfter = 30 * time.Second
	// maxRetryAfter caps what a supplier may ask for, so a bogus header cannot park a
	// purchase order for years (or overflow a Duration).
	maxRetryAfter = 24 * time.Hour
	// maxMessage bounds the supplier's own words carried into an error message.
	maxMessage = 200
)

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
func (s *Supplier) do(ctx context.Context, c call, out any) error {
	if s.badURL != nil {
		return dropsync.Wrap(dropsync.EINVALID, s.badURL, "supplier %s: %s: bad base_url", s.cfg.ID, c.op)
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()

	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, s.endpoint(c.path, c.rawQuery), body)
	if err != nil {
		return dropsync.Wrap(dropsync.EINVALID, err, "supplier %s: %s: build request", s.cfg.ID, c.op)
	}
	for k, v := range c.headers {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "dropsync")
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		// Network errors, timeouts and cancellations alike: the supplier may still answer
		// later, and the idempotency key makes the retry safe. The cause stays in the chain
		// so callers can tell a shutdown (context.Canceled) from an outage.
		return dropsync.Wrap(dropsync.EUNAVAILABLE, transportError(err), "supplier %s: %s", s.cfg.ID, c.op)
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	s.log.Debug().Str("op", c.op).Str("method", c.method).Int("status", resp.StatusCode).
		Dur("took", time.Since(start)).Msg("supplier request")

	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		switch {
		case readErr != nil:
			return dropsync.Wrap(dropsync.EUNAVAILABLE, transportError(readErr), "supplier %s: %s: read reply", s.cfg.ID, c.op)
		case len(data) > maxResponseBytes:
			return dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: %s: reply larger than %d bytes", s.cfg.ID, c.op, maxResponseBytes)
		}
		if err := json.Unmarshal(data, out); err != nil {
			return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "supplier %s: %s: malformed reply (status %d)", s.cfg.ID, c.op, resp.StatusCode)
		}
		return nil
	}
	return s.replyError(c, resp, data)
}

// replyError classifies a non-2xx reply. The jobs layer decides from the code alone whether
// to retry, so the mapping is the contract's: 422 is a permanent refusal, 429 and 5xx are
// transient, and the remaining 4xx mean dropsync sent something wrong.
func (s *Supplier) replyError(c call, resp *http.Response, data []byte) error {
	var we wireError
	_ = json.Unmarshal(data, &we) // a garbled error body still has a status worth reporting
	reason := scrub(we.Error.Code, c.redact)
	detail := scrub(we.Error.Message, c.redact)
	if detail == "" {
		detail = reason
	}
	msg := fmt.Sprintf("supplier %s: %s: status %d", s.cfg.ID, c.op, resp.StatusCode)
	if detail != "" {
		msg += ": " + detail
	}
	code := resp.StatusCode
	switch {
	case code == http.StatusUnprocessableEntity:
		return dropsync.Rejection(reason, scrub(we.Error.SKU, c.redact), msg)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return &dropsync.Error{Code: dropsync.EUNAUTHORIZED, Message: msg + " (check the supplier's token)"}
	case code == http.StatusNotFound:
		return &dropsync.Error{Code: dropsync.ENOTFOUND, Reason: reason, Message: msg}
	case code == http.StatusConflict && c.cancel:
		return &dropsync.Error{Code: dropsync.ECONFLICT, Reason: dropsync.ReasonAlreadyShipped, Message: msg}
	case code == http.StatusTooManyRequests:
		wait := parseRetryAfter(resp.Header.Get("Retry-After"), s.now())
		return &dropsync.Error{Code: dropsync.ERATELIMITED, Message: msg, RetryAfter: wait}
	case code >= 500 || code == http.StatusRequestTimeout:
		// 408 is the server giving up on a slow request: a timeout like any other.
		return &dropsync.Error{Code: dropsync.EUNAVAILABLE, Message: msg}
	case code >= 300 && code < 400:
		return &dropsync.Error{Code: dropsync.EINVALID, Message: msg + " (redirected; check base_url)"}
	}
	return &dropsync.Error{Code: dropsync.EINVALID, Reason: reason, Message: msg}
}

// transportError drops the request URL from a *url.Error: it holds nothing personal today,
// but the message is shorter and the cause (timeout, refused, reset) is what matters.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// parseRetryAfter reads Retry-After as seconds (fractions allowed) or an HTTP date. A missing
// or unreadable value gets the default; a value of zero or in the past gets one second, so the
// error still says how long to wait.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return defaultRetryAfter
	}
	var d time.Duration
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if math.IsNaN(secs) || math.IsInf(secs, 0) {
			return defaultRetryAfter
		}
		if secs > maxRetryAfter.Seconds() {
			return maxRetryAfter
		}
		d = time.Duration(secs * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	} else {
		return defaultRetryAfter
	}
	switch {
	case d <= 0:
		return time.Second
	case d > maxRetryAfter:
		return maxRetryAfter
	}
	return d
}

// scrub keeps a supplier's message fit for errors, logs and the admin API: customer data it
// quotes is blanked out, and it is cut to a sensible length.
func scrub(msg string, redact []string) string {
	for _, v := range redact {
		// Very short values ("1", "NY") would blank out ordinary words.
		if utf8.RuneCountInString(strings.TrimSpace(v)) >= 3 {
			msg = strings.ReplaceAll(msg, strings.TrimSpace(v), "[redacted]")
		}
	}
	msg = strings.TrimSpace(msg)
	if utf8.RuneCountInString(msg) > maxMessage {
		msg = string([]rune(msg)[:maxMessage]) + "…"
	}
	return msg
}

// parseBaseURL accepts scheme://host[:port][/prefix], with or without a trailing slash.
func parseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("base_url %q is not an http(s) URL", raw)
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// endpoint joins base_url and the path segments, keeping base_url's prefix and query. Each
// segment is escaped on its own: a supplier order id holding "/" or "?" stays one segment.
func (s *Supplier) endpoint(segments []string, rawQuery string) string {
	u := *s.base
	p := strings.TrimRight(u.EscapedPath(), "/")
	for _, seg := range segments {
		p += "/" + url.PathEscape(seg)
	}
	u.RawPath = p
	u.Path, _ = url.PathUnescape(p) // p was built from escaped parts, so it unescapes
	switch {
	case u.RawQuery == "":
		u.RawQuery = rawQuery
	case rawQuery != "":
		u.RawQuery += "&" + rawQuery
	}
	return u.String()
}
