package suppliertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	shared "github.com/dropsync/dropsync/connectors/supplier/suppliertest"
)

const token = "acme-token"

var now = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func newServer(t *testing.T, opts Options) *Server {
	t.Helper()
	opts.Token = token
	if opts.Catalog == nil {
		opts.Catalog = map[string]Item{
			"TEE": {Available: 5, UnitCost: "4.20", Currency: "USD"},
			"MUG": {Available: 2, UnitCost: "3.10", Currency: "USD"},
		}
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return now }
	}
	s := NewServer(opts)
	t.Cleanup(s.Close)
	return s
}

func placeBody(ext string) string {
	return `{"external_id":"` + ext + `","order_name":"#1001","currency":"USD",
		"shipping_address":{"name":"Steve Shipper","address1":"123 Shipping Street","city":"Shippington","zip":"40003","country_code":"US"},
		"items":[{"sku":"TEE","quantity":2,"unit_cost":"4.20"},{"sku":"MUG","quantity":1,"unit_cost":"3.10"}],
		"shipping_method":"standard","note":""}`
}

// call sends a request as dropsync would and returns the status and the decoded body.
func call(t *testing.T, s *Server, method, path, key, body string) (int, map[string]any) {
	t.Helper()
	h := http.Header{"Authorization": {"Bearer " + token}}
	if key != "" {
		h.Set("Idempotency-Key", key)
	}
	var out map[string]any
	status, _ := shared.Call(t, method, s.URL()+path, h, []byte(body), &out)
	return status, out
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestPlace(t *testing.T) {
	tests := []struct {
		name   string
		key    string // Idempotency-Key; the external id when empty
		body   string
		status int
		code   string
	}{
		{name: "accepted", body: placeBody("po-1"), status: http.StatusCreated},
		{name: "malformed json", body: `{"external_id":`, status: http.StatusBadRequest, code: "invalid_request"},
		{name: "key differs", key: "po-2", body: placeBody("po-1"), status: http.StatusBadRequest, code: "invalid_request"},
		{name: "no order name", body: strings.Replace(placeBody("po-1"), `"#1001"`, `""`, 1), status: http.StatusBadRequest, code: "invalid_request"},
		{name: "cost as a number", body: strings.Replace(placeBody("po-1"), `"4.20"`, `4.20`, 1), status: http.StatusBadRequest, code: "invalid_request"},
		{name: "zero quantity", body: strings.Replace(placeBody("po-1"), `"quantity":2`, `"quantity":0`, 1), status: http.StatusBadRequest, code: "invalid_request"},
		{name: "unknown sku", body: strings.Replace(placeBody("po-1"), `"MUG"`, `"CAP"`, 1), status: http.StatusUnprocessableEntity, code: "unknown_sku"},
		{name: "out of stock", body: strings.Replace(placeBody("po-1"), `"quantity":1`, `"quantity":3`, 1), status: http.StatusUnprocessableEntity, code: "out_of_stock"},
		{name: "no city", body: strings.Replace(placeBody("po-1"), `"Shippington"`, `" "`, 1), status: http.StatusUnprocessableEntity, code: "invalid_address"},
		{name: "unsupported country", body: strings.Replace(placeBody("po-1"), `"US"`, `"br"`, 1), status: http.StatusUnprocessableEntity, code: "unsupported_country"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, Options{Countries: []string{"us", "CA"}})
			key := tt.key
			if key == "" {
				key = "po-1"
			}
			status, body := call(t, s, http.MethodPost, "/orders", key, tt.body)
			if status != tt.status || errCode(body) != tt.code {
				t.Fatalf("POST /orders: got %d %q, want %d %q (%v)", status, errCode(body), tt.status, tt.code, body)
			}
			wantCreated := 0
			if tt.status == http.StatusCreated {
				wantCreated = 1
				if body["id"] != "SO-1001" || body["status"] != StatusAccepted || body["shipments"] == nil {
					t.Errorf("order: got %v, want SO-1001 accepted with shipments []", body)
				}
			}
			if got := s.Created(); got != wantCreated {
				t.Errorf("Created: got %d, want %d", got, wantCreated)
			}
		})
	}
}

