package printful

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/dropsync/dropsync/connectors/supplier/supplierapi"
	"github.com/dropsync/dropsync/internal/dropsync"
)

// defaultRetryAfter is Printful's rate-limit window: the wait when a 429 says nothing.
const defaultRetryAfter = time.Minute

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
	header := http.Header{}
	header.Set("Authorization", "Bearer "+s.cfg.Token)
	if s.cfg.StoreID != "" {
		header.Set("X-PF-Store-Id", s.cfg.StoreID)
	}
	// A network error is EUNAVAILABLE: Printful may have done the work, and the lookup
	// before every create makes the retry safe.
	rep, err := supplierapi.Send(ctx, s.client, s.cfg.Timeout, supplierapi.Request{
		Supplier: s.cfg.ID, Op: c.op, Method: c.method, URL: s.endpoint(c.path, c.query), Header: header, Body: c.body,
	})
	if err != nil {
		return err
	}
	s.log.Debug().Str("op", c.op).Str("method", c.method).Int("status", rep.Status).
		Dur("took", rep.Took).Msg("supplier request")
	s.observeLimit(rep.Status, rep.Header)

	if rep.Status < 200 || rep.Status >= 300 {
		return s.replyError(c, rep)
	}
	if err := rep.CheckBody(s.cfg.ID, c.op); err != nil {
		return err
	}
	var env envelope
	if err := json.Unmarshal(rep.Body, &env); err != nil || len(env.Result) == 0 || string(env.Result) == "null" {
		if err == nil {
			err = errors.New("no result")
		}
		return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "supplier %s: %s: malformed reply (status %d)", s.cfg.ID, c.op, rep.Status)
	}
	if err := json.Unmarshal(env.Result, out); err != nil {
		return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "supplier %s: %s: malformed result (status %d)", s.cfg.ID, c.op, rep.Status)
	}
	return nil
}

// replyError classifies a non-2xx reply. The jobs layer decides from the code alone, so the
// mapping is the contract's: a refused order is EPERMANENT with a shared reason, 429 and 5xx
// are transient, and the remaining 4xx mean dropsync sent something Printful does not take.
func (s *Supplier) replyError(c call, rep supplierapi.Reply) error {
	var env envelope
	_ = json.Unmarshal(rep.Body, &env) // a garbled error body still has a status worth reporting
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
	detail = supplierapi.Scrub(detail, c.redact)
	msg := supplierapi.StatusMessage(s.cfg.ID, c.op, rep.Status, detail)
	if rep.Status == http.StatusNotFound {
		return &dropsync.Error{Code: dropsync.ENOTFOUND, Message: msg}
	}
	if e := supplierapi.StatusError(rep.Status, msg); e != nil {
		switch e.Code {
		case dropsync.EUNAUTHORIZED:
			e.Message += " (check the supplier's token and store_id)"
		case dropsync.ERATELIMITED:
			e.RetryAfter = retryAfter(rep.Header, detail, s.now())
			s.block(e.RetryAfter)
		}
		return e
	}
	if c.refusable {
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
func (s *Supplier) observeLimit(status int, h http.Header) {
	rem := strings.TrimSpace(h.Get("X-Ratelimit-Remaining"))
	if rem != "0" || status == http.StatusTooManyRequests {
		return
	}
	if wait, ok := resetDelay(h.Get("X-Ratelimit-Reset"), s.now()); ok {
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
	if d, ok := supplierapi.RetryAfter(h.Get("Retry-After"), now); ok {
		return supplierapi.ClampWait(d)
	}
	if d, ok := resetDelay(h.Get("X-Ratelimit-Reset"), now); ok {
		return d
	}
	if m := afterSeconds.FindStringSubmatch(detail); m != nil {
		if secs, err := strconv.Atoi(m[1]); err == nil {
			return supplierapi.ClampWait(time.Duration(min(secs, int(supplierapi.MaxRetryAfter.Seconds()))) * time.Second)
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
		return supplierapi.ClampWait(time.Unix(int64(n), 0).Sub(now)), true
	}
	return supplierapi.ClampWait(time.Duration(math.Min(n, supplierapi.MaxRetryAfter.Seconds()) * float64(time.Second))), true
}

// endpoint joins the base URL and the path segments, each escaped on its own so that an
// external id holding "/" stays one segment.
func (s *Supplier) endpoint(segments []string, query url.Values) string {
	return supplierapi.JoinURL(s.base, segments, query.Encode())
}
