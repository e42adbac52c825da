package supplierapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dropsync/dropsync/internal/dropsync"
)

func TestSend(t *testing.T) {
	var got *http.Request
	var gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte(`{"error":"short and stout"}`))
	}))
	t.Cleanup(srv.Close)

	rep, err := Send(context.Background(), NewClient(0), time.Second, Request{
		Supplier: "acme", Op: "place order X", Method: http.MethodPost, URL: srv.URL + "/orders",
		Header: http.Header{"Idempotency-Key": {"X"}}, Body: []byte(`{"a":1}`),
	})
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if rep.Status != http.StatusTeapot || rep.Header.Get("Retry-After") != "7" || string(rep.Body) != `{"error":"short and stout"}` {
		t.Errorf("reply: got %d %v %q, want 418 with Retry-After 7 and the body", rep.Status, rep.Header, rep.Body)
	}
	if err := rep.CheckBody("acme", "place order X"); err != nil {
		t.Errorf("CheckBody: got %v, want nil", err)
	}
	for k, want := range map[string]string{
		"Idempotency-Key": "X", "Accept": "application/json", "User-Agent": "dropsync", "Content-Type": "application/json",
	} {
		if v := got.Header.Get(k); v != want {
			t.Errorf("header %s: got %q, want %q", k, v, want)
		}
	}
	if gotBody != `{"a":1}` {
		t.Errorf("body: got %q, want %q", gotBody, `{"a":1}`)
	}

	// No body, no Content-Type.
	if _, err := Send(context.Background(), NewClient(0), time.Second, Request{Supplier: "acme", Op: "get", Method: http.MethodGet, URL: srv.URL}); err != nil {
		t.Fatalf("send: %v", err)
	}
	if v := got.Header.Get("Content-Type"); v != "" {
		t.Errorf("Content-Type without a body: got %q, want none", v)
	}
}

func TestSendErrors(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	redirect := httptest.NewServer(http.RedirectHandler("https://elsewhere.example/", http.StatusFound))
	t.Cleanup(redirect.Close)
	huge := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat(" ", MaxResponseBytes+10)))
	}))
	t.Cleanup(huge.Close)
	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "200")
		_, _ = w.Write([]byte(`{"id":`))
	}))
	t.Cleanup(cut.Close)

	tests := []struct {
		name     string
		url      string
		sendCode string // "" when Send succeeds
		status   int
		bodyCode string // CheckBody's code; "" for none
	}{
		{name: "bad url", url: "http://[::1", sendCode: dropsync.EINVALID},
		{name: "refused", url: closed.URL, sendCode: dropsync.EUNAVAILABLE},
		{name: "redirect not followed", url: redirect.URL, status: http.StatusFound},
		{name: "over the limit", url: huge.URL, status: http.StatusOK, bodyCode: dropsync.EUNAVAILABLE},
		{name: "cut short", url: cut.URL, status: http.StatusOK, bodyCode: dropsync.EUNAVAILABLE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Send(context.Background(), NewClient(0), time.Second, Request{Supplier: "acme", Op: "get order 1", Method: http.MethodGet, URL: tt.url})
			if got := dropsync.ErrorCode(err); err != nil && got != tt.sendCode || err == nil && tt.sendCode != "" {
				t.Fatalf("send: got %v (%q), want code %q", err, got, tt.sendCode)
			}
			if err != nil {
				if msg := dropsync.ErrorMessage(err); !strings.Contains(msg, "supplier acme: get order 1") {
					t.Errorf("message: got %q, want it to name the supplier and operation", msg)
				}
				if tt.sendCode == dropsync.EUNAVAILABLE && strings.Contains(err.Error(), tt.url) {
					t.Errorf("error %q repeats the URL", err)
				}
				return
			}
			if rep.Status != tt.status {
				t.Errorf("status: got %d, want %d", rep.Status, tt.status)
			}
			berr := rep.CheckBody("acme", "get order 1")
			if got := dropsync.ErrorCode(berr); berr != nil && got != tt.bodyCode || berr == nil && tt.bodyCode != "" {
				t.Errorf("CheckBody: got %v, want code %q", berr, tt.bodyCode)
			}
		})
	}
}

