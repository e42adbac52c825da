package http

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/connectors/supplier/http/suppliertest"
	shared "github.com/dropsync/dropsync/connectors/supplier/suppliertest"
	"github.com/dropsync/dropsync/internal/dropsync"
)

const (
	testToken  = "acme-token"
	testSecret = "acme-webhook-secret"
)

var shipTime = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func catalog() map[string]suppliertest.Item {
	return map[string]suppliertest.Item{
		"ACME-TS-R-M":  {Available: 10, UnitCost: "4.20", Currency: "USD"},
		"ACME-MUG-BLK": {Available: 5, UnitCost: "3.10", Currency: "USD"},
		"ACME-CST-OAK": {Available: 1, UnitCost: "1.05", Currency: "USD"},
	}
}

func newFake(t *testing.T, opts suppliertest.Options) *suppliertest.Server {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	if opts.Catalog == nil {
		opts.Catalog = catalog()
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return shipTime }
	}
	f := suppliertest.NewServer(opts)
	t.Cleanup(f.Close)
	return f
}

func newSupplier(baseURL string, edit ...func(*Config)) *Supplier {
	cfg := Config{ID: "acme", BaseURL: baseURL, Token: testToken, WebhookSecret: testSecret}
	for _, e := range edit {
		e(&cfg)
	}
	return New(cfg, nil, zerolog.Nop())
}

// order is a purchase order for the fake's catalog. Its customer data is what error messages
// must never repeat.
func order(externalID string) dropsync.SupplierOrderRequest {
	return shared.Order(externalID,
		dropsync.SupplierItem{SKU: "ACME-TS-R-M", Quantity: 2, UnitCost: decimal.RequireFromString("4.20")},
		dropsync.SupplierItem{SKU: "ACME-MUG-BLK", Quantity: 1, UnitCost: decimal.RequireFromString("3.1")})
}

// checkErr fails unless err has the code (and the reason, when one is wanted), names the
// supplier and carries no customer data.
func checkErr(t *testing.T, err error, code, reason string) {
	t.Helper()
	shared.CheckError(t, err, "acme", code, reason)
}

func TestPlaceOrder(t *testing.T) {
	fake := newFake(t, suppliertest.Options{})
	s := newSupplier(fake.URL())
	ctx := context.Background()
	ext := "example.myshopify.com-450789469-acme"

	first, err := s.PlaceOrder(ctx, order(ext))
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	want := dropsync.SupplierOrder{ID: "SO-1001", ExternalID: ext, Status: "accepted"}
	if first.ID != want.ID || first.ExternalID != want.ExternalID || first.Status != want.Status || len(first.Shipments) != 0 {
		t.Errorf("first place: got %+v, want %+v", first, want)
	}

	// A retry after a lost reply may carry a different body; the supplier keeps its order.
	again := order(ext)
	again.Items = again.Items[:1]
	second, err := s.PlaceOrder(ctx, again)
	if err != nil {
		t.Fatalf("place again: %v", err)
	}
	if second.ID != first.ID {
		t.Errorf("place again: got id %q, want %q", second.ID, first.ID)
	}
	if got, want := fake.Created(), 1; got != want {
		t.Errorf("orders created: got %d, want %d", got, want)
	}
	if got, want := fake.PlaceCount(), 2; got != want {
		t.Errorf("POST /orders calls: got %d, want %d", got, want)
	}

	reqs := fake.Requests(http.MethodPost, "/orders")
	if len(reqs) == 0 {
		t.Fatal("no POST /orders recorded")
	}
	for name, want := range map[string]string{
		"Authorization":   "Bearer " + testToken,
		"Accept":          "application/json",
		"User-Agent":      "dropsync",
		"Content-Type":    "application/json",
		"Idempotency-Key": ext,
	} {
		if got := reqs[0].Header.Get(name); got != want {
			t.Errorf("header %s: got %q, want %q", name, got, want)
		}
	}
	placed, _ := fake.Order(ext)
	if got, want := placed.Placed.ShippingMethod, DefaultShippingMethod; got != want {
		t.Errorf("shipping_method: got %q, want %q", got, want)
	}
	if got, want := placed.Placed.Items[1].UnitCost, "3.10"; got != want {
		t.Errorf("unit_cost: got %q, want %q", got, want)
	}
	if got, want := placed.Placed.ShippingAddress.Name, "Steve Shipper"; got != want {
		t.Errorf("shipping_address.name: got %q, want %q", got, want)
	}
	if got, want := placed.Placed.ShippingAddress.Email, "steve@example.com"; got != want {
		t.Errorf("shipping_address.email: got %q, want %q", got, want)
	}
}

