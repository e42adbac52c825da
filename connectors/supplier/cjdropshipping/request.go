package cjdropshipping

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/dropsync/dropsync/connectors/supplier/supplierapi"
	"github.com/dropsync/dropsync/internal/dropsync"
)

// CJ's error codes dropsync acts on (ps-code.html). CJ asks integrators to decide by code,
// not by message.
const (
	codeOK               = 200
	codeSystemBusy       = 1600000
	codeInvalidToken     = 1600001
	codeNoToken          = 1600002
	codeInvalidRefresh   = 1600003
	codeAuthFailed       = 1600004
	codeWrongKey         = 1600005
	codeNoDeveloper      = 1600006
	codeAuthFailed2      = 1600008
	codeNoStore          = 1600013
	codeOffline          = 1600100
	codeNoInterface      = 1600101
	codeTooMany          = 1600200
	codeQuotaUsed        = 1600201
	codeParam            = 1600300
	codeReadTimeout      = 1600301
	codeUserNotFound     = 1601000
	codeVariantNotFound  = 1602000
	codeProductNotFound  = 1602001
	codeProductOffShelf  = 1602002
	codeVariantOffShelf  = 1602003
	codeOrderCreateFail  = 1603000
	codeOrderDeleteFail  = 1603002
	codeOrderExists      = 1603003
	codeOrderNotFound    = 1603100
	codeOrderPayFail     = 1603101
	codeInventoryFail    = 1603102
	codeBalance          = 1604000
	codeBalanceBlocked   = 1604001
	codeLogisticNotFound = 1605000
	codeLogisticInvalid  = 1605001
	codeCountryNotFound  = 1605002
	codeParamEmpty       = 16900403
)

// call is one request to CJ.
type call struct {
	op     string
	method string
	path   string // below the base URL
	query  url.Values
	body   []byte
	// noAuth marks the token requests themselves.
	noAuth bool
	// place marks order creation, where refusals are EPERMANENT with a shared reason.
	place bool
	// lookup marks reads where "not found" is ENOTFOUND.
	lookup bool
	// cancel marks the delete, where CJ refusing is ECONFLICT.
	cancel bool
	// items are the order's items, to name the one a refusal is about.
	items []dropsync.SupplierItem
	// redact lists customer data CJ's message must not carry into an error.
	redact []string
}

// envelope is every CJ reply: code 200 and data, or an error code and message.
type envelope struct {
	Code      int             `json:"code"`
	Result    *bool           `json:"result"`
	Success   *bool           `json:"success"`
	Message   string          `json:"message"`
	Data      json.RawMessage `json:"data"`
	RequestID string          `json:"requestId"`
}

func (e envelope) ok() bool {
	if e.Code == codeOK {
		return true
	}
	// A few endpoints answer code 0 with success: true.
	return e.Code == 0 && (e.Success != nil && *e.Success || e.Result != nil && *e.Result)
}

// apiError keeps CJ's code in the error chain, for the callers that act on one code.
type apiError struct {
	Code      int
	RequestID string
}

func (e *apiError) Error() string {
	if e.RequestID != "" {
		return fmt.Sprintf("cj code %d, request %s", e.Code, e.RequestID)
	}
	return fmt.Sprintf("cj code %d", e.Code)
}

// cjCode returns the CJ error code in err's chain, 0 when there is none.
func cjCode(err error) int {
	var e *apiError
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// reply is one answer from CJ.
type reply struct {
	status int
	header http.Header
	env    envelope
	parsed bool
	raw    []byte
}

func (r reply) authFailure() bool {
	if r.parsed && (r.env.Code == codeInvalidToken || r.env.Code == codeNoToken) {
		return true
	}
	return r.status == http.StatusUnauthorized
}

// do sends the call with a valid token and decodes the data of a successful reply into out,
// or returns the reply as a coded error. A reply saying the token is invalid renews the token
// once and repeats the call once.
func (s *Supplier) do(ctx context.Context, c call, out any) error {
	if s.badURL != nil {
		return dropsync.Wrap(dropsync.EINVALID, s.badURL, "supplier %s: %s: bad base_url", s.cfg.ID, c.op)
	}
	token := ""
	if !c.noAuth {
		tok, err := s.accessToken(ctx, "")
		if err != nil {
			return s.named(c.op, err)
		}
		token = tok.AccessToken
	}
	r, err := s.send(ctx, c, token)
	if err != nil {
		return err
	}
	if !c.noAuth && r.authFailure() {
		tok, err := s.accessToken(ctx, token)
		if err != nil {
			return s.named(c.op, err)
		}
		if r, err = s.send(ctx, c, tok.AccessToken); err != nil {
			return err
		}
		if r.authFailure() {
			return &dropsync.Error{Code: dropsync.EUNAUTHORIZED, Err: s.apiErr(r),
				Message: fmt.Sprintf("supplier %s: %s: CJ refused a freshly renewed token (check the API key)", s.cfg.ID, c.op)}
		}
	}
	if r.status >= 200 && r.status < 300 && r.parsed && r.env.ok() {
		if out == nil || len(r.env.Data) == 0 || string(r.env.Data) == "null" {
			return nil
		}
		if err := json.Unmarshal(r.env.Data, out); err != nil {
			return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "supplier %s: %s: malformed data", s.cfg.ID, c.op)
		}
		return nil
	}
	return s.replyError(c, r)
}

