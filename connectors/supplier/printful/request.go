package printful

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
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dropsync/dropsync/internal/dropsync"
)

const (
	// maxResponseBytes bounds what is read of a reply, so an endless body cannot exhaust a
	// worker's memory.
	maxResponseBytes = 1 << 20
	// defaultRetryAfter is Printful's rate-limit window: the wait when a 429 says nothing.
	defaultRetryAfter = time.Minute
	// maxRetryAfter caps what a reply may ask for, so a bogus header cannot park a purchase
	// order for years.
	maxRetryAfter = 24 * time.Hour
	// maxMessage bounds Printful's own words carried into an error message.
	maxMessage = 200
)

// call is one request to Printful.
type call struct {
	op     string // what is being done, for messages ("place order X")
	method string
	path   []string // segments below the base URL, escaped one by one
	query  url.Values
	body   []byte
	// refusable marks order creation, where a 4xx is Printful refusing the order.
	refusable bool
	// items are the order's items, to name the one a refusal is about.
	items []dropsync.SupplierItem
	// redact lists customer data Printful's message must not carry into an error.
	redact []string
}

// envelope is every Printful reply: {"code": 200, "result": ...} or, on failure, a result
// and an error with reason and message.
type envelope struct {
	Code   int             `json:"code"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Reason  string `json:"reason"`
		Message string `json:"message"`
	} `json:"error"`
}

// do sends the call and decodes a 2xx reply's result into out, or returns the reply as a
// coded error. While Printful's rate limit is spent it sends nothing.
func (s *Supplier) do(ctx context.Context, c call, out any) error {
	if s.badURL != nil {
		return dropsync.Wrap(dropsync.EINVALID, s.badURL, "supplier %s: %s: bad base_url", s.cfg.ID, c.op)
	}
	if wait := s.blocked(); wait > 0 {
		return &dropsync.Error{Code: dropsync.ERATELIMITED, RetryAfter: wait,
			Message: fmt.Sprintf("supplier %s: %s: Printful's rate limit is spent for %s", s.cfg.ID, c.op, wait.Round(time.Second))}
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, s.endpoint(c.path, c.query), body)
	if err != nil {
		return dropsync.Wrap(dropsync.EINVALID, err, "supplier %s: %s: build request", s.cfg.ID, c.op)
	}
	req.Header.Set("Authorization", "Bearer "+s.cfg.Token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "dropsync")
	if s.cfg.StoreID != "" {
		req.Header.Set("X-PF-Store-Id", s.cfg.StoreID)
	}
	if c.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		// Network errors, timeouts and cancellations alike: Printful may have done the work,
		// and the lookup before every create makes the retry safe. The cause stays in the
		// chain so a shutdown (context.Canceled) is told from an outage.
		return dropsync.Wrap(dropsync.EUNAVAILABLE, transportError(err), "supplier %s: %s", s.cfg.ID, c.op)
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	s.log.Debug().Str("op", c.op).Str("method", c.method).Int("status", resp.StatusCode).
		Dur("took", time.Since(start)).Msg("supplier request")
	s.observeLimit(resp)

	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return s.replyError(c, resp, data)
	}
	switch {
	case readErr != nil:
		return dropsync.Wrap(dropsync.EUNAVAILABLE, transportError(readErr), "supplier %s: %s: read reply", s.cfg.ID, c.op)
	case len(data) > maxResponseBytes:
		return dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: %s: reply larger than %d bytes", s.cfg.ID, c.op, maxResponseBytes)
	}
	var env envelope
	if err := json.Unmarshal(data, &env); err != nil || len(env.Result) == 0 || string(env.Result) == "null" {
		if err == nil {
			err = errors.New("no result")
		}
		return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "supplier %s: %s: malformed reply (status %d)", s.cfg.ID, c.op, resp.StatusCode)
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "supplier %s: %s: malformed result (status %d)", s.cfg.ID, c.op, resp.StatusCode)
	}
	return nil
}

// replyError classifies a non-2xx reply. The jobs layer decides from the code alone, so the
// mapping is the contract's: a refused order is EPERMANENT with a shared reason, 429 and 5xx
// are transient, and the remaining 4xx mean dropsync sent something Printful does not take.
func (s *Supplier) replyError(c call, resp *http.Response, data []byte) error {
	var env envelope
	_ = json.Unmarshal(data, &env) // a garbled error body still has a status worth reporting
	detail := ""
	if env.Error != nil {
		detail = env.Error.Message
	}
	if detail == "" {
		var text string
		if json.Unmarshal(env.Result, &text) == nil {
			detail = text
		}
	}
	detail = scrub(detail, c.redact)
	msg := fmt.Sprintf("supplier %s: %s: status %d", s.cfg.ID, c.op, resp.StatusCode)
	if detail != "" {
		msg += ": " + detail
	}
	code := resp.StatusCode
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return &dropsync.Error{Code: dropsync.EUNAUTHORIZED, Message: msg + " (check the supplier's token and store_id)"}
	case code == http.StatusNotFound:
		return &dropsync.Error{Code: dropsync.ENOTFOUND, Message: msg}
	case code == http.StatusTooManyRequests:
		wait := retryAfter(resp.Header, detail, s.now())
		s.block(wait)
		return &dropsync.Error{Code: dropsync.ERATELIMITED, Message: msg, RetryAfter: wait}
	case code >= 500 || code == http.StatusRequestTimeout:
		return &dropsync.Error{Code: dropsync.EUNAVAILABLE, Message: msg}
	case code >= 300 && code < 400:
		return &dropsync.Error{Code: dropsync.EINVALID, Message: msg + " (redirected; check base_url)"}
	case c.refusable:
		if reason := refusalReason(detail); reason != "" {
			return dropsync.Rejection(reason, refusedSKU(detail, c.items), msg)
		}
	}
	return &dropsync.Error{Code: dropsync.EINVALID, Message: msg}
}

// Printful words its refusals for people. These patterns are the causes it names, checked in
// this order: a sentence about shipping to a country also mentions the recipient.
var refusals = []struct {
	reason string
	re     *regexp.Regexp
}{
	{dropsync.ReasonUnsupportedCountry, regexp.MustCompile(`(?i)(can ?not|can't|cannot|does not|doesn't|unable to) (be )?ship|not (be )?shipped to|ship(ping)? to .* (is )?not (available|supported)|country .*not supported|unsupported country`)},
	{dropsync.ReasonOutOfStock, regexp.MustCompile(`(?i)out of stock|discontinued|not available|unavailable`)},
	{dropsync.ReasonUnknownSKU, regexp.MustCompile(`(?i)variant.*(not found|does not exist|doesn't exist|invalid|unknown)|(invalid|unknown) .*variant|product.*(not found|does not exist)`)},
	{dropsync.ReasonInvalidAddress, regexp.MustCompile(`(?i)recipient|address|zip|postal|state code|city`)},
}

func refusalReason(detail string) string {
	for _, r := range refusals {
		if r.re.MatchString(detail) {
			return r.reason
		}
	}
	return ""
}

var itemIndex = regexp.MustCompile(`(?i)\bitem\s*#?\s*(\d+)`)

// refusedSKU finds the item a refusal names: by a variant id it quotes, else by its "Item N"
// (counted from 0, as the items were sent).
func refusedSKU(detail string, items []dropsync.SupplierItem) string {
	for _, it := range items {
		ref, err := parseVariantRef(it.SKU)
		if err != nil {
			continue
		}
		if v := ref.id(); len(v) >= 3 && strings.Contains(detail, v) {
			return it.SKU
		}
	}
	if m := itemIndex.FindStringSubmatch(detail); m != nil {
		if i, err := strconv.Atoi(m[1]); err == nil && i >= 0 && i < len(items) {
			return items[i].SKU
		}
	}
	if len(items) == 1 {
		return items[0].SKU
	}
	return ""
}

// observeLimit notes a reply saying no calls remain in the window: the next call would be
// refused, so none is sent until the window is over.
func (s *Supplier) observeLimit(resp *http.Response) {
	rem := strings.TrimSpace(resp.Header.Get("X-Ratelimit-Remaining"))
	if rem != "0" || resp.StatusCode == http.StatusTooManyRequests {
		return
	}
	if wait, ok := resetDelay(resp.Header.Get("X-Ratelimit-Reset"), s.now()); ok {
		s.block(wait)
	}
}

func (s *Supplier) block(wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until := s.now().Add(wait); until.After(s.blockedUntil) {
		s.blockedUntil = until
	}
}

func (s *Supplier) blocked() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.blockedUntil.Sub(s.now())
}

