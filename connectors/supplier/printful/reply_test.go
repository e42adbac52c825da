package printful

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/connectors/supplier/suppliertest"
	"github.com/dropsync/dropsync/internal/dropsync"
)

// stub answers every request with one reply, except the lookup before a create, which finds
// nothing: a Printful that misbehaves in ways the fake does not.
func stub(t *testing.T, status int, header map[string]string, body string) string {
	t.Helper()
	answer := suppliertest.Answer(status, header, body)
	return suppliertest.Stub(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/orders/@") {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"code":404,"result":"Not Found","error":{"reason":"NotFound","message":"Not Found"}}`))
			return
		}
		answer(w, r)
	})
}

// printfulError is Printful's error envelope.
func printfulError(status int, msg string) string {
	return fmt.Sprintf(`{"code":%d,"result":%q,"error":{"reason":%q,"message":%q}}`,
		status, msg, strings.ReplaceAll(http.StatusText(status), " ", ""), msg)
}

// TestRefusalWording classifies the sentences Printful refuses orders with.
func TestRefusalWording(t *testing.T) {
	tests := []struct {
		name   string
		msg    string
		code   string
		reason string
		sku    string
	}{
		{"unknown sync variant", "Item 1: Sync variant with ID: 4013547999 does not exist.", dropsync.EPERMANENT, dropsync.ReasonUnknownSKU, "@shopify-40011"},
		{"variant id quoted", "Variant with ID: 4013547121 does not exist.", dropsync.EPERMANENT, dropsync.ReasonUnknownSKU, "4013547121"},
		{"discontinued", "Item 0: This product is discontinued", dropsync.EPERMANENT, dropsync.ReasonOutOfStock, "4013547121"},
		{"temporarily out of stock", "Item 1: Variant is temporarily out of stock", dropsync.EPERMANENT, dropsync.ReasonOutOfStock, "@shopify-40011"},
		{"cannot ship", "Recipient: This product can't be shipped to the selected country", dropsync.EPERMANENT, dropsync.ReasonUnsupportedCountry, ""},
		{"does not ship", "Printful does not ship to BR", dropsync.EPERMANENT, dropsync.ReasonUnsupportedCountry, ""},
		{"bad state", "Recipient: State code is missing", dropsync.EPERMANENT, dropsync.ReasonInvalidAddress, ""},
		{"address quoted", "Recipient: Address 123 Shipping Street, Shippington 40003 could not be verified", dropsync.EPERMANENT, dropsync.ReasonInvalidAddress, ""},
		{"something else", "Item 0: Files are missing", dropsync.EINVALID, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(testConfig(stub(t, http.StatusBadRequest, nil, printfulError(400, tt.msg))), nil, fixedNow, zerolog.Nop())
			_, err := s.PlaceOrder(context.Background(), order("example.myshopify.com-20-pf"))
			checkErr(t, err, tt.code, tt.reason)
			if got := dropsync.RefusedSKU(err); got != tt.sku {
				t.Errorf("refused sku: got %q, want %q", got, tt.sku)
			}
		})
	}
}

func TestReplies(t *testing.T) {
	ext := "example.myshopify.com-21-pf"
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		code       string
		retryAfter time.Duration
	}{
		{name: "malformed json", status: 200, body: `{"code":200,"result":{"id":`, code: dropsync.EUNAVAILABLE},
		{name: "no result", status: 200, body: `{"code":200}`, code: dropsync.EUNAVAILABLE},
		{name: "no order id", status: 200, body: `{"code":200,"result":{"external_id":"` + ext + `","status":"pending"}}`, code: dropsync.EUNAVAILABLE},
		{name: "another order", status: 200, body: `{"code":200,"result":{"id":5,"external_id":"other","status":"pending"}}`, code: dropsync.EUNAVAILABLE},
		{name: "429 with Retry-After", status: 429, header: map[string]string{"Retry-After": "30"}, code: dropsync.ERATELIMITED, retryAfter: 30 * time.Second},
		{name: "429 with reset seconds", status: 429, header: map[string]string{"X-Ratelimit-Reset": "42"}, code: dropsync.ERATELIMITED, retryAfter: 42 * time.Second},
		{name: "429 with reset time", status: 429, header: map[string]string{"X-Ratelimit-Reset": strconv.FormatInt(shipTime.Add(90*time.Second).Unix(), 10)}, code: dropsync.ERATELIMITED, retryAfter: 90 * time.Second},
		{name: "429 with message", status: 429, body: printfulError(429, "Too Many Requests. Please try again after 17 seconds."), code: dropsync.ERATELIMITED, retryAfter: 17 * time.Second},
		{name: "429 saying nothing", status: 429, code: dropsync.ERATELIMITED, retryAfter: time.Minute},
		{name: "401", status: 401, body: printfulError(401, "Malformed or invalid access token"), code: dropsync.EUNAUTHORIZED},
		{name: "403", status: 403, code: dropsync.EUNAUTHORIZED},
		{name: "502 html", status: 502, body: `<html>bad gateway</html>`, code: dropsync.EUNAVAILABLE},
		{name: "redirect", status: 302, header: map[string]string{"Location": "https://example.com/"}, code: dropsync.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(testConfig(stub(t, tt.status, tt.header, tt.body)), nil, fixedNow, zerolog.Nop())
			_, err := s.PlaceOrder(context.Background(), order(ext))
			checkErr(t, err, tt.code, "")
			if got, _ := dropsync.RetryAfter(err); got != tt.retryAfter {
				t.Errorf("RetryAfter: got %v, want %v", got, tt.retryAfter)
			}
		})
	}
}

