// Package supplierapi is the request plumbing every supplier connector shares, whatever API
// the supplier speaks: sending a JSON request to the supplier within a time and a size limit,
// classifying the HTTP statuses that mean the same at every supplier into dropsync's error
// codes, reading Retry-After, scrubbing customer data out of a supplier's messages,
// checking the secret a webhook URL carries, and joining a base_url with escaped path
// segments. Each connector keeps its own protocol
// (authentication, envelopes, the supplier's error codes and refusals) and decides what the
// remaining statuses mean.
package supplierapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dropsync/dropsync/internal/dropsync"
)

const (
	// MaxResponseBytes bounds what is read of a reply: a supplier answering with an endless
	// body must not exhaust a worker's memory.
	MaxResponseBytes = 1 << 20
	// MaxRetryAfter caps the wait a supplier may ask for, so a bogus header cannot park a
	// purchase order for years (or overflow a Duration).
	MaxRetryAfter = 24 * time.Hour
	// MaxMessage bounds the supplier's own words carried into an error message.
	MaxMessage = 200
)

// NewClient returns the HTTP client a connector uses when it is given none. It does not
// follow redirects: a redirected POST would lose its body, and StatusError reports the
// redirect as a base_url to check. timeout bounds each exchange; 0 leaves that to the
// request's context.
func NewClient(timeout time.Duration) *http.Client {
	var transport http.RoundTripper = http.DefaultTransport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		// As many idle connections as workers commonly call one supplier at once; the
		// default keeps 2, so most calls would open (and TLS-handshake) a new one.
		t := dt.Clone()
		t.MaxIdleConnsPerHost = 64
		transport = t
	}
	return &http.Client{
		Transport: transport,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Request is one request to a supplier.
type Request struct {
	Supplier string // the supplier's configured id, for error messages
	Op       string // what is being done, for error messages ("place order X")
	Method   string
	URL      string
	// Header is sent as it is: the supplier's authentication and any header of the call.
	Header http.Header
	// Body is JSON, sent with Content-Type application/json; nil sends no body.
	Body []byte
}

// Reply is a supplier's answer, its body read up to one byte over MaxResponseBytes so that
// CheckBody can tell a body over the limit.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
	// ReadErr is why the body could not be read to its end; the status still counts.
	ReadErr error
	// Took is how long the exchange took, for the connector's debug log.
	Took time.Duration
}

// Send sends the request within timeout and reads the reply, whatever its status. Errors:
// EINVALID when no request can be built from it, EUNAVAILABLE when the supplier cannot be
// reached or does not answer in time. Network errors, timeouts and cancellations are all
// EUNAVAILABLE because the supplier may still have done the work: a connector retrying must
// make that safe (an idempotency key, or a lookup before a create). The cause stays in the
// chain so callers can tell a shutdown (context.Canceled) from an outage.
func Send(ctx context.Context, client *http.Client, timeout time.Duration, r Request) (Reply, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return Reply{}, dropsync.Wrap(dropsync.EINVALID, err, "supplier %s: %s: build request", r.Supplier, r.Op)
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "dropsync")
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}

	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return Reply{}, dropsync.Wrap(dropsync.EUNAVAILABLE, TransportError(err), "supplier %s: %s", r.Supplier, r.Op)
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	return Reply{Status: resp.StatusCode, Header: resp.Header, Body: data, ReadErr: readErr, Took: time.Since(start)}, nil
}

// CheckBody returns EUNAVAILABLE when the reply's body was not read to its end or is over
// MaxResponseBytes: a reply cut short is no reply. It is for replies whose body is decoded.
func (r Reply) CheckBody(supplier, op string) error {
	switch {
	case r.ReadErr != nil:
		return dropsync.Wrap(dropsync.EUNAVAILABLE, TransportError(r.ReadErr), "supplier %s: %s: read reply", supplier, op)
	case len(r.Body) > MaxResponseBytes:
		return dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: %s: reply larger than %d bytes", supplier, op, MaxResponseBytes)
	}
	return nil
}