func TestPlaceOrderRejected(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*dropsync.SupplierOrderRequest)
		reason string
	}{
		{"unknown sku", func(r *dropsync.SupplierOrderRequest) { r.Items[0].SKU = "ACME-NOPE" }, dropsync.ReasonUnknownSKU},
		{"out of stock", func(r *dropsync.SupplierOrderRequest) { r.Items[1].Quantity = 6 }, dropsync.ReasonOutOfStock},
		{"invalid address", func(r *dropsync.SupplierOrderRequest) { r.ShippingAddress.Zip = "" }, dropsync.ReasonInvalidAddress},
		{"unsupported country", func(r *dropsync.SupplierOrderRequest) { r.ShippingAddress.CountryCode = "BR" }, dropsync.ReasonUnsupportedCountry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t, suppliertest.Options{Countries: []string{"US", "CA"}})
			s := newSupplier(fake.URL())
			req := order("example.myshopify.com-1-acme")
			tt.edit(&req)
			_, err := s.PlaceOrder(context.Background(), req)
			checkErr(t, err, dropsync.EPERMANENT, tt.reason)
			if dropsync.IsRetryable(err) {
				t.Errorf("IsRetryable: got true, want false")
			}
			if got := fake.Created(); got != 0 {
				t.Errorf("orders created: got %d, want 0", got)
			}
		})
	}
}

func TestPlaceOrderFailures(t *testing.T) {
	tests := []struct {
		name       string
		token      string
		failStatus int
		code       string
		retryAfter time.Duration
	}{
		{name: "wrong token", token: "stale-token", code: dropsync.EUNAUTHORIZED},
		{name: "rate limited", failStatus: http.StatusTooManyRequests, code: dropsync.ERATELIMITED, retryAfter: suppliertest.RetryAfterSeconds * time.Second},
		{name: "server error", failStatus: http.StatusInternalServerError, code: dropsync.EUNAVAILABLE},
		{name: "bad gateway", failStatus: http.StatusBadGateway, code: dropsync.EUNAVAILABLE},
		{name: "forbidden", failStatus: http.StatusForbidden, code: dropsync.EUNAUTHORIZED},
		{name: "not found", failStatus: http.StatusNotFound, code: dropsync.ENOTFOUND},
		{name: "bad request", failStatus: http.StatusBadRequest, code: dropsync.EINVALID},
		{name: "conflict outside cancel", failStatus: http.StatusConflict, code: dropsync.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t, suppliertest.Options{})
			if tt.failStatus != 0 {
				fake.FailNext(1, tt.failStatus)
			}
			s := newSupplier(fake.URL(), func(c *Config) {
				if tt.token != "" {
					c.Token = tt.token
				}
			})
			_, err := s.PlaceOrder(context.Background(), order("example.myshopify.com-2-acme"))
			checkErr(t, err, tt.code, "")
			got, ok := dropsync.RetryAfter(err)
			if ok != (tt.retryAfter > 0) || got != tt.retryAfter {
				t.Errorf("RetryAfter: got %v, %v, want %v", got, ok, tt.retryAfter)
			}
			if got := fake.Created(); got != 0 {
				t.Errorf("orders created: got %d, want 0", got)
			}
		})
	}
}

