package printful

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/connectors/supplier/printful/printfultest"
	"github.com/dropsync/dropsync/connectors/supplier/suppliertest"
	"github.com/dropsync/dropsync/internal/dropsync"
)

func TestPlaceOrderConfirmOrDraft(t *testing.T) {
	tests := []struct {
		name       string
		confirm    bool
		query      string
		fakeStatus string
	}{
		{"confirmed", true, "confirm=true", printfultest.StatusPending},
		{"draft", false, "confirm=false", printfultest.StatusDraft},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t, printfultest.Options{StoreID: "7531"})
			cfg := testConfig(fake.URL())
			cfg.Confirm, cfg.StoreID = tt.confirm, "7531"
			s := New(cfg, nil, fixedNow, zerolog.Nop())
			ext := "example.myshopify.com-1-pf"
			got, err := s.PlaceOrder(context.Background(), order(ext))
			if err != nil {
				t.Fatalf("place: %v", err)
			}
			held, _ := fake.Order(ext)
			if got.ID != "121000001" || got.ExternalID != ext || got.Status != string(dropsync.POAccepted) {
				t.Errorf("place: got %+v, want 121000001 %s accepted", got, ext)
			}
			if held.Status != tt.fakeStatus {
				t.Errorf("status at Printful: got %q, want %q", held.Status, tt.fakeStatus)
			}
			// The lookup goes first, so a retry never creates a second order.
			reqs := fake.Requests("", "")
			if len(reqs) != 2 || reqs[0].Method != http.MethodGet || reqs[0].Path != "/orders/@"+ext ||
				reqs[1].Method != http.MethodPost || reqs[1].RawQuery != tt.query {
				t.Fatalf("requests: got %v, want GET /orders/@%s then POST /orders?%s", summary(reqs), ext, tt.query)
			}
			for name, want := range map[string]string{
				"Authorization": "Bearer " + testToken,
				"X-PF-Store-Id": "7531",
				"Content-Type":  "application/json",
				"User-Agent":    "dropsync",
			} {
				if got := reqs[1].Header.Get(name); got != want {
					t.Errorf("header %s: got %q, want %q", name, got, want)
				}
			}
		})
	}
}

func summary(reqs []printfultest.Request) []string {
	var out []string
	for _, r := range reqs {
		s := r.Method + " " + r.Path
		if r.RawQuery != "" {
			s += "?" + r.RawQuery
		}
		out = append(out, s)
	}
	return out
}

// TestPlaceOrderRace places one purchase order from several workers at once: Printful keeps
// one order per external_id and every worker gets that order.
func TestPlaceOrderRace(t *testing.T) {
	fake := newFake(t, printfultest.Options{})
	fake.SetDelay(20 * time.Millisecond) // every lookup finds nothing before any create lands
	s := New(testConfig(fake.URL()), nil, fixedNow, zerolog.Nop())
	ext := "example.myshopify.com-2-pf"
	var wg sync.WaitGroup
	ids := make([]string, 4)
	errs := make([]error, 4)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			so, err := s.PlaceOrder(context.Background(), order(ext))
			ids[i], errs[i] = so.ID, err
		}()
	}
	wg.Wait()
	held, _ := fake.Order(ext)
	for i := range ids {
		if errs[i] != nil {
			t.Errorf("worker %d: %v", i, errs[i])
		} else if ids[i] != "" && ids[i] != strconvID(held.ID) {
			t.Errorf("worker %d: got order %s, want %d", i, ids[i], held.ID)
		}
	}
	if got := fake.Created(); got != 1 {
		t.Errorf("orders created: got %d, want 1", got)
	}
}

func strconvID(id int64) string { return decimal.NewFromInt(id).String() }