func TestPlaceIsIdempotentUnderConcurrency(t *testing.T) {
	s := newServer(t, Options{})
	const n = 20
	var wg sync.WaitGroup
	ids := make([]string, n)
	statuses := make([]int, n)
	for i := range n {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, s.URL()+"/orders", strings.NewReader(placeBody("po-1")))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Idempotency-Key", "po-1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			var o Order
			_ = json.NewDecoder(resp.Body).Decode(&o)
			ids[i], statuses[i] = o.ID, resp.StatusCode
		})
	}
	wg.Wait()
	created := 0
	for i := range n {
		if ids[i] != "SO-1001" {
			t.Errorf("request %d: got id %q, want SO-1001", i, ids[i])
		}
		switch statuses[i] {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Errorf("request %d: got status %d, want 200 or 201", i, statuses[i])
		}
	}
	if created != 1 || s.Created() != 1 || s.PlaceCount() != n {
		t.Errorf("got %d 201s, Created %d, PlaceCount %d; want 1, 1, %d", created, s.Created(), s.PlaceCount(), n)
	}
	// Stock was taken once.
	_, inv := call(t, s, http.MethodGet, "/inventory?skus=TEE", "", "")
	if got := inv["items"].([]any)[0].(map[string]any)["available"]; got != 3.0 {
		t.Errorf("TEE available: got %v, want 3", got)
	}
}

func TestAuth(t *testing.T) {
	s := newServer(t, Options{})
	for _, auth := range []string{"", "Bearer wrong", "Basic " + token, token} {
		req, _ := http.NewRequest(http.MethodGet, s.URL()+"/inventory?skus=TEE", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: got %d, want 401", auth, resp.StatusCode)
		}
	}
}