// StatusMessage is the message of an error reply: the supplier, the operation, the status
// and the supplier's own words (detail, already scrubbed), if any.
func StatusMessage(supplier, op string, status int, detail string) string {
	msg := fmt.Sprintf("supplier %s: %s: status %d", supplier, op, status)
	if detail != "" {
		msg += ": " + detail
	}
	return msg
}

// StatusError classifies the HTTP statuses that mean the same at every supplier; the jobs
// layer decides from the code alone whether to retry. 401 and 403 are EUNAUTHORIZED; 429 is
// ERATELIMITED, whose RetryAfter the caller sets (how a supplier says how long to wait is
// its own); 5xx and 408 are EUNAVAILABLE (408 is the server giving up on a slow request: a
// timeout like any other); a redirect, which the client does not follow, is EINVALID with a
// hint to check base_url. Any other status gives nil: what it means is the supplier's own.
func StatusError(status int, msg string) *dropsync.Error {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return &dropsync.Error{Code: dropsync.EUNAUTHORIZED, Message: msg}
	case status == http.StatusTooManyRequests:
		return &dropsync.Error{Code: dropsync.ERATELIMITED, Message: msg}
	case status >= 500 || status == http.StatusRequestTimeout:
		return &dropsync.Error{Code: dropsync.EUNAVAILABLE, Message: msg}
	case status >= 300 && status < 400:
		return &dropsync.Error{Code: dropsync.EINVALID, Message: msg + " (redirected; check base_url)"}
	}
	return nil
}

// RetryAfter reads a Retry-After value, seconds (fractions allowed) or an HTTP date, as the
// wait from now, capped at MaxRetryAfter. ok is false when the value is absent or unreadable,
// so that the connector falls back on what its supplier documents. The wait may be zero or
// less (a date in the past); the least wait a connector reports is its own choice.
func RetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if math.IsNaN(secs) || math.IsInf(secs, 0) {
			return 0, false
		}
		return time.Duration(math.Min(secs, MaxRetryAfter.Seconds()) * float64(time.Second)), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(t.Sub(now), MaxRetryAfter), true
}

// ClampWait keeps a wait between a second, so that the error still says to wait, and
// MaxRetryAfter.
func ClampWait(d time.Duration) time.Duration {
	switch {
	case d < time.Second:
		return time.Second
	case d > MaxRetryAfter:
		return MaxRetryAfter
	}
	return d
}

// TransportError drops the request URL from a *url.Error: the URL may carry an order id or
// number, and the cause (timeout, refused, reset) is what matters.
func TransportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Scrub keeps a supplier's message fit for errors, logs and the admin API: the customer data
// in redact that it quotes is blanked out, and it is cut to MaxMessage characters. Values
// match whatever their case: suppliers echo a name or a city in capitals as often as not. A
// value changed in form (a phone without separators, address lines joined) is matched only
// when the connector lists that form too (PersonalData's sent).
func Scrub(msg string, redact []string) string {
	var values []string
	for _, v := range redact {
		v = strings.TrimSpace(v)
		// Very short values ("1", "NY") would blank out ordinary words.
		if utf8.RuneCountInString(v) >= 3 {
			values = append(values, v)
		}
	}
	if len(values) > 0 {
		// Longest first, as alternatives are tried in order: a value holding another (a name
		// and surname, an address line joined with the company) is blanked out whole, with
		// no piece of it left behind.
		slices.SortStableFunc(values, func(a, b string) int { return len(b) - len(a) })
		quoted := make([]string, len(values))
		for i, v := range values {
			quoted[i] = regexp.QuoteMeta(v)
		}
		if re, err := regexp.Compile("(?i)" + strings.Join(quoted, "|")); err == nil {
			msg = re.ReplaceAllLiteralString(msg, "[redacted]")
		} else {
			// Literals too long for one expression: blank out the exact values at least.
			for _, v := range values {
				msg = strings.ReplaceAll(msg, v, "[redacted]")
			}
		}
	}
	msg = strings.TrimSpace(msg)
	if utf8.RuneCountInString(msg) > MaxMessage {
		msg = string([]rune(msg)[:MaxMessage]) + "…"
	}
	return msg
}