func TestPlaceOrderTimeout(t *testing.T) {
	tests := []struct {
		name   string
		client *http.Client
	}{
		{"default client", nil},
		// An injected client may have no timeout of its own; Config.Timeout still holds.
		{"client without timeout", &http.Client{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t, suppliertest.Options{})
			fake.SetDelay(time.Minute) // Close ends the wait
			cfg := Config{ID: "acme", BaseURL: fake.URL(), Token: testToken, Timeout: 20 * time.Millisecond}
			s := New(cfg, tt.client, zerolog.Nop())
			_, err := s.PlaceOrder(context.Background(), order("example.myshopify.com-3-acme"))
			checkErr(t, err, dropsync.EUNAVAILABLE, "")
		})
	}
}

func TestPlaceOrderCancelled(t *testing.T) {
	fake := newFake(t, suppliertest.Options{})
	fake.SetDelay(time.Minute)
	s := newSupplier(fake.URL())
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// Cancel once the request has reached the supplier.
		for len(fake.Requests(http.MethodPost, "/orders")) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := s.PlaceOrder(ctx, order("example.myshopify.com-4-acme"))
	checkErr(t, err, dropsync.EUNAVAILABLE, "")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(err, context.Canceled): got false for %v, want true", err)
	}
}

func TestPlaceOrderAcceptThenFail(t *testing.T) {
	fake := newFake(t, suppliertest.Options{})
	fake.AcceptThenFail(1)
	s := newSupplier(fake.URL())
	ctx := context.Background()
	ext := "example.myshopify.com-5-acme"

	_, err := s.PlaceOrder(ctx, order(ext))
	checkErr(t, err, dropsync.EUNAVAILABLE, "")
	got, err := s.PlaceOrder(ctx, order(ext))
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	held, ok := fake.Order(ext)
	if !ok {
		t.Fatal("the fake holds no order")
	}
	if got.ID != held.ID {
		t.Errorf("retry: got id %q, want %q", got.ID, held.ID)
	}
	if got, want := fake.Created(), 1; got != want {
		t.Errorf("orders created: got %d, want %d", got, want)
	}
}

func TestPlaceOrderInvalidRequest(t *testing.T) {
	fake := newFake(t, suppliertest.Options{})
	s := newSupplier(fake.URL())
	tests := []struct {
		name string
		edit func(*dropsync.SupplierOrderRequest)
	}{
		{"no external id", func(r *dropsync.SupplierOrderRequest) { r.ExternalID = "" }},
		{"no items", func(r *dropsync.SupplierOrderRequest) { r.Items = nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := order("example.myshopify.com-6-acme")
			tt.edit(&req)
			_, err := s.PlaceOrder(context.Background(), req)
			checkErr(t, err, dropsync.EINVALID, "")
		})
	}
	if got := fake.PlaceCount(); got != 0 {
		t.Errorf("POST /orders calls: got %d, want 0", got)
	}
}