// TestCancelRace: Printful refuses the cancel because the order moved on after it was read.
func TestCancelRace(t *testing.T) {
	reads := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			reads++
			if reads == 1 {
				_, _ = w.Write([]byte(`{"code":200,"result":{"id":7,"external_id":"x","status":"pending","shipments":[]}}`))
				return
			}
			_, _ = w.Write([]byte(`{"code":200,"result":{"id":7,"external_id":"x","status":"fulfilled","items":[{"id":1,"external_id":"4013547121","quantity":1}],
				"shipments":[{"id":9,"carrier":"USPS","tracking_number":"9400","shipped_at":1795860000,"items":[{"item_id":1,"quantity":1}]}]}}`))
		case http.MethodDelete:
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(printfulError(400, "Order with status fulfilled can not be canceled")))
		}
	}))
	t.Cleanup(srv.Close)
	s := New(testConfig(srv.URL), nil, fixedNow, zerolog.Nop())
	_, err := s.CancelOrder(context.Background(), dropsync.SupplierOrderRef{ID: "7", ExternalID: "x"})
	checkErr(t, err, dropsync.ECONFLICT, dropsync.ReasonAlreadyShipped)
}

// TestRefusedCreateIsReadBack: Printful refuses a create whose external_id it holds, so a
// refusal stands only once the read that follows finds no order. A read that fails says
// nothing about the order, and its retryable error is what the pipeline must see: the
// refusal would fail a purchase order Printful may well hold.
func TestRefusedCreateIsReadBack(t *testing.T) {
	ext := "example.myshopify.com-22-pf"
	held := `{"code":200,"result":{"id":121000007,"external_id":"` + ext + `","status":"pending","shipments":[]}}`
	exists := printfulError(400, "Order with this External ID already exists")
	notFound := printfulError(404, "Not Found")
	tests := []struct {
		name string
		// refusal is the create's reply body (status 400) and header.
		refusal string
		header  map[string]string
		// reread answers the read after the refusal; nil means it must never be sent.
		reread     http.HandlerFunc
		code       string
		reason     string
		retryAfter time.Duration
		wantOrder  bool
	}{
		{name: "the read finds the order", refusal: exists,
			reread: suppliertest.Answer(http.StatusOK, nil, held), wantOrder: true},
		{name: "the read finds none", refusal: exists,
			reread: suppliertest.Answer(http.StatusNotFound, nil, notFound), code: dropsync.EINVALID},
		{name: "a refusal with a reason, the read finds none", refusal: printfulError(400, "Item 1: Variant is temporarily out of stock"),
			reread: suppliertest.Answer(http.StatusNotFound, nil, notFound), code: dropsync.EPERMANENT, reason: dropsync.ReasonOutOfStock},
		{name: "the read meets an outage", refusal: exists,
			reread: suppliertest.Answer(http.StatusServiceUnavailable, nil, `<html>down</html>`), code: dropsync.EUNAVAILABLE},
		{name: "a refusal with a reason, the read meets an outage", refusal: printfulError(400, "Item 1: Variant is temporarily out of stock"),
			reread: suppliertest.Answer(http.StatusBadGateway, nil, ``), code: dropsync.EUNAVAILABLE},
		{name: "the read is rate limited", refusal: exists,
			reread:     suppliertest.Answer(http.StatusTooManyRequests, map[string]string{"Retry-After": "23"}, printfulError(429, "Too Many Requests")),
			code:       dropsync.ERATELIMITED,
			retryAfter: 23 * time.Second},
		{name: "the refusal spent the rate limit window", refusal: exists,
			header: map[string]string{"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "31"},
			code:   dropsync.ERATELIMITED, retryAfter: 31 * time.Second},
		{name: "the read times out", refusal: exists,
			reread: func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, code: dropsync.EUNAVAILABLE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			reads, creates := 0, 0
			base := suppliertest.Stub(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				switch r.Method {
				case http.MethodPost:
					creates++
				case http.MethodGet:
					reads++
				}
				n := reads
				mu.Unlock()
				switch {
				case r.Method == http.MethodPost:
					suppliertest.Answer(http.StatusBadRequest, tt.header, tt.refusal)(w, r)
				case n == 1: // the lookup before the create
					suppliertest.Answer(http.StatusNotFound, nil, notFound)(w, r)
				case tt.reread == nil:
					t.Errorf("read %d sent while Printful's window is spent", n)
					w.WriteHeader(http.StatusInternalServerError)
				default:
					tt.reread(w, r)
				}
			})
			cfg := testConfig(base)
			cfg.Timeout = 200 * time.Millisecond
			s := New(cfg, nil, fixedNow, zerolog.Nop())
			got, err := s.PlaceOrder(context.Background(), order(ext))
			if tt.wantOrder {
				if err != nil || got.ID != "121000007" || got.ExternalID != ext {
					t.Fatalf("place: got %+v, %v, want Printful's order 121000007", got, err)
				}
			} else {
				checkErr(t, err, tt.code, tt.reason)
				if retry := dropsync.IsRetryable(err); retry != (tt.code != dropsync.EINVALID && tt.code != dropsync.EPERMANENT) {
					t.Errorf("IsRetryable: got %v for %v", retry, err)
				}
				if got, _ := dropsync.RetryAfter(err); got != tt.retryAfter {
					t.Errorf("RetryAfter: got %v, want %v", got, tt.retryAfter)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if creates != 1 {
				t.Errorf("creates: got %d, want 1", creates)
			}
		})
	}
}
