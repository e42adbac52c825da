package printfultest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/dropsync/dropsync/connectors/supplier/suppliertest"
)

var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func newServer(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Token == "" {
		opts.Token = "tok"
	}
	if opts.Variants == nil {
		opts.Variants = []Variant{{SyncVariantID: 11, ExternalID: "ext-11", CatalogVariantID: 4011, Name: "Tee", Price: "9.95", InStock: true}}
	}
	s := NewServer(opts)
	t.Cleanup(s.Close)
	return s
}

// call sends one request and decodes Printful's envelope.
func call(t *testing.T, s *Server, method, path string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	var env map[string]any
	status, h := suppliertest.Call(t, method, s.URL()+path, http.Header{"Authorization": {"Bearer tok"}}, body, &env)
	return status, h, env
}

func placeBody(ext string) map[string]any {
	return map[string]any{
		"external_id": ext,
		"recipient":   map[string]any{"name": "A B", "address1": "1 Main St", "city": "Town", "state_code": "KY", "country_code": "US", "zip": "40003"},
		"items":       []map[string]any{{"sync_variant_id": 11, "quantity": 1, "external_id": "11"}},
	}
}

func TestOrdersByExternalID(t *testing.T) {
	s := newServer(t, Options{})
	status, _, env := call(t, s, http.MethodPost, "/orders?confirm=true", placeBody("po-1"))
	result, _ := env["result"].(map[string]any)
	if status != http.StatusOK || env["code"] != float64(200) || result["status"] != StatusPending || result["external_id"] != "po-1" {
		t.Fatalf("create: got %d %v", status, env)
	}
	status, _, env = call(t, s, http.MethodPost, "/orders", placeBody("po-1"))
	if status != http.StatusBadRequest || env["error"].(map[string]any)["message"] != "Order with this External ID already exists" {
		t.Errorf("second create with the external id: got %d %v", status, env)
	}
	status, _, env = call(t, s, http.MethodGet, "/orders/@po-1", nil)
	if status != http.StatusOK || env["result"].(map[string]any)["id"] != result["id"] {
		t.Errorf("get by external id: got %d %v", status, env)
	}
	if status, _, _ = call(t, s, http.MethodGet, "/orders/@po-2", nil); status != http.StatusNotFound {
		t.Errorf("get an unknown external id: got %d, want 404", status)
	}
	if s.Created() != 1 || s.PlaceCount() != 2 {
		t.Errorf("created, placed: got %d, %d, want 1, 2", s.Created(), s.PlaceCount())
	}
	if err := s.Ship("po-1"); err != nil {
		t.Fatal(err)
	}
	if status, _, _ = call(t, s, http.MethodDelete, "/orders/@po-1", nil); status != http.StatusBadRequest {
		t.Errorf("cancel a fulfilled order: got %d, want 400", status)
	}
}

func TestRateLimitHeaders(t *testing.T) {
	clk := suppliertest.NewClock(t0)
	s := newServer(t, Options{RateLimit: 2, Now: clk.Now})
	_, h, _ := call(t, s, http.MethodGet, "/store/variants/11", nil)
	if h.Get("X-Ratelimit-Limit") != "2" || h.Get("X-Ratelimit-Remaining") != "1" || h.Get("X-Ratelimit-Reset") != "60" {
		t.Errorf("headers after one call: got %v", h)
	}
	call(t, s, http.MethodGet, "/store/variants/11", nil)
	clk.Add(20 * time.Second)
	status, h, _ := call(t, s, http.MethodGet, "/store/variants/11", nil)
	if status != http.StatusTooManyRequests || h.Get("X-Ratelimit-Reset") != "40" {
		t.Errorf("third call: got %d reset %q, want 429 in 40s", status, h.Get("X-Ratelimit-Reset"))
	}
	clk.Add(40 * time.Second)
	if status, _, _ = call(t, s, http.MethodGet, "/store/variants/11", nil); status != http.StatusOK {
		t.Errorf("call in the next window: got %d, want 200", status)
	}
}

func TestAutoShipDeliversEvents(t *testing.T) {
	got := make(chan *http.Request, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		got <- r
	}))
	t.Cleanup(hook.Close)
	s := newServer(t, Options{WebhookURL: hook.URL + "/webhooks/suppliers/pf", WebhookSecret: "sec", AutoShip: &AutoShip{After: 10 * time.Millisecond}})
	call(t, s, http.MethodPost, "/orders", placeBody("draft-1")) // a draft is never shipped
	call(t, s, http.MethodPost, "/orders?confirm=1", placeBody("po-2"))
	select {
	case r := <-got:
		var ev struct {
			Type string `json:"type"`
			Data struct {
				Order    Order    `json:"order"`
				Shipment Shipment `json:"shipment"`
			} `json:"data"`
		}
		_ = json.NewDecoder(r.Body).Decode(&ev)
		if r.URL.Query().Get("token") != "sec" || ev.Type != "package_shipped" || ev.Data.Order.ExternalID != "po-2" ||
			ev.Data.Order.Status != StatusFulfilled || ev.Data.Shipment.TrackingNumber == "" {
			t.Errorf("delivery: got token %q and %+v", r.URL.Query().Get("token"), ev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no shipment event")
	}
	if o, _ := s.Order("draft-1"); o.Status != StatusDraft {
		t.Errorf("draft: got %s", o.Status)
	}
	if o, _ := s.Order("po-2"); len(o.Shipments) != 1 || strconv.FormatInt(o.Shipments[0].Items[0].ItemID, 10) != strconv.FormatInt(o.Items[0].ID, 10) {
		t.Errorf("shipped order: got %+v", o)
	}
}