// PersonalData lists the customer data of a purchase order, so that a supplier's message
// quoting it is scrubbed before it reaches an error, a log or the admin API. sent are the
// forms a connector sends that data in where they differ from the purchase order's (a
// phone compacted to fit a field, company and second address line joined into one): a
// supplier echoes what it was sent.
func PersonalData(req dropsync.SupplierOrderRequest, sent ...string) []string {
	a := req.ShippingAddress
	return append([]string{a.FullName(), a.FirstName, a.LastName, a.Company, a.Address1, a.Address2,
		a.City, a.Zip, a.Phone, req.Email}, sent...)
}

// TokenParam is the query parameter of a webhook URL that carries the supplier's webhook
// secret, for suppliers that do not sign their deliveries with a secret of their own:
// https://<dropsync>/webhooks/suppliers/<id>?token=<webhook_secret>.
const TokenParam = "token"

// CheckURLToken authenticates a webhook delivery by the secret its URL carries (TokenParam),
// compared in constant time. Errors: EUNAUTHORIZED when no secret is configured, the URL
// carries none, or it is not the secret.
func CheckURLToken(supplier string, query url.Values, secret string) error {
	if secret == "" {
		return dropsync.Errorf(dropsync.EUNAUTHORIZED, "supplier %s: event: no webhook secret configured", supplier)
	}
	token := query.Get(TokenParam)
	if token == "" {
		return dropsync.Errorf(dropsync.EUNAUTHORIZED, "supplier %s: event: no %s in the webhook URL", supplier, TokenParam)
	}
	// Hashing first makes the comparison take as long whatever the token's length.
	got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return dropsync.Errorf(dropsync.EUNAUTHORIZED, "supplier %s: event: wrong %s in the webhook URL", supplier, TokenParam)
	}
	return nil
}

// ParseBaseURL accepts scheme://host[:port][/prefix], with or without a trailing slash. The
// fragment is dropped; a query is kept.
func ParseBaseURL(raw string) (*url.URL, error) {
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

// JoinURL joins base and the path segments, keeping base's prefix and query, and appends
// rawQuery (already encoded) to the query. Each segment is escaped on its own: an order id
// holding "/" or "?" stays one segment.
func JoinURL(base *url.URL, segments []string, rawQuery string) string {
	u := *base
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

// EncodeJSON encodes without HTML escaping: a packing slip or a remark saying "Tea & Co"
// reaches the supplier as written, not as "Tea \u0026 Co".
func EncodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// CheckOrder returns the EINVALID error of a purchase order no supplier can take: one
// without the external id every connector keys idempotency on, or one without items.
func CheckOrder(supplier string, req dropsync.SupplierOrderRequest) error {
	if req.ExternalID == "" {
		return dropsync.Errorf(dropsync.EINVALID, "supplier %s: place order: no external id", supplier)
	}
	if len(req.Items) == 0 {
		return dropsync.Errorf(dropsync.EINVALID, "supplier %s: place order %s: no items", supplier, req.ExternalID)
	}
	return nil
}

// Found reads the outcome of a lookup: ENOTFOUND is the answer "there is none" (found is
// false, with no error), and any other error stays an error.
func Found(err error) (found bool, _ error) {
	if dropsync.ErrorCode(err) == dropsync.ENOTFOUND {
		return false, nil
	}
	return err == nil, err
}

// RefName names an order in error messages: by the supplier's id when known, else by the
// purchase order id.
func RefName(ref dropsync.SupplierOrderRef) string {
	if ref.ID != "" {
		return ref.ID
	}
	return "external " + ref.ExternalID
}