func TestSendHonoursContext(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Send(ctx, NewClient(0), time.Minute, Request{Supplier: "acme", Op: "get", Method: http.MethodGet, URL: srv.URL})
	if dropsync.ErrorCode(err) != dropsync.EUNAVAILABLE || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v, want EUNAVAILABLE caused by context.Canceled", err)
	}
}

func TestStatusError(t *testing.T) {
	tests := []struct {
		status int
		code   string // "" for nil
		hint   bool   // the message says to check base_url
	}{
		{http.StatusUnauthorized, dropsync.EUNAUTHORIZED, false},
		{http.StatusForbidden, dropsync.EUNAUTHORIZED, false},
		{http.StatusTooManyRequests, dropsync.ERATELIMITED, false},
		{http.StatusRequestTimeout, dropsync.EUNAVAILABLE, false},
		{http.StatusInternalServerError, dropsync.EUNAVAILABLE, false},
		{http.StatusGatewayTimeout, dropsync.EUNAVAILABLE, false},
		{http.StatusMovedPermanently, dropsync.EINVALID, true},
		{http.StatusTemporaryRedirect, dropsync.EINVALID, true},
		{http.StatusBadRequest, "", false},
		{http.StatusNotFound, "", false},
		{http.StatusConflict, "", false},
		{http.StatusUnprocessableEntity, "", false},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			e := StatusError(tt.status, "supplier acme: get: status")
			if tt.code == "" {
				if e != nil {
					t.Fatalf("got %v, want nil", e)
				}
				return
			}
			if e == nil || e.Code != tt.code {
				t.Fatalf("got %v, want code %q", e, tt.code)
			}
			if got := strings.HasSuffix(e.Message, " (redirected; check base_url)"); got != tt.hint {
				t.Errorf("message %q: base_url hint %v, want %v", e.Message, got, tt.hint)
			}
		})
	}
	if got, want := StatusMessage("acme", "get order 1", 500, "down"), "supplier acme: get order 1: status 500: down"; got != want {
		t.Errorf("StatusMessage: got %q, want %q", got, want)
	}
	if got, want := StatusMessage("acme", "get order 1", 500, ""), "supplier acme: get order 1: status 500"; got != want {
		t.Errorf("StatusMessage without detail: got %q, want %q", got, want)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"absent", "", 0, false},
		{"seconds", "120", 2 * time.Minute, true},
		{"fraction", "0.25", 250 * time.Millisecond, true},
		{"padded", " 3 ", 3 * time.Second, true},
		{"zero", "0", 0, true},
		{"negative", "-5", -5 * time.Second, true},
		{"date", "Sat, 28 Nov 2026 10:00:30 GMT", 30 * time.Second, true},
		{"date in the past", "Sat, 28 Nov 2026 09:00:00 GMT", -time.Hour, true},
		{"date far ahead", "Mon, 28 Nov 2050 10:00:00 GMT", MaxRetryAfter, true},
		{"garbage", "soon", 0, false},
		{"not a number", "NaN", 0, false},
		{"infinite", "+Inf", 0, false},
		{"huge", "1e300", MaxRetryAfter, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := RetryAfter(tt.value, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("RetryAfter(%q): got %v, %v, want %v, %v", tt.value, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestClampWait(t *testing.T) {
	tests := []struct{ in, want time.Duration }{
		{-time.Hour, time.Second},
		{0, time.Second},
		{500 * time.Millisecond, time.Second},
		{time.Second, time.Second},
		{90 * time.Second, 90 * time.Second},
		{MaxRetryAfter + time.Second, MaxRetryAfter},
	}
	for _, tt := range tests {
		if got := ClampWait(tt.in); got != tt.want {
			t.Errorf("ClampWait(%v): got %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestScrub(t *testing.T) {
	long := strings.Repeat("é", MaxMessage+5)
	tests := []struct {
		name   string
		msg    string
		redact []string
		want   string
	}{
		{"quoted address", "Recipient: no street (Steve Shipper, Shippington 40003)", []string{"Steve Shipper", " Shippington ", "40003"},
			"Recipient: no street ([redacted], [redacted] [redacted])"},
		{"short values stay", "Ship to NY 1", []string{"NY", "1", ""}, "Ship to NY 1"},
		{"trimmed", "  out of stock \n", nil, "out of stock"},
		{"any case", "Recipient STEVE SHIPPER in shippington", []string{"Steve Shipper", "Shippington"},
			"Recipient [redacted] in [redacted]"},
		{"any case beyond ASCII", "Empfänger: ZOË ÅBERG", []string{"Zoë Åberg"}, "Empfänger: [redacted]"},
		{"longest value first", "ship to Acme Ltd, Unit 5", []string{"Acme", "Acme Ltd, Unit 5"}, "ship to [redacted]"},
		{"pattern characters are literal", "phone +1 (555) 0100 or 1x55500100", []string{"+1 (555) 0100", "1.555.0100"},
			"phone [redacted] or 1x55500100"},
		{"cut by characters", long, nil, strings.Repeat("é", MaxMessage) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Scrub(tt.msg, tt.redact); got != tt.want {
				t.Errorf("Scrub: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestJoinURL(t *testing.T) {
	tests := []struct {
		name     string
		base     string
		segments []string
		query    string
		want     string
	}{
		{"bare host", "https://api.acme.example", []string{"orders"}, "", "https://api.acme.example/orders"},
		{"trailing slash", "https://api.acme.example/", []string{"orders"}, "", "https://api.acme.example/orders"},
		{"prefix", "https://acme.example/api/v1", []string{"orders", "SO-1", "cancel"}, "", "https://acme.example/api/v1/orders/SO-1/cancel"},
		{"prefix and trailing slash", "https://acme.example/api/v1/", []string{"orders"}, "", "https://acme.example/api/v1/orders"},
		{"id of dots", "https://api.acme.example/v1", []string{"orders", ".."}, "", "https://api.acme.example/v1/orders/.."},
		{"id with slash, space and @", "https://api.acme.example", []string{"orders", "@SO/1 2"}, "", "https://api.acme.example/orders/@SO%2F1%202"},
		{"escaped prefix", "https://acme.example/shop%20api", []string{"orders"}, "", "https://acme.example/shop%20api/orders"},
		{"query", "http://127.0.0.1:8081", []string{"inventory"}, "skus=A,B", "http://127.0.0.1:8081/inventory?skus=A,B"},
		{"base query kept", "https://acme.example/api?tenant=7", []string{"inventory"}, "skus=A", "https://acme.example/api/inventory?tenant=7&skus=A"},
		{"base query alone", "https://acme.example/api?tenant=7", []string{"orders"}, "", "https://acme.example/api/orders?tenant=7"},
		{"fragment dropped", "https://acme.example/api#top", []string{"orders"}, "", "https://acme.example/api/orders"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, err := ParseBaseURL(tt.base)
			if err != nil {
				t.Fatalf("ParseBaseURL(%q): %v", tt.base, err)
			}
			if got := JoinURL(base, tt.segments, tt.query); got != tt.want {
				t.Errorf("JoinURL: got %q, want %q", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"api.acme.example", "ftp://acme.example", "http://", "https://acme.example:port"} {
		if _, err := ParseBaseURL(bad); err == nil {
			t.Errorf("ParseBaseURL(%q): got no error", bad)
		}
	}
}

func TestEncodeJSON(t *testing.T) {
	got, err := EncodeJSON(map[string]string{"message": "Tea & Co <3"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"message":"Tea & Co <3"}`; string(got) != want {
		t.Errorf("EncodeJSON: got %s, want %s", got, want)
	}
}

func TestCheckOrder(t *testing.T) {
	item := []dropsync.SupplierItem{{SKU: "A", Quantity: 1}}
	tests := []struct {
		name string
		req  dropsync.SupplierOrderRequest
		msg  string // "" for no error
	}{
		{"complete", dropsync.SupplierOrderRequest{ExternalID: "po-1", Items: item}, ""},
		{"no external id", dropsync.SupplierOrderRequest{Items: item}, "supplier acme: place order: no external id"},
		{"no items", dropsync.SupplierOrderRequest{ExternalID: "po-1"}, "supplier acme: place order po-1: no items"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckOrder("acme", tt.req)
			if tt.msg == "" {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			if dropsync.ErrorCode(err) != dropsync.EINVALID || dropsync.ErrorMessage(err) != tt.msg {
				t.Errorf("got %v, want EINVALID %q", err, tt.msg)
			}
		})
	}
}

func TestPersonalDataAndRefName(t *testing.T) {
	req := dropsync.SupplierOrderRequest{Email: "steve@example.com", ShippingAddress: dropsync.Address{
		FirstName: "Steve", LastName: "Shipper", Address1: "123 Shipping Street", City: "Shippington", Zip: "40003", Phone: "555-555-0100",
	}}
	msg := Scrub("Steve Shipper, 123 Shipping Street, Shippington 40003, 555-555-0100, steve@example.com", PersonalData(req))
	for _, pii := range []string{"Steve", "Shipper", "Shipping Street", "Shippington", "40003", "555", "steve@"} {
		if strings.Contains(msg, pii) {
			t.Errorf("scrubbed message %q holds %q", msg, pii)
		}
	}
	// The forms a connector sends are scrubbed too once it lists them.
	echo := "phone 5555550100 invalid for STEVE SHIPPER"
	if got, want := Scrub(echo, PersonalData(req, "5555550100")), "phone [redacted] invalid for [redacted]"; got != want {
		t.Errorf("Scrub with the sent forms: got %q, want %q", got, want)
	}
	if got := RefName(dropsync.SupplierOrderRef{ID: "SO-1", ExternalID: "po-1"}); got != "SO-1" {
		t.Errorf("RefName with id: got %q, want SO-1", got)
	}
	if got := RefName(dropsync.SupplierOrderRef{ExternalID: "po-1"}); got != "external po-1" {
		t.Errorf("RefName without id: got %q, want %q", got, "external po-1")
	}
}

func TestFound(t *testing.T) {
	other := dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier acme: get: status 503")
	tests := []struct {
		name      string
		err       error
		wantFound bool
		wantErr   error
	}{
		{"found", nil, true, nil},
		{"none", dropsync.Errorf(dropsync.ENOTFOUND, "supplier acme: get: status 404"), false, nil},
		{"failed", other, false, other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found, err := Found(tt.err)
			if found != tt.wantFound || err != tt.wantErr {
				t.Errorf("Found(%v): got %v, %v, want %v, %v", tt.err, found, err, tt.wantFound, tt.wantErr)
			}
		})
	}
}

func TestCheckURLToken(t *testing.T) {
	tests := []struct {
		name   string
		query  url.Values
		secret string
		ok     bool
	}{
		{"the secret", url.Values{TokenParam: {"s3cret"}}, "s3cret", true},
		{"wrong token", url.Values{TokenParam: {"guess"}}, "s3cret", false},
		{"a prefix of the secret", url.Values{TokenParam: {"s3cre"}}, "s3cret", false},
		{"no token", url.Values{}, "s3cret", false},
		{"nil query", nil, "s3cret", false},
		{"no secret configured", url.Values{TokenParam: {""}}, "", false},
		{"no secret configured, any token", url.Values{TokenParam: {"x"}}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckURLToken("acme", tt.query, tt.secret)
			if tt.ok {
				if err != nil {
					t.Errorf("got %v, want nil", err)
				}
				return
			}
			if got := dropsync.ErrorCode(err); got != dropsync.EUNAUTHORIZED {
				t.Errorf("code: got %q (%v), want %q", got, err, dropsync.EUNAUTHORIZED)
			}
			if msg := dropsync.ErrorMessage(err); !strings.Contains(msg, "supplier acme") || strings.Contains(msg, "s3cret") {
				t.Errorf("message %q: want it to name the supplier and not the secret", msg)
			}
		})
	}
}