func TestPlaceOrderRefusedItem(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*dropsync.SupplierOrderRequest)
		setup  func(*printfultest.Server)
		reason string
		sku    string
	}{
		{
			name:   "unknown external variant",
			edit:   func(r *dropsync.SupplierOrderRequest) { r.Items[1].SKU = "@no-such-variant" },
			reason: dropsync.ReasonUnknownSKU, sku: "@no-such-variant",
		},
		{
			name:   "not a Printful variant at all",
			edit:   func(r *dropsync.SupplierOrderRequest) { r.Items[0].SKU = "ACME-TS-R-M" },
			reason: dropsync.ReasonUnknownSKU, sku: "ACME-TS-R-M",
		},
		{
			name:   "second item out of stock",
			setup:  func(f *printfultest.Server) { f.SetStock("@shopify-40011", 0) },
			reason: dropsync.ReasonOutOfStock, sku: "@shopify-40011",
		},
		{
			name:   "state code missing",
			edit:   func(r *dropsync.SupplierOrderRequest) { r.ShippingAddress.ProvinceCode = "" },
			reason: dropsync.ReasonInvalidAddress,
		},
		{
			name:   "zip missing",
			edit:   func(r *dropsync.SupplierOrderRequest) { r.ShippingAddress.Zip = "" },
			reason: dropsync.ReasonInvalidAddress,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t, printfultest.Options{})
			if tt.setup != nil {
				tt.setup(fake)
			}
			s := New(testConfig(fake.URL()), nil, fixedNow, zerolog.Nop())
			req := order("example.myshopify.com-3-pf")
			if tt.edit != nil {
				tt.edit(&req)
			}
			_, err := s.PlaceOrder(context.Background(), req)
			checkErr(t, err, dropsync.EPERMANENT, tt.reason)
			if got := dropsync.RefusedSKU(err); got != tt.sku {
				t.Errorf("refused sku: got %q, want %q", got, tt.sku)
			}
			if got := fake.Created(); got != 0 {
				t.Errorf("orders created: got %d, want 0", got)
			}
		})
	}
}

// TestRateLimit spends the fake's budget of three calls a minute: the 429 says to wait, and
// until the wait is over nothing more is sent to Printful.
func TestRateLimit(t *testing.T) {
	clk := suppliertest.NewClock(shipTime)
	fake := newFake(t, printfultest.Options{RateLimit: 3, Now: clk.Now})
	s := New(testConfig(fake.URL()), nil, clk.Now, zerolog.Nop())
	ctx := context.Background()
	// Three calls: the lookup, the create and one read.
	placed, err := s.PlaceOrder(ctx, order("example.myshopify.com-4-pf"))
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	ref := dropsync.SupplierOrderRef{ID: placed.ID}
	if _, err := s.GetOrder(ctx, ref); err != nil {
		t.Fatalf("get: %v", err)
	}

	clk.Add(15 * time.Second)
	_, err = s.GetOrder(ctx, ref)
	checkErr(t, err, dropsync.ERATELIMITED, "")
	// The last reply said no calls remain, so this one never reached Printful.
	if got, want := len(fake.Requests("", "")), 3; got != want {
		t.Errorf("requests at Printful: got %d, want %d", got, want)
	}
	if got, _ := dropsync.RetryAfter(err); got != 45*time.Second {
		t.Errorf("RetryAfter: got %v, want 45s", got)
	}

	clk.Add(45 * time.Second)
	if _, err := s.GetOrder(ctx, ref); err != nil {
		t.Fatalf("get after the window: %v", err)
	}
}

func TestRateLimitReply(t *testing.T) {
	clk := suppliertest.NewClock(shipTime)
	fake := newFake(t, printfultest.Options{Now: clk.Now})
	s := New(testConfig(fake.URL()), nil, clk.Now, zerolog.Nop())
	ctx := context.Background()
	fake.FailNext(1, http.StatusTooManyRequests)
	_, err := s.PlaceOrder(ctx, order("example.myshopify.com-5-pf"))
	checkErr(t, err, dropsync.ERATELIMITED, "")
	before := len(fake.Requests("", ""))
	_, err = s.Inventory(ctx, []string{"4013547121"})
	checkErr(t, err, dropsync.ERATELIMITED, "")
	if got := len(fake.Requests("", "")); got != before {
		t.Errorf("requests while blocked: got %d more, want none", got-before)
	}
	clk.Add(time.Minute)
	if _, err := s.Inventory(ctx, []string{"4013547121"}); err != nil {
		t.Errorf("inventory after the wait: %v", err)
	}
}