// send paces and sends one request.
func (s *Supplier) send(ctx context.Context, c call, token string) (reply, error) {
	if err := s.pace(ctx, c.op); err != nil {
		return reply{}, err
	}
	header := http.Header{}
	if token != "" {
		header.Set("CJ-Access-Token", token)
	}
	// A network error is EUNAVAILABLE: CJ may have done the work, and the lookup before
	// every create makes the retry safe.
	rep, err := supplierapi.Send(ctx, s.client, s.cfg.Timeout, supplierapi.Request{
		Supplier: s.cfg.ID, Op: c.op, Method: c.method, URL: s.endpoint(c.path, c.query), Header: header, Body: c.body,
	})
	if err != nil {
		return reply{}, err
	}
	r := reply{status: rep.Status, header: rep.Header, raw: rep.Body}
	r.parsed = rep.ReadErr == nil && len(rep.Body) <= supplierapi.MaxResponseBytes && json.Unmarshal(rep.Body, &r.env) == nil
	s.log.Debug().Str("op", c.op).Str("method", c.method).Int("status", rep.Status).Int("code", r.env.Code).
		Dur("took", rep.Took).Msg("supplier request")
	if r.status >= 200 && r.status < 300 && !r.parsed {
		if err := rep.CheckBody(s.cfg.ID, c.op); err != nil {
			return reply{}, err
		}
		return reply{}, dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: %s: malformed reply (status %d)", s.cfg.ID, c.op, r.status)
	}
	return r, nil
}

// pace waits for this call's slot in CJ's per-second limit, shared through the Pacer.
func (s *Supplier) pace(ctx context.Context, op string) error {
	if s.interval <= 0 {
		return nil
	}
	wait, ok, err := s.pacer.Reserve(ctx, s.interval, maxPaceWait)
	if err != nil {
		return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "supplier %s: %s: pace", s.cfg.ID, op)
	}
	if !ok {
		return &dropsync.Error{Code: dropsync.ERATELIMITED, RetryAfter: wait,
			Message: fmt.Sprintf("supplier %s: %s: CJ's one call a second is booked for %s", s.cfg.ID, op, wait.Round(time.Second))}
	}
	if wait <= 0 {
		return nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return dropsync.Wrap(dropsync.EUNAVAILABLE, ctx.Err(), "supplier %s: %s: waiting for CJ's rate limit", s.cfg.ID, op)
	case <-t.C:
		return nil
	}
}

func (s *Supplier) apiErr(r reply) error {
	if !r.parsed {
		return nil
	}
	return &apiError{Code: r.env.Code, RequestID: r.env.RequestID}
}

