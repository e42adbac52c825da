package shopify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/dropsync/dropsync/connectors/shopify"
	"github.com/dropsync/dropsync/connectors/shopify/shopifytest"
	"github.com/dropsync/dropsync/internal/dropsync"
)

const (
	shop   = "test-store.myshopify.com"
	secret = "shpss_test_secret"
)

type sink struct {
	mu     sync.Mutex
	events []dropsync.StorefrontEvent
	err    error
}

func (s *sink) AcceptStorefrontEvent(_ context.Context, ev dropsync.StorefrontEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.events = append(s.events, ev)
	return nil
}

func orderBody(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(shopifytest.SampleOrder(450789469, shopifytest.WithUnicodeCustomer()))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestReceiver(t *testing.T) {
	body := orderBody(t)
	big := bytes.Repeat([]byte("x"), len(body)+4096)
	for _, tc := range []struct {
		name      string
		method    string
		topic     string
		shop      string
		hmac      string
		body      []byte
		sinkErr   error
		status    int
		delivered bool
	}{
		{name: "valid order", topic: "orders/create", body: body, status: 200, delivered: true},
		{name: "topic header case", topic: "Orders/Create", body: body, status: 200, delivered: true},
		{name: "wrong secret", topic: "orders/create", body: body, hmac: shopifytest.Sign("other", body), status: 401},
		{name: "missing signature", topic: "orders/create", body: body, hmac: "-", status: 401},
		{name: "unknown shop", topic: "orders/create", body: body, shop: "evil.myshopify.com", status: 401},
		{name: "body over the limit", topic: "orders/create", body: big, status: 413},
		{name: "unparseable body, valid signature", topic: "orders/create", body: []byte(`{"id": "nope`), status: 400},
		{name: "not an order", topic: "orders/create", body: []byte(`{"hello":"world"}`), status: 400},
		{name: "redis down", topic: "orders/create", body: body, sinkErr: dropsync.Errorf(dropsync.EUNAVAILABLE, "redis"), status: 503},
		{name: "topic dropsync ignores", topic: "products/update", body: []byte(`{"id":1}`), status: 200},
		{name: "uninstall", topic: "app/uninstalled", body: []byte(`{"id":1}`), status: 200, delivered: true},
		{name: "redact", topic: "customers/redact", body: []byte(`{"customer":{"id":5,"email":"a@b.c"},"orders_to_redact":[1,2]}`), status: 200, delivered: true},
		{name: "redact naming no one", topic: "customers/redact", body: []byte(`{"customer":{}}`), status: 400},
		{name: "GET", method: "GET", topic: "orders/create", body: nil, status: 405},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &sink{err: tc.sinkErr}
			rc := shopify.NewReceiver(map[string]string{shop: secret}, s, int64(2048+len(body)), nil)
			method := tc.method
			if method == "" {
				method = "POST"
			}
			req := httptest.NewRequest(method, "/webhooks/shopify", bytes.NewReader(tc.body))
			req.Header.Set("X-Shopify-Topic", tc.topic)
			domain := shop
			if tc.shop != "" {
				domain = tc.shop
			}
			req.Header.Set("X-Shopify-Shop-Domain", domain)
			req.Header.Set("X-Shopify-Webhook-Id", "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
			switch tc.hmac {
			case "":
				req.Header.Set("X-Shopify-Hmac-Sha256", shopifytest.Sign(secret, tc.body))
			case "-":
			default:
				req.Header.Set("X-Shopify-Hmac-Sha256", tc.hmac)
			}
			rec := httptest.NewRecorder()
			rc.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d (body %s)", rec.Code, tc.status, rec.Body)
			}
			if got := len(s.events) == 1; got != tc.delivered {
				t.Fatalf("delivered %v, want %v", got, tc.delivered)
			}
			if rec.Code >= 400 {
				var e struct {
					Error struct{ Code, Message string } `json:"error"`
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Code == "" {
					t.Fatalf("error body %q is not {\"error\":{\"code\",\"message\"}}", rec.Body)
				}
				if strings.Contains(rec.Body.String(), "Zoë") {
					t.Fatalf("error body leaks customer data: %s", rec.Body)
				}
			}
		})
	}
}

func TestReceiverEventCarriesSale(t *testing.T) {
	s := &sink{}
	rc := shopify.NewReceiver(map[string]string{shop: secret}, s, 1<<20, nil)
	body := orderBody(t)
	req := httptest.NewRequest("POST", "/webhooks/shopify", bytes.NewReader(body))
	req.Header.Set("x-shopify-topic", "orders/create")
	req.Header.Set("x-shopify-shop-domain", shop)
	req.Header.Set("x-shopify-webhook-id", "wh-1")
	req.Header.Set("x-shopify-hmac-sha256", shopifytest.Sign(secret, body))
	rec := httptest.NewRecorder()
	rc.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || len(s.events) != 1 {
		t.Fatalf("status %d, events %d", rec.Code, len(s.events))
	}
	ev := s.events[0]
	if ev.Shop != shop || ev.WebhookID != "wh-1" || ev.Sale == nil || ev.Sale.ID != 450789469 || ev.Source != dropsync.SourceWebhook {
		t.Fatalf("event %+v", ev)
	}
}