func TestGetOrder(t *testing.T) {
	fake := newFake(t, suppliertest.Options{})
	s := newSupplier(fake.URL())
	ctx := context.Background()
	ext := "example.myshopify.com-7-acme"
	placed, err := s.PlaceOrder(ctx, order(ext))
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	err = fake.Ship(ext,
		suppliertest.Parcel{Items: []suppliertest.ItemQty{{SKU: "ACME-TS-R-M", Quantity: 1}}},
		suppliertest.Parcel{Carrier: "DHL", TrackingNumber: "JD014600006281230704",
			TrackingURL: "https://www.dhl.com/track?id=JD014600006281230704",
			Items:       []suppliertest.ItemQty{{SKU: "ACME-MUG-BLK", Quantity: 1}}})
	if err != nil {
		t.Fatalf("ship: %v", err)
	}

	got, err := s.GetOrder(ctx, dropsync.SupplierOrderRef{ID: placed.ID, ExternalID: ext})
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	want := dropsync.SupplierOrder{ID: placed.ID, ExternalID: ext, Status: "partially_shipped",
		Shipments: []dropsync.Shipment{
			{ID: "SH-1", Carrier: "UPS", TrackingNumber: "1ZSO00000001",
				TrackingURL: "https://www.ups.com/track?tracknum=1ZSO00000001",
				Items:       []dropsync.ShipmentItem{{SKU: "ACME-TS-R-M", Quantity: 1}}, ShippedAt: shipTime},
			{ID: "SH-2", Carrier: "DHL", TrackingNumber: "JD014600006281230704",
				TrackingURL: "https://www.dhl.com/track?id=JD014600006281230704",
				Items:       []dropsync.ShipmentItem{{SKU: "ACME-MUG-BLK", Quantity: 1}}, ShippedAt: shipTime},
		}}
	if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
		t.Errorf("get:\n got %+v\nwant %+v", got, want)
	}
	if loc := got.Shipments[0].ShippedAt.Location(); loc != time.UTC {
		t.Errorf("shipped_at location: got %v, want UTC", loc)
	}
}

func TestGetOrderErrors(t *testing.T) {
	fake := newFake(t, suppliertest.Options{})
	s := newSupplier(fake.URL())
	tests := []struct {
		name string
		ref  dropsync.SupplierOrderRef
		code string
	}{
		{"unknown id", dropsync.SupplierOrderRef{ID: "SO-9999"}, dropsync.ENOTFOUND},
		{"external id only", dropsync.SupplierOrderRef{ExternalID: "example.myshopify.com-8-acme"}, dropsync.EINVALID},
		{"no ref", dropsync.SupplierOrderRef{}, dropsync.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.GetOrder(context.Background(), tt.ref)
			checkErr(t, err, tt.code, "")
			_, err = s.CancelOrder(context.Background(), tt.ref)
			checkErr(t, err, tt.code, "")
		})
	}
	// Only the two lookups by id reached the supplier: the protocol has no lookup by
	// external id, and no call may place an order to find one.
	if got, want := len(fake.Requests("", "")), 2; got != want {
		t.Errorf("requests: got %d, want %d", got, want)
	}
	if got := fake.PlaceCount(); got != 0 {
		t.Errorf("POST /orders calls: got %d, want 0", got)
	}
}

func TestCancelOrder(t *testing.T) {
	fake := newFake(t, suppliertest.Options{})
	s := newSupplier(fake.URL())
	ctx := context.Background()

	open, err := s.PlaceOrder(ctx, order("example.myshopify.com-9-acme"))
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	for _, round := range []string{"cancel", "cancel again"} {
		got, err := s.CancelOrder(ctx, dropsync.SupplierOrderRef{ID: open.ID})
		if err != nil {
			t.Fatalf("%s: %v", round, err)
		}
		if got.ID != open.ID || got.Status != "cancelled" {
			t.Errorf("%s: got %s %s, want %s cancelled", round, got.ID, got.Status, open.ID)
		}
	}

	ext := "example.myshopify.com-10-acme"
	shipped, err := s.PlaceOrder(ctx, order(ext))
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	if err := fake.Ship(ext, suppliertest.Parcel{Items: []suppliertest.ItemQty{{SKU: "ACME-MUG-BLK", Quantity: 1}}}); err != nil {
		t.Fatalf("ship: %v", err)
	}
	_, err = s.CancelOrder(ctx, dropsync.SupplierOrderRef{ID: shipped.ID, ExternalID: ext})
	checkErr(t, err, dropsync.ECONFLICT, dropsync.ReasonAlreadyShipped)
}