func TestGetOrderParcels(t *testing.T) {
	fake := newFake(t, printfultest.Options{})
	s := New(testConfig(fake.URL()), nil, fixedNow, zerolog.Nop())
	ctx := context.Background()
	ext := "example.myshopify.com-6-pf"
	placed, err := s.PlaceOrder(ctx, order(ext))
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	err = fake.Ship(ext,
		printfultest.Parcel{Items: []printfultest.ItemQty{{SKU: "4013547121", Quantity: 1}}},
		printfultest.Parcel{Carrier: "DHL", TrackingNumber: "JD014600006281230704",
			TrackingURL: "https://www.dhl.com/track?id=JD014600006281230704",
			Items:       []printfultest.ItemQty{{SKU: "@shopify-40011", Quantity: 1}}})
	if err != nil {
		t.Fatalf("ship: %v", err)
	}
	for _, ref := range []dropsync.SupplierOrderRef{{ID: placed.ID}, {ExternalID: ext}, {ID: placed.ID, ExternalID: ext}} {
		got, err := s.GetOrder(ctx, ref)
		if err != nil {
			t.Fatalf("get %+v: %v", ref, err)
		}
		if got.Status != string(dropsync.POPartiallyShipped) || len(got.Shipments) != 2 {
			t.Fatalf("get %+v: got %+v, want partially shipped in 2 parcels", ref, got)
		}
		first, second := got.Shipments[0], got.Shipments[1]
		if first.Carrier != "USPS" || first.TrackingNumber == "" || !first.ShippedAt.Equal(shipTime) ||
			len(first.Items) != 1 || first.Items[0] != (dropsync.ShipmentItem{SKU: "4013547121", Quantity: 1}) {
			t.Errorf("first parcel: got %+v", first)
		}
		if second.Carrier != "DHL" || second.TrackingNumber != "JD014600006281230704" ||
			len(second.Items) != 1 || second.Items[0] != (dropsync.ShipmentItem{SKU: "@shopify-40011", Quantity: 1}) {
			t.Errorf("second parcel: got %+v", second)
		}
	}
	_, err = s.GetOrder(ctx, dropsync.SupplierOrderRef{})
	checkErr(t, err, dropsync.EINVALID, "")
}

func TestCancelOrder(t *testing.T) {
	tests := []struct {
		name   string
		status string // the order's status at Printful before the cancel
		code   string
		reason string
	}{
		{"pending", printfultest.StatusPending, "", ""},
		{"on hold", printfultest.StatusOnHold, "", ""},
		{"cancelled already", printfultest.StatusCanceled, "", ""},
		{"in production", printfultest.StatusInProcess, dropsync.ECONFLICT, ReasonNotCancellable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t, printfultest.Options{})
			s := New(testConfig(fake.URL()), nil, fixedNow, zerolog.Nop())
			ext := "example.myshopify.com-7-pf"
			placed, err := s.PlaceOrder(context.Background(), order(ext))
			if err != nil {
				t.Fatalf("place: %v", err)
			}
			if err := fake.SetStatus(ext, tt.status, ""); err != nil {
				t.Fatal(err)
			}
			got, err := s.CancelOrder(context.Background(), dropsync.SupplierOrderRef{ExternalID: ext})
			if tt.code != "" {
				checkErr(t, err, tt.code, tt.reason)
				return
			}
			if err != nil {
				t.Fatalf("cancel: %v", err)
			}
			if got.ID != placed.ID || got.Status != string(dropsync.POCancelled) {
				t.Errorf("cancel: got %s %s, want %s cancelled", got.ID, got.Status, placed.ID)
			}
			deletes := len(fake.Requests(http.MethodDelete, ""))
			if want := map[bool]int{true: 0, false: 1}[tt.status == printfultest.StatusCanceled]; deletes != want {
				t.Errorf("DELETE requests: got %d, want %d", deletes, want)
			}
		})
	}
}