func TestFaults(t *testing.T) {
	s := newServer(t, Options{})
	s.FailNext(2, http.StatusTooManyRequests)
	for i := range 2 {
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/orders", strings.NewReader(placeBody("po-1")))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Idempotency-Key", "po-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "7" {
			t.Errorf("attempt %d: got %d Retry-After %q, want 429 Retry-After 7", i, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
	}
	s.AcceptThenFail(1)
	if status, _ := call(t, s, http.MethodPost, "/orders", "po-1", placeBody("po-1")); status != http.StatusInternalServerError {
		t.Errorf("accept then fail: got %d, want 500", status)
	}
	if got := s.Created(); got != 1 {
		t.Errorf("Created after the lost reply: got %d, want 1", got)
	}
	status, body := call(t, s, http.MethodPost, "/orders", "po-1", placeBody("po-1"))
	if status != http.StatusOK || body["id"] != "SO-1001" {
		t.Errorf("retry: got %d %v, want 200 SO-1001", status, body["id"])
	}
	if got, want := s.PlaceCount(), 4; got != want {
		t.Errorf("PlaceCount: got %d, want %d", got, want)
	}
}

func TestShip(t *testing.T) {
	s := newServer(t, Options{})
	call(t, s, http.MethodPost, "/orders", "po-1", placeBody("po-1"))

	tests := []struct {
		name    string
		ext     string
		parcels []Parcel
		wantErr bool
		status  string
		ids     []string
	}{
		{name: "unknown order", ext: "po-9", wantErr: true},
		{name: "too many", ext: "po-1", parcels: []Parcel{{Items: []ItemQty{{SKU: "TEE", Quantity: 3}}}}, wantErr: true},
		{name: "sku not ordered", ext: "po-1", parcels: []Parcel{{Items: []ItemQty{{SKU: "CAP", Quantity: 1}}}}, wantErr: true},
		{name: "first tee", ext: "po-1", parcels: []Parcel{{Items: []ItemQty{{SKU: "TEE", Quantity: 1}}}}, status: StatusPartiallyShipped, ids: []string{"SH-1"}},
		{name: "the rest", ext: "po-1", status: StatusShipped, ids: []string{"SH-1", "SH-2"}},
		{name: "nothing left", ext: "po-1", wantErr: true},
	}
	for _, tt := range tests {
		err := s.Ship(tt.ext, tt.parcels...)
		if (err != nil) != tt.wantErr {
			t.Fatalf("%s: got error %v, want error %v", tt.name, err, tt.wantErr)
		}
		if tt.wantErr {
			continue
		}
		o, _ := s.Order(tt.ext)
		var ids []string
		for _, sh := range o.Shipments {
			ids = append(ids, sh.ID)
		}
		if o.Status != tt.status || strings.Join(ids, ",") != strings.Join(tt.ids, ",") {
			t.Errorf("%s: got %s %v, want %s %v", tt.name, o.Status, ids, tt.status, tt.ids)
		}
	}
	o, _ := s.Order("po-1")
	last := o.Shipments[1]
	want := Shipment{ID: "SH-2", Carrier: "UPS", TrackingNumber: "1ZSO00000002",
		TrackingURL: "https://www.ups.com/track?tracknum=1ZSO00000002",
		Items:       []ItemQty{{SKU: "TEE", Quantity: 1}, {SKU: "MUG", Quantity: 1}}, ShippedAt: now}
	if gotJSON, wantJSON := mustJSON(t, last), mustJSON(t, want); gotJSON != wantJSON {
		t.Errorf("last parcel: got %s, want %s", gotJSON, wantJSON)
	}
	if status, body := call(t, s, http.MethodPost, "/orders/SO-1001/cancel", "", ""); status != http.StatusConflict || errCode(body) != "already_shipped" {
		t.Errorf("cancel after shipping: got %d %q, want 409 already_shipped", status, errCode(body))
	}
}

func TestCancelRestocks(t *testing.T) {
	s := newServer(t, Options{})
	call(t, s, http.MethodPost, "/orders", "po-1", placeBody("po-1"))
	for _, round := range []string{"cancel", "cancel again"} {
		status, body := call(t, s, http.MethodPost, "/orders/SO-1001/cancel", "", "")
		if status != http.StatusOK || body["status"] != StatusCancelled {
			t.Errorf("%s: got %d %v, want 200 cancelled", round, status, body["status"])
		}
	}
	_, inv := call(t, s, http.MethodGet, "/inventory?skus=TEE,MUG", "", "")
	items := inv["items"].([]any)
	for i, want := range []float64{5, 2} {
		if got := items[i].(map[string]any)["available"]; got != want {
			t.Errorf("%v available after cancel: got %v, want %v", items[i].(map[string]any)["sku"], got, want)
		}
	}
	if err := s.Ship("po-1"); err == nil {
		t.Error("ship a cancelled order: got no error")
	}
	if status, body := call(t, s, http.MethodGet, "/orders/SO-9", "", ""); status != http.StatusNotFound || errCode(body) != "not_found" {
		t.Errorf("unknown order: got %d %q, want 404 not_found", status, errCode(body))
	}
}

func TestInventory(t *testing.T) {
	s := newServer(t, Options{Catalog: map[string]Item{"TEE,RED 1/2": {Available: 1, UnitCost: "0.125", Currency: "EUR"}}})
	s.SetStock("MUG", 4)
	status, body := call(t, s, http.MethodGet, "/inventory?skus=TEE%2CRED+1%2F2,NOPE,MUG", "", "")
	if status != http.StatusOK {
		t.Fatalf("inventory: got %d %v", status, body)
	}
	got := mustJSON(t, body)
	want := `{"items":[{"available":1,"currency":"EUR","sku":"TEE,RED 1/2","unit_cost":"0.125"},{"available":4,"currency":"","sku":"MUG","unit_cost":""}]}`
	if got != want {
		t.Errorf("inventory: got %s, want %s", got, want)
	}
	var many []string
	for i := range 101 {
		many = append(many, fmt.Sprintf("SKU-%d", i))
	}
	if status, _ := call(t, s, http.MethodGet, "/inventory?skus="+strings.Join(many, ","), "", ""); status != http.StatusBadRequest {
		t.Errorf("101 skus: got %d, want 400", status)
	}
	if status, _ := call(t, s, http.MethodGet, "/inventory", "", ""); status != http.StatusBadRequest {
		t.Errorf("no skus: got %d, want 400", status)
	}
}

// hook collects signed events.
type hook struct {
	mu     sync.Mutex
	orders []Order
	bad    int
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if r.Header.Get("X-Dropsync-Signature") != Sign("whsec", body) {
		h.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var ev struct {
		Event string `json:"event"`
		Order Order  `json:"order"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.Event != "order.updated" {
		h.bad++
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.orders = append(h.orders, ev.Order)
}

func (h *hook) snapshot() ([]Order, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Order(nil), h.orders...), h.bad
}

func TestEvents(t *testing.T) {
	h := &hook{}
	rec := httpServer(t, h)
	s := newServer(t, Options{WebhookURL: rec, WebhookSecret: "whsec"})
	call(t, s, http.MethodPost, "/orders", "po-1", placeBody("po-1"))
	if err := s.SetStatus("po-1", StatusInProduction); err != nil {
		t.Fatalf("set status: %v", err)
	}
	if err := s.SetStatus("po-1", "lost"); err == nil {
		t.Error("set an unknown status: got no error")
	}
	if err := s.Ship("po-1"); err != nil {
		t.Fatalf("ship: %v", err)
	}
	if err := s.SetTracking("po-1", "SH-1", "", "1ZNEW", "https://www.ups.com/track?tracknum=1ZNEW"); err != nil {
		t.Fatalf("set tracking: %v", err)
	}
	orders, bad := h.snapshot()
	if bad != 0 || len(orders) != 3 {
		t.Fatalf("events: got %d good and %d bad, want 3 good", len(orders), bad)
	}
	if got := orders[0].Status; got != StatusInProduction {
		t.Errorf("first event status: got %q, want %q", got, StatusInProduction)
	}
	if got := orders[2].Shipments[0]; got.Carrier != "UPS" || got.TrackingNumber != "1ZNEW" {
		t.Errorf("corrected parcel: got %s %s, want UPS 1ZNEW", got.Carrier, got.TrackingNumber)
	}

	// A receiver that refuses the event makes Ship say so.
	refusing := newServer(t, Options{WebhookURL: rec, WebhookSecret: "not-whsec"})
	call(t, refusing, http.MethodPost, "/orders", "po-2", placeBody("po-2"))
	if err := refusing.Ship("po-2"); err == nil {
		t.Error("ship with a refused event: got no error")
	}
	if o, _ := refusing.Order("po-2"); o.Status != StatusShipped {
		t.Errorf("status after a refused event: got %q, want shipped (the parcel left anyway)", o.Status)
	}
}

func TestAutoShip(t *testing.T) {
	h := &hook{}
	var mu sync.Mutex
	clock := now
	s := newServer(t, Options{
		WebhookURL: httpServer(t, h), WebhookSecret: "whsec",
		AutoShip: &AutoShip{After: time.Hour, SplitParcels: true},
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return clock
		},
	})
	call(t, s, http.MethodPost, "/orders", "po-1", placeBody("po-1"))
	mu.Lock()
	clock = clock.Add(time.Hour)
	mu.Unlock()

	// Each parcel's event is delivered after the parcel is recorded: wait for the events.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if orders, _ := h.snapshot(); len(orders) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("AutoShip did not ship the order in two parcels")
		}
		time.Sleep(5 * time.Millisecond)
	}
	o, _ := s.Order("po-1")
	if o.Status != StatusShipped || len(o.Shipments) != 2 {
		t.Errorf("order: got %s with %d parcels, want shipped with 2 (one per item)", o.Status, len(o.Shipments))
	}
	orders, _ := h.snapshot()
	if got := orders[len(orders)-1].Status; got != StatusShipped {
		t.Errorf("last event status: got %q, want shipped", got)
	}
}

func TestCloseEndsSlowRequests(t *testing.T) {
	s := NewServer(Options{Token: token})
	s.SetDelay(time.Hour)
	done := make(chan error, 1)
	go func() {
		resp, err := http.Get(s.URL() + "/inventory?skus=TEE")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for len(s.Requests("", "")) == 0 {
		time.Sleep(time.Millisecond)
	}
	s.Close()
	s.Close() // twice is fine
	<-done
}

func TestRequestsRecorded(t *testing.T) {
	s := newServer(t, Options{})
	body := placeBody("po-1")
	call(t, s, http.MethodPost, "/orders", "po-1", body)
	call(t, s, http.MethodGet, "/orders/SO-1001", "", "")
	got := s.Requests(http.MethodPost, "/orders")
	if len(got) != 1 || !bytes.Equal(got[0].Body, []byte(body)) || got[0].Header.Get("Idempotency-Key") != "po-1" {
		t.Fatalf("POST /orders: got %+v", got)
	}
	if all := s.Requests("", ""); len(all) != 2 {
		t.Errorf("all requests: got %d, want 2", len(all))
	}
}

func httpServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
