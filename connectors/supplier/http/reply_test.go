package http

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/connectors/supplier/supplierapi"
	shared "github.com/dropsync/dropsync/connectors/supplier/suppliertest"
	"github.com/dropsync/dropsync/internal/dropsync"
)

func TestReplies(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	ext := "example.myshopify.com-20-acme"
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		code       string
		reason     string
		retryAfter time.Duration
	}{
		{
			name:    "malformed json on 201",
			handler: shared.Answer(http.StatusCreated, nil, `{"id": "SO-1", "status": `),
			code:    dropsync.EUNAVAILABLE,
		},
		{
			name: "truncated body on 201",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "200")
				w.WriteHeader(http.StatusCreated)
				_, _ = w.Write([]byte(`{"id": "SO-1", "external_id": "`))
			},
			code: dropsync.EUNAVAILABLE,
		},
		{
			name: "body over the limit",
			// Valid JSON within the first MiB: only the limit itself refuses it.
			handler: shared.Answer(http.StatusCreated, nil, `{"id": "SO-1", "external_id": "`+ext+`", "status": "accepted"}`+strings.Repeat(" ", supplierapi.MaxResponseBytes)),
			code:    dropsync.EUNAVAILABLE,
		},
		{
			name:    "no order id",
			handler: shared.Answer(http.StatusCreated, nil, `{"external_id": "`+ext+`", "status": "accepted"}`),
			code:    dropsync.EUNAVAILABLE,
		},
		{
			name:    "another order",
			handler: shared.Answer(http.StatusOK, nil, `{"id": "SO-1", "external_id": "example.myshopify.com-21-acme", "status": "accepted"}`),
			code:    dropsync.EUNAVAILABLE,
		},
		{
			name:       "429 without Retry-After",
			handler:    shared.Answer(http.StatusTooManyRequests, nil, ``),
			code:       dropsync.ERATELIMITED,
			retryAfter: defaultRetryAfter,
		},
		{
			name:       "429 with fractional seconds",
			handler:    shared.Answer(http.StatusTooManyRequests, map[string]string{"Retry-After": "1.5"}, ``),
			code:       dropsync.ERATELIMITED,
			retryAfter: 1500 * time.Millisecond,
		},
		{
			name:       "429 with a date",
			handler:    shared.Answer(http.StatusTooManyRequests, map[string]string{"Retry-After": now.Add(2 * time.Minute).Format(http.TimeFormat)}, ``),
			code:       dropsync.ERATELIMITED,
			retryAfter: 2 * time.Minute,
		},
		{
			name:    "422 with a garbled body",
			handler: shared.Answer(http.StatusUnprocessableEntity, nil, `<html>no</html>`),
			code:    dropsync.EPERMANENT,
		},
		{
			name: "422 quoting the address",
			handler: shared.Answer(http.StatusUnprocessableEntity, nil,
				`{"error": {"code": "invalid_address", "message": "cannot deliver to 123 Shipping Street, Shippington 40003 (Steve Shipper, 555-555-0100)"}}`),
			code:   dropsync.EPERMANENT,
			reason: dropsync.ReasonInvalidAddress,
		},
		{
			name:    "408",
			handler: shared.Answer(http.StatusRequestTimeout, nil, ``),
			code:    dropsync.EUNAVAILABLE,
		},
		{
			name: "redirect",
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "https://api.acme.example/orders", http.StatusFound)
			},
			code: dropsync.EINVALID,
		},
		{
			name:    "other 4xx",
			handler: shared.Answer(http.StatusTeapot, nil, `{"error": {"code": "teapot", "message": "short and stout"}}`),
			code:    dropsync.EINVALID,
			reason:  "teapot",
		},
		{
			name:    "503",
			handler: shared.Answer(http.StatusServiceUnavailable, nil, `upstream down`),
			code:    dropsync.EUNAVAILABLE,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSupplier(shared.Stub(t, tt.handler))
			s.now = func() time.Time { return now }
			_, err := s.PlaceOrder(context.Background(), order(ext))
			checkErr(t, err, tt.code, tt.reason)
			got, _ := dropsync.RetryAfter(err)
			if got != tt.retryAfter {
				t.Errorf("RetryAfter: got %v, want %v", got, tt.retryAfter)
			}
		})
	}
}

func TestConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	_, err := newSupplier(base).GetOrder(context.Background(), dropsync.SupplierOrderRef{ID: "SO-1"})
	checkErr(t, err, dropsync.EUNAVAILABLE, "")
}

func TestShipmentTimesAreUTC(t *testing.T) {
	base := shared.Stub(t, shared.Answer(http.StatusOK, nil, `{"id": "SO-1", "external_id": "x", "status": "shipped",
		"shipments": [{"id": "SH-1", "carrier": "DHL", "tracking_number": "JD1", "shipped_at": "2026-11-28T11:00:00+01:00"}]}`))
	got, err := newSupplier(base).GetOrder(context.Background(), dropsync.SupplierOrderRef{ID: "SO-1"})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	sh := got.Shipments[0].ShippedAt
	if want := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC); !sh.Equal(want) || sh.Location() != time.UTC {
		t.Errorf("shipped_at: got %v, want %v", sh, want)
	}
}

func TestInventoryMalformed(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"cost not a decimal", `{"items": [{"sku": "A", "available": 1, "unit_cost": "cheap", "currency": "USD"}]}`},
		{"no cost", `{"items": [{"sku": "A", "available": 1, "currency": "USD"}]}`},
		{"not json", `items: A`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSupplier(shared.Stub(t, shared.Answer(http.StatusOK, nil, tt.body)))
			_, err := s.Inventory(context.Background(), []string{"A"})
			checkErr(t, err, dropsync.EUNAVAILABLE, "")
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		value string
		want  time.Duration
	}{
		{"absent", "", defaultRetryAfter},
		{"seconds", "120", 2 * time.Minute},
		{"fraction", "0.25", 250 * time.Millisecond},
		{"padded", " 3 ", 3 * time.Second},
		{"zero", "0", time.Second},
		{"negative", "-5", time.Second},
		{"date", "Sat, 28 Nov 2026 10:00:30 GMT", 30 * time.Second},
		{"date in the past", "Sat, 28 Nov 2026 09:00:00 GMT", time.Second},
		{"garbage", "soon", defaultRetryAfter},
		{"not a number", "NaN", defaultRetryAfter},
		{"huge", "1e300", supplierapi.MaxRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseRetryAfter(tt.value, now); got != tt.want {
				t.Errorf("parseRetryAfter(%q): got %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestFormatAmount(t *testing.T) {
	tests := []struct{ in, want string }{
		{"4.2", "4.20"},
		{"4.20", "4.20"},
		{"5", "5.00"},
		{"0.125", "0.125"},
		{"0", "0.00"},
		{"1234567.5", "1234567.50"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := formatAmount(decimal.RequireFromString(tt.in)); got != tt.want {
				t.Errorf("formatAmount(%s): got %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