func TestInventory(t *testing.T) {
	fake := newFake(t, printfultest.Options{})
	fake.SetStock("@poster-a3", 0)
	s := New(testConfig(fake.URL()), nil, fixedNow, zerolog.Nop())
	got, err := s.Inventory(context.Background(), []string{"sync:4013547121", "@poster-a3", "4099999999", "NOT-A-VARIANT", "@shopify-40011"})
	if err != nil {
		t.Fatalf("inventory: %v", err)
	}
	want := []dropsync.Stock{
		{SKU: "sync:4013547121", Available: AvailableOnDemand, UnitCost: dropsync.Money{Amount: decimal.RequireFromString("9.95"), Currency: "USD"}},
		{SKU: "@poster-a3", Available: 0, UnitCost: dropsync.Money{Amount: decimal.RequireFromString("12.50"), Currency: "USD"}},
		{SKU: "@shopify-40011", Available: AvailableOnDemand, UnitCost: dropsync.Money{Amount: decimal.RequireFromString("7.25"), Currency: "USD"}},
	}
	if len(got) != len(want) {
		t.Fatalf("inventory: got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].SKU != want[i].SKU || got[i].Available != want[i].Available || !got[i].UnitCost.Amount.Equal(want[i].UnitCost.Amount) ||
			got[i].UnitCost.Currency != want[i].UnitCost.Currency {
			t.Errorf("inventory[%d]: got %+v, want %+v", i, got[i], want[i])
		}
	}
	paths := summary(fake.Requests(http.MethodGet, ""))
	for _, p := range []string{"GET /store/variants/4013547121", "GET /products/variant/4011", "GET /store/variants/@poster-a3"} {
		if !contains(paths, p) {
			t.Errorf("requests: %v lack %s", paths, p)
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestParseVariantRef(t *testing.T) {
	tests := []struct {
		sku      string
		sync     int64
		external string
		bad      bool
	}{
		{sku: "4013547121", sync: 4013547121},
		{sku: "sync:4013547121", sync: 4013547121},
		{sku: " 42 ", sync: 42},
		{sku: "@shopify-40011", external: "shopify-40011"},
		{sku: "@", bad: true},
		{sku: "0", bad: true},
		{sku: "-3", bad: true},
		{sku: "catalog:4011", bad: true},
		{sku: "", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.sku, func(t *testing.T) {
			got, err := parseVariantRef(tt.sku)
			if (err != nil) != tt.bad {
				t.Fatalf("parseVariantRef(%q): error %v, want bad=%v", tt.sku, err, tt.bad)
			}
			if !tt.bad && (got.sync != tt.sync || got.external != tt.external) {
				t.Errorf("parseVariantRef(%q): got %+v, want sync %d external %q", tt.sku, got, tt.sync, tt.external)
			}
		})
	}
}

func TestStatuses(t *testing.T) {
	tests := []struct{ printful, want string }{
		{"draft", "accepted"}, {"pending", "accepted"}, {"onhold", "accepted"},
		{"inprocess", "in_production"}, {"partial", "partially_shipped"}, {"fulfilled", "shipped"},
		{"canceled", "cancelled"}, {"failed", "failed"}, {"archived", ""}, {"PENDING", "accepted"},
	}
	for _, tt := range tests {
		t.Run(tt.printful, func(t *testing.T) {
			got := wireOrder{ID: 1, Status: tt.printful}.domain(fixedNow).Status
			if got != tt.want {
				t.Errorf("status %q: got %q, want %q", tt.printful, got, tt.want)
			}
		})
	}
}

func TestPlaceOrderTimeout(t *testing.T) {
	fake := newFake(t, printfultest.Options{})
	fake.SetDelay(time.Minute) // Close ends the wait
	cfg := testConfig(fake.URL())
	cfg.Timeout = 20 * time.Millisecond
	s := New(cfg, &http.Client{}, fixedNow, zerolog.Nop())
	_, err := s.PlaceOrder(context.Background(), order("example.myshopify.com-8-pf"))
	checkErr(t, err, dropsync.EUNAVAILABLE, "")
}

func TestBadBaseURL(t *testing.T) {
	for _, base := range []string{"api.printful.com", "ftp://api.printful.com", "http://"} {
		t.Run(base, func(t *testing.T) {
			s := New(testConfig(base), nil, fixedNow, zerolog.Nop())
			_, err := s.GetOrder(context.Background(), dropsync.SupplierOrderRef{ID: "1"})
			checkErr(t, err, dropsync.EINVALID, "")
		})
	}
	if got := New(Config{ID: "pf"}, nil, nil, zerolog.Nop()).endpoint([]string{"orders", "@a/b"}, nil); got != DefaultBaseURL+"/orders/@a%2Fb" {
		t.Errorf("default endpoint: got %q", got)
	}
	if !strings.HasPrefix(New(Config{ID: "pf"}, nil, nil, zerolog.Nop()).cfg.ShippingMethod, "STANDARD") {
		t.Error("default shipping method is not STANDARD")
	}
}