var afterSeconds = regexp.MustCompile(`(?i)after (\d+) seconds?`)

// retryAfter reads how long a 429 asks to wait: Retry-After, then X-Ratelimit-Reset, then
// "after N seconds" in the message, else Printful's one-minute window.
func retryAfter(h http.Header, detail string, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(secs) && !math.IsInf(secs, 0) {
			return clampWait(time.Duration(math.Min(secs, maxRetryAfter.Seconds()) * float64(time.Second)))
		}
		if t, err := http.ParseTime(v); err == nil {
			return clampWait(t.Sub(now))
		}
	}
	if d, ok := resetDelay(h.Get("X-Ratelimit-Reset"), now); ok {
		return d
	}
	if m := afterSeconds.FindStringSubmatch(detail); m != nil {
		if secs, err := strconv.Atoi(m[1]); err == nil {
			return clampWait(time.Duration(min(secs, int(maxRetryAfter.Seconds()))) * time.Second)
		}
	}
	return defaultRetryAfter
}

// resetDelay reads X-Ratelimit-Reset as seconds until the window resets, or as the Unix time
// it resets at when the number is that large.
func resetDelay(v string, now time.Time) (time.Duration, bool) {
	n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
		return 0, false
	}
	if n > 1e9 {
		return clampWait(time.Unix(int64(n), 0).Sub(now)), true
	}
	return clampWait(time.Duration(math.Min(n, maxRetryAfter.Seconds()) * float64(time.Second))), true
}