func TestInventory(t *testing.T) {
	items := catalog()
	items["ACME-TEE,RED 1/2"] = suppliertest.Item{Available: 3, UnitCost: "0.125", Currency: "EUR"}
	var many []string
	for i := range 230 {
		sku := fmt.Sprintf("ACME-BULK-%03d", i)
		items[sku] = suppliertest.Item{Available: i, UnitCost: "1.00", Currency: "USD"}
		many = append(many, sku)
	}
	fake := newFake(t, suppliertest.Options{Catalog: items})
	s := newSupplier(fake.URL())

	got, err := s.Inventory(context.Background(), []string{"ACME-TS-R-M", "ACME-NOPE", "ACME-TEE,RED 1/2", "ACME-TS-R-M"})
	if err != nil {
		t.Fatalf("inventory: %v", err)
	}
	want := []dropsync.Stock{
		{SKU: "ACME-TS-R-M", Available: 10, UnitCost: dropsync.Money{Amount: decimal.RequireFromString("4.20"), Currency: "USD"}},
		{SKU: "ACME-TEE,RED 1/2", Available: 3, UnitCost: dropsync.Money{Amount: decimal.RequireFromString("0.125"), Currency: "EUR"}},
	}
	if len(got) != len(want) {
		t.Fatalf("inventory: got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].SKU != want[i].SKU || got[i].Available != want[i].Available ||
			!got[i].UnitCost.Amount.Equal(want[i].UnitCost.Amount) || got[i].UnitCost.Currency != want[i].UnitCost.Currency {
			t.Errorf("inventory[%d]: got %+v, want %+v", i, got[i], want[i])
		}
	}

	// The fake refuses more than 100 SKUs per request, as a careful supplier would.
	before := len(fake.Requests(http.MethodGet, "/inventory"))
	got, err = s.Inventory(context.Background(), many)
	if err != nil {
		t.Fatalf("inventory of %d skus: %v", len(many), err)
	}
	if len(got) != len(many) {
		t.Errorf("inventory of %d skus: got %d items", len(many), len(got))
	}
	if got, want := len(fake.Requests(http.MethodGet, "/inventory"))-before, 3; got != want {
		t.Errorf("inventory requests: got %d, want %d", got, want)
	}

	got, err = s.Inventory(context.Background(), nil)
	if err != nil || len(got) != 0 {
		t.Errorf("inventory of no skus: got %v, %v, want none", got, err)
	}
}

func TestInventoryNeedsToken(t *testing.T) {
	fake := newFake(t, suppliertest.Options{})
	s := newSupplier(fake.URL(), func(c *Config) { c.Token = "wrong" })
	_, err := s.Inventory(context.Background(), []string{"ACME-TS-R-M"})
	checkErr(t, err, dropsync.EUNAUTHORIZED, "")
}

func TestID(t *testing.T) {
	if got, want := newSupplier("https://api.acme.example").ID(), "acme"; got != want {
		t.Errorf("ID: got %q, want %q", got, want)
	}
}

func TestBadBaseURL(t *testing.T) {
	for _, base := range []string{"", "api.acme.example", "ftp://api.acme.example", "http://"} {
		t.Run(base, func(t *testing.T) {
			_, err := newSupplier(base).PlaceOrder(context.Background(), order("example.myshopify.com-11-acme"))
			checkErr(t, err, dropsync.EINVALID, "")
		})
	}
}

func TestPrefixedBaseURL(t *testing.T) {
	fake := newFake(t, suppliertest.Options{})
	var (
		mu    sync.Mutex
		paths []string
	)
	// A supplier mounted under a prefix, behind a proxy that strips it.
	proxy := shared.Stub(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, fake.URL()+strings.TrimPrefix(r.URL.RequestURI(), "/acme/v1"), r.Body)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})
	s := newSupplier(proxy + "/acme/v1/")
	placed, err := s.PlaceOrder(context.Background(), order("example.myshopify.com-12-acme"))
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	if _, err := s.GetOrder(context.Background(), dropsync.SupplierOrderRef{ID: placed.ID}); err != nil {
		t.Fatalf("get: %v", err)
	}
	want := []string{"/acme/v1/orders", "/acme/v1/orders/SO-1001"}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(paths, want) {
		t.Errorf("paths: got %q, want %q", paths, want)
	}
}
