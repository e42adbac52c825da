package printful

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
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