// clampWait keeps a wait between a second (the error still says to wait) and the cap.
func clampWait(d time.Duration) time.Duration {
	switch {
	case d < time.Second:
		return time.Second
	case d > maxRetryAfter:
		return maxRetryAfter
	}
	return d
}

// transportError drops the request URL from a *url.Error: the cause (timeout, refused,
// reset) is what matters.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// scrub keeps Printful's message fit for errors, logs and the admin API: customer data it
// quotes is blanked out, and it is cut to a sensible length.
func scrub(msg string, redact []string) string {
	for _, v := range redact {
		v = strings.TrimSpace(v)
		// Very short values ("1", "NY") would blank out ordinary words.
		if utf8.RuneCountInString(v) >= 3 {
			msg = strings.ReplaceAll(msg, v, "[redacted]")
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

// endpoint joins the base URL and the path segments, each escaped on its own so that an
// external id holding "/" stays one segment.
func (s *Supplier) endpoint(segments []string, query url.Values) string {
	u := *s.base
	p := strings.TrimRight(u.EscapedPath(), "/")
	for _, seg := range segments {
		p += "/" + url.PathEscape(seg)
	}
	u.RawPath = p
	u.Path, _ = url.PathUnescape(p)
	if q := query.Encode(); q != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&" + q
		} else {
			u.RawQuery = q
		}
	}
	return u.String()
}

// encodeJSON encodes without HTML escaping: a packing slip saying "Tea & Co" reaches
// Printful as written.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