// replyError classifies a failed reply: by CJ's code when the body has one, else by the HTTP
// status. The jobs layer decides from the dropsync code alone, so the mapping is the
// contract's.
func (s *Supplier) replyError(c call, r reply) error {
	detail := ""
	if r.parsed {
		detail = supplierapi.Scrub(r.env.Message, c.redact)
	}
	msg := fmt.Sprintf("supplier %s: %s: status %d", s.cfg.ID, c.op, r.status)
	if r.parsed && r.env.Code != 0 {
		msg += fmt.Sprintf(", code %d", r.env.Code)
	}
	if detail != "" {
		msg += ": " + detail
	}
	cause := s.apiErr(r)
	e := func(code string) *dropsync.Error { return &dropsync.Error{Code: code, Message: msg, Err: cause} }
	reject := func(reason string) error {
		x := dropsync.Rejection(reason, refusedSKU(detail, c.items), msg)
		x.Err = cause
		return x
	}

	code := 0
	if r.parsed {
		code = r.env.Code
	}
	switch code {
	case codeTooMany:
		x := e(dropsync.ERATELIMITED)
		x.RetryAfter = retryAfter(r.header, time.Second, s.now())
		return x
	case codeQuotaUsed:
		x := e(dropsync.ERATELIMITED)
		x.RetryAfter = retryAfter(r.header, time.Hour, s.now())
		return x
	case codeInvalidToken, codeNoToken, codeAuthFailed, codeWrongKey, codeNoDeveloper, codeAuthFailed2, codeNoStore, codeUserNotFound, codeInvalidRefresh:
		x := e(dropsync.EUNAUTHORIZED)
		x.Message += " (check the supplier's api_key and email)"
		return x
	case codeSystemBusy, codeReadTimeout, codeOrderCreateFail:
		return e(dropsync.EUNAVAILABLE)
	case codeOrderPayFail, codeBalance, codeBalanceBlocked:
		// CJ may hold the order unpaid: the retry's lookup finds it and says so.
		x := e(dropsync.EUNAVAILABLE)
		x.Message += " (top up the CJ balance or pay the order in CJ's dashboard; dropsync retries)"
		return x
	case codeOrderNotFound:
		return e(dropsync.ENOTFOUND)
	case codeVariantNotFound, codeProductNotFound:
		if c.lookup {
			return e(dropsync.ENOTFOUND)
		}
		if c.place {
			return reject(dropsync.ReasonUnknownSKU)
		}
	case codeProductOffShelf, codeVariantOffShelf, codeInventoryFail:
		if c.place {
			return reject(dropsync.ReasonOutOfStock)
		}
	case codeLogisticInvalid:
		if c.place {
			return reject(dropsync.ReasonUnsupportedCountry)
		}
	case codeCountryNotFound:
		if c.place {
			return reject(dropsync.ReasonInvalidAddress)
		}
	case codeLogisticNotFound:
		x := e(dropsync.EINVALID)
		x.Message += " (check the supplier's logistic_name)"
		return x
	case codeOrderDeleteFail:
		if c.cancel {
			return &dropsync.Error{Code: dropsync.ECONFLICT, Reason: ReasonNotCancellable, Err: cause,
				Message: msg + " (CJ deletes only unpaid orders; cancel it in CJ's dashboard)"}
		}
	case codeOrderExists:
		// CJ holds an order with this number: the retry's lookup returns it.
		return e(dropsync.EUNAVAILABLE)
	case codeParam, codeParamEmpty:
		// CJ's "param error" also says a looked-up order does not exist (getOrderDetail).
		if c.lookup && strings.Contains(strings.ToLower(detail), "not found") {
			return e(dropsync.ENOTFOUND)
		}
		if c.place && shippingField.MatchString(detail) {
			return reject(dropsync.ReasonInvalidAddress)
		}
		return e(dropsync.EINVALID)
	case codeOffline, codeNoInterface:
		x := e(dropsync.EINVALID)
		x.Message += " (check base_url)"
		return x
	}
	if x := supplierapi.StatusError(r.status, msg); x != nil {
		x.Err = cause
		if x.Code == dropsync.ERATELIMITED {
			x.RetryAfter = retryAfter(r.header, time.Second, s.now())
		}
		return x
	}
	if r.status == http.StatusNotFound && code == 0 {
		x := e(dropsync.EINVALID)
		x.Message += " (no such endpoint; check base_url)"
		return x
	}
	// A code dropsync does not know: a person should look rather than retry blindly.
	return e(dropsync.EINVALID)
}

// shippingField recognises CJ's complaints about an address field of the order.
var shippingField = regexp.MustCompile(`(?i)shipping|zip|province|city|address|customer ?name|phone|country`)

// refusedSKU finds the item a refusal names: by its SKU in the message, else the only item.
func refusedSKU(detail string, items []dropsync.SupplierItem) string {
	for _, it := range items {
		ref := parseSKU(it.SKU)
		if id := ref.vid + ref.sku; len(id) >= 3 && strings.Contains(detail, id) {
			return it.SKU
		}
	}
	if len(items) == 1 {
		return items[0].SKU
	}
	return ""
}

// retryAfter reads Retry-After (seconds or a date), else gives the default.
func retryAfter(h http.Header, def time.Duration, now time.Time) time.Duration {
	d, ok := supplierapi.RetryAfter(h.Get("Retry-After"), now)
	if !ok {
		return def
	}
	return supplierapi.ClampWait(d)
}

// endpoint joins the base URL and the path, with the query; a query of the base URL is not
// kept, CJ's endpoints taking none.
func (s *Supplier) endpoint(path string, query url.Values) string {
	u := *s.base
	u.Path = strings.TrimRight(u.Path, "/") + "/" + strings.TrimLeft(path, "/")
	u.RawPath = ""
	u.RawQuery = query.Encode()
	return u.String()
}
