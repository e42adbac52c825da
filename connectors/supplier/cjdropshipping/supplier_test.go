package cjdropshipping

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/connectors/supplier/cjdropshipping/cjdropshippingtest"
	"github.com/dropsync/dropsync/internal/dropsync"
)

func TestPlaceOrderRequests(t *testing.T) {
	fake := newFake(t, cjdropshippingtest.Options{})
	s := newSupplier(testConfig(fake.BaseURL()), NewMemoryTokenStore(), fixedNow)
	ext := "example.myshopify.com-10-cj"
	got, err := s.PlaceOrder(context.Background(), order(ext))
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	held, _ := fake.Order(ext)
	if got.ID != held.OrderID || got.ExternalID != ext || got.Status != string(dropsync.POInProduction) {
		t.Errorf("place: got %+v, want %s %s in_production (paid)", got, held.OrderID, ext)
	}
	if held.OrderStatus != cjdropshippingtest.StatusUnshipped || string(held.Placed.PayType) != "2" {
		t.Errorf("at CJ: got %s paid with %s, want UNSHIPPED paid from the balance (2)", held.OrderStatus, held.Placed.PayType)
	}
	var seq []string
	for _, r := range fake.Requests("", "") {
		seq = append(seq, r.Method+" "+r.Path)
	}
	want := []string{"POST /authentication/getAccessToken", "GET /shopping/order/getOrderDetail", "POST /shopping/order/createOrderV2"}
	if strings.Join(seq, ", ") != strings.Join(want, ", ") {
		t.Errorf("requests: got %v, want %v (the lookup before the create)", seq, want)
	}
	create := fake.Requests(http.MethodPost, "/shopping/order/createOrderV2")[0]
	if tok := create.Header.Get("CJ-Access-Token"); tok == "" || create.Header.Get("Content-Type") != "application/json" {
		t.Errorf("create headers: got %v", create.Header)
	}
}

func TestOrderNumber(t *testing.T) {
	s := newSupplier(testConfig("https://cj.example"), nil, fixedNow)
	long := "herbata-i-spolka-z-ograniczona.myshopify.com-5012345678901-cj"
	tests := []struct {
		name, ext, num string
		bad            bool
	}{
		{name: "fits", ext: "example.myshopify.com-450789469-cj", num: "example.myshopify.com-450789469-cj"},
		{name: "shortened", ext: long, num: "herbata-i-spolka-z-ograniczona-5012345678901-cj"},
		{name: "too long even so", ext: strings.Repeat("a", 40) + ".myshopify.com-5012345678901-cj", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			num, err := s.orderNumber(tt.ext)
			if tt.bad {
				if dropsync.ErrorCode(err) != dropsync.EINVALID {
					t.Fatalf("orderNumber(%q): got %q, %v, want EINVALID", tt.ext, num, err)
				}
				return
			}
			if err != nil || num != tt.num || len(num) > maxOrderNumber {
				t.Fatalf("orderNumber(%q): got %q, %v, want %q", tt.ext, num, err, tt.num)
			}
			if back := s.externalID(num); back != tt.ext {
				t.Errorf("externalID(%q): got %q, want %q", num, back, tt.ext)
			}
		})
	}
	for _, num := range []string{"api_52f268d40b8d460e82c0683955e63cc9", "short-1-cj", "1042"} {
		if got := s.externalID(num); got != num {
			t.Errorf("externalID(%q): got %q, want it unchanged", num, got)
		}
	}
}

// TestLongPurchaseOrderID places, reads and is told about an order whose purchase order id
// is longer than CJ's order numbers.
func TestLongPurchaseOrderID(t *testing.T) {
	fake := newFake(t, cjdropshippingtest.Options{})
	s := newSupplier(testConfig(fake.BaseURL()), NewMemoryTokenStore(), fixedNow)
	ext := "herbata-i-spolka-z-ograniczona.myshopify.com-5012345678901-cj"
	num := "herbata-i-spolka-z-ograniczona-5012345678901-cj"
	placed, err := s.PlaceOrder(context.Background(), order(ext))
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	if _, ok := fake.Order(num); !ok || placed.ExternalID != ext {
		t.Fatalf("place: got %+v; CJ holds order number %q: %v", placed, num, ok)
	}
	got, err := s.GetOrder(context.Background(), dropsync.SupplierOrderRef{ExternalID: ext})
	if err != nil || got.ID != placed.ID || got.ExternalID != ext {
		t.Errorf("get by purchase order id: got %+v, %v", got, err)
	}
	if err := fake.Ship(num); err != nil {
		t.Fatal(err)
	}
	d, _ := fake.Event(num)
	evs, err := s.ParseEvent(d.Header, d.Query, d.Body)
	if err != nil || len(evs) != 1 || evs[0].Order == nil || evs[0].Order.ExternalID != ext {
		t.Errorf("event: got %+v, %v, want the order under %s", evs, err, ext)
	}
}

// TestPlaceOrderWorkers places one purchase order from several workers sharing a store: the
// place lock lets one through at a time, the others wait for it and find its order, and CJ
// ends with one order.
func TestPlaceOrderWorkers(t *testing.T) {
	fake := newFake(t, cjdropshippingtest.Options{})
	fake.SetDelay(10 * time.Millisecond)
	store := NewMemoryTokenStore()
	ext := "example.myshopify.com-11-cj"
	var wg sync.WaitGroup
	results := make([]dropsync.SupplierOrder, 4)
	errs := make([]error, 4)
	for i := range results {
		s := newSupplier(testConfig(fake.BaseURL()), store, fixedNow)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = s.PlaceOrder(context.Background(), order(ext))
		}()
	}
	wg.Wait()
	held, _ := fake.Order(ext)
	for i := range results {
		if errs[i] != nil || results[i].ID != held.OrderID {
			t.Errorf("worker %d: got %+v, %v, want order %s", i, results[i], errs[i], held.OrderID)
		}
	}
	if got := fake.Created(); got != 1 {
		t.Errorf("orders created: got %d, want 1", got)
	}
	if got := fake.PlaceCount(); got != 1 {
		t.Errorf("createOrderV2 calls: got %d, want 1 (the lock keeps the others to a lookup)", got)
	}
}

// TestPlaceOrderLockedTooLong: a worker that waits longer than lockWait for another's place
// lock gives up with a retryable error rather than hold a worker.
func TestPlaceOrderLockedTooLong(t *testing.T) {
	fake := newFake(t, cjdropshippingtest.Options{})
	store := NewMemoryTokenStore()
	ext := "example.myshopify.com-13-cj"
	if _, ok, _ := store.Lock(context.Background(), "place:"+ext, time.Minute); !ok {
		t.Fatal("lock: not taken")
	}
	s := newSupplier(testConfig(fake.BaseURL()), store, fixedNow)
	s.lockWait = 100 * time.Millisecond
	_, err := s.PlaceOrder(context.Background(), order(ext))
	checkErr(t, err, dropsync.EUNAVAILABLE, "")
	if got := fake.PlaceCount(); got != 0 {
		t.Errorf("createOrderV2 calls: got %d, want 0", got)
	}
}

// TestPlaceOrderUnpaid: dropsync pays CJ orders from the balance, so an order CJ creates but
// cannot pay never ships. Whether CJ answers with the unpaid order or with a payment error,
// it is not placed: the error is retryable and tells the operator what to do, the retry
// finds the unpaid order (and sends no second create), and once the order is paid in CJ the
// retry returns it.
func TestPlaceOrderUnpaid(t *testing.T) {
	tests := []struct {
		name string
		code int // how CJ answers the create; 0 is success with the unpaid order
	}{
		{"created unpaid", 0},
		{"balance insufficient", codeBalance},
		{"balance payment blocked", codeBalanceBlocked},
		{"payment failed", codeOrderPayFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t, cjdropshippingtest.Options{})
			s := newSupplier(testConfig(fake.BaseURL()), NewMemoryTokenStore(), fixedNow)
			ctx := context.Background()
			ext := "example.myshopify.com-31-cj"
			fake.UnpaidNext(1, tt.code)
			for _, attempt := range []string{"place", "retry"} {
				so, err := s.PlaceOrder(ctx, order(ext))
				if err == nil {
					t.Fatalf("%s: got order %+v, want an error while CJ holds it unpaid", attempt, so)
				}
				checkErr(t, err, dropsync.EUNAVAILABLE, "")
				if !dropsync.IsRetryable(err) {
					t.Errorf("%s: IsRetryable: got false for %v", attempt, err)
				}
				if msg := dropsync.ErrorMessage(err); !strings.Contains(msg, "top up the CJ balance") || !strings.Contains(msg, "pay the order in CJ") {
					t.Errorf("%s: message %q does not tell the operator to top up or pay in CJ", attempt, msg)
				}
			}
			if got := fake.PlaceCount(); got != 1 {
				t.Errorf("createOrderV2 calls: got %d, want 1 (the retry finds the unpaid order)", got)
			}
			// The operator pays it in CJ's dashboard.
			if err := fake.SetStatus(ext, cjdropshippingtest.StatusUnshipped); err != nil {
				t.Fatal(err)
			}
			so, err := s.PlaceOrder(ctx, order(ext))
			held, _ := fake.Order(ext)
			if err != nil || so.ID != held.OrderID || so.Status != string(dropsync.POInProduction) {
				t.Errorf("place once paid: got %+v, %v, want order %s in production", so, err, held.OrderID)
			}
			if got := fake.Created(); got != 1 {
				t.Errorf("orders created: got %d, want 1", got)
			}
		})
	}
}

// openStore is a TokenStore whose place locks never exclude, as if they were lost: CJ's own
// refusal of a second order number must still end with one order.
type openStore struct{ *MemoryTokenStore }

func (o openStore) Lock(ctx context.Context, name string, ttl time.Duration) (func(), bool, error) {
	if strings.HasPrefix(name, "place:") {
		return func() {}, true, nil
	}
	return o.MemoryTokenStore.Lock(ctx, name, ttl)
}

func TestPlaceOrderDuplicateNumber(t *testing.T) {
	fake := newFake(t, cjdropshippingtest.Options{})
	fake.SetDelay(20 * time.Millisecond) // every lookup misses before any create lands
	store := openStore{NewMemoryTokenStore()}
	// The token first, so that the workers race at the lookup, not at the token.
	if _, err := newSupplier(testConfig(fake.BaseURL()), store, fixedNow).Inventory(context.Background(), []string{vidTowel}); err != nil {
		t.Fatal(err)
	}
	ext := "example.myshopify.com-12-cj"
	var wg sync.WaitGroup
	ids := make([]string, 3)
	errs := make([]error, 3)
	for i := range ids {
		s := newSupplier(testConfig(fake.BaseURL()), store, fixedNow)
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
		if errs[i] != nil || ids[i] != held.OrderID {
			t.Errorf("worker %d: got %q, %v, want %s", i, ids[i], errs[i], held.OrderID)
		}
	}
	if got := fake.Created(); got != 1 {
		t.Errorf("orders created: got %d, want 1", got)
	}
	if got := fake.PlaceCount(); got < 2 {
		t.Errorf("createOrderV2 calls: got %d, want the race (≥2)", got)
	}
}

func TestCancelOrder(t *testing.T) {
	tests := []struct {
		name    string
		status  string // at CJ before the cancel; "" leaves it paid
		code    string
		reason  string
		deletes int
	}{
		{name: "unpaid", status: cjdropshippingtest.StatusUnpaid, deletes: 1},
		{name: "cancelled already", status: cjdropshippingtest.StatusCancelled, deletes: 0},
		{name: "paid", code: dropsync.ECONFLICT, reason: ReasonNotCancellable, deletes: 1},
		{name: "delivered", status: cjdropshippingtest.StatusDelivered, code: dropsync.ECONFLICT, reason: dropsync.ReasonAlreadyShipped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t, cjdropshippingtest.Options{})
			s := newSupplier(testConfig(fake.BaseURL()), NewMemoryTokenStore(), fixedNow)
			ext := "example.myshopify.com-13-cj"
			ref := placed(t, s, ext)
			if tt.status != "" {
				if err := fake.SetStatus(ext, tt.status); err != nil {
					t.Fatal(err)
				}
			}
			got, err := s.CancelOrder(context.Background(), dropsync.SupplierOrderRef{ExternalID: ext})
			if tt.code != "" {
				checkErr(t, err, tt.code, tt.reason)
			} else if err != nil || got.ID != ref.ID || got.Status != string(dropsync.POCancelled) {
				t.Errorf("cancel: got %+v, %v, want %s cancelled", got, err, ref.ID)
			}
			if got := len(fake.Requests(http.MethodDelete, "")); got != tt.deletes {
				t.Errorf("deleteOrder calls: got %d, want %d", got, tt.deletes)
			}
		})
	}
}

func TestInventory(t *testing.T) {
	fake := newFake(t, cjdropshippingtest.Options{Variants: []cjdropshippingtest.Variant{
		{VID: vidTowel, SKU: "CJJJJTJT05843-Linen", ProductID: "P-TOWEL", Price: "4.20", Stock: 10},
		{VID: vidMug, SKU: "CJJSBGDY00002-Black", ProductID: "P-MUG", Price: "3.10", Stock: 7, Warehouse: "US"},
		{VID: vidCoaster, SKU: "CJJSBGDY00003-Oak", ProductID: "P-MUG", Price: "1.05", Stock: 8},
	}})
	s := newSupplier(testConfig(fake.BaseURL()), NewMemoryTokenStore(), fixedNow)
	got, err := s.Inventory(context.Background(), []string{vidTowel, "sku:CJJSBGDY00003-Oak", vidMug, vidUnknown, "sku:NOPE", " "})
	if err != nil {
		t.Fatalf("inventory: %v", err)
	}
	want := []dropsync.Stock{
		{SKU: vidTowel, Available: 10, UnitCost: dropsync.Money{Amount: decimal.RequireFromString("4.20"), Currency: "USD"}},
		{SKU: "sku:CJJSBGDY00003-Oak", Available: 8, UnitCost: dropsync.Money{Amount: decimal.RequireFromString("1.05"), Currency: "USD"}},
		// Stock in the US warehouse does not ship from CN.
		{SKU: vidMug, Available: 0, UnitCost: dropsync.Money{Amount: decimal.RequireFromString("3.10"), Currency: "USD"}},
	}
	if len(got) != len(want) {
		t.Fatalf("inventory: got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].SKU != want[i].SKU || got[i].Available != want[i].Available || !got[i].UnitCost.Amount.Equal(want[i].UnitCost.Amount) || got[i].UnitCost.Currency != "USD" {
			t.Errorf("inventory[%d]: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestPlaceOrderAddress(t *testing.T) {
	tests := []struct {
		name string
		edit func(*dropsync.Address)
	}{
		{"no city", func(a *dropsync.Address) { a.City = "" }},
		{"no country", func(a *dropsync.Address) { a.CountryCode, a.Country = "", "" }},
		{"no name", func(a *dropsync.Address) { a.FirstName, a.LastName = "", "" }},
		{"name longer than CJ takes", func(a *dropsync.Address) { a.LastName = strings.Repeat("Shipper-", 8) }},
		{"zip longer than CJ takes", func(a *dropsync.Address) { a.Zip = strings.Repeat("4", 21) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t, cjdropshippingtest.Options{})
			s := newSupplier(testConfig(fake.BaseURL()), NewMemoryTokenStore(), fixedNow)
			req := order("example.myshopify.com-14-cj")
			tt.edit(&req.ShippingAddress)
			_, err := s.PlaceOrder(context.Background(), req)
			checkErr(t, err, dropsync.EPERMANENT, dropsync.ReasonInvalidAddress)
			if got := fake.PlaceCount(); got != 0 {
				t.Errorf("createOrderV2 calls: got %d, want 0 (refused before sending)", got)
			}
		})
	}
}

func TestPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+48 42 638 44 00", "+48 42 638 44 00"},
		{"+1 (555) 555-0100 ext. 12", "+1555555010012"},
		{"+49 (0) 30 1234 5678 9012 3456", ""},
	}
	for _, tt := range tests {
		if got := phone(tt.in); got != tt.want {
			t.Errorf("phone(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestPacing keeps CJ's pace: the fake refuses calls closer than its interval, so a
// connector without pacing is refused and a paced one is not.
func TestPacing(t *testing.T) {
	t.Run("unpaced", func(t *testing.T) {
		fake := newFake(t, cjdropshippingtest.Options{MinInterval: time.Second})
		s := newSupplier(testConfig(fake.BaseURL()), NewMemoryTokenStore(), fixedNow)
		_, err := s.Inventory(context.Background(), []string{vidTowel})
		checkErr(t, err, dropsync.ERATELIMITED, "")
		if got, _ := dropsync.RetryAfter(err); got != time.Second {
			t.Errorf("RetryAfter: got %v, want 1s", got)
		}
	})
	t.Run("paced", func(t *testing.T) {
		fake := newFake(t, cjdropshippingtest.Options{MinInterval: 20 * time.Millisecond})
		s := newSupplier(testConfig(fake.BaseURL()), NewMemoryTokenStore(), fixedNow)
		s.interval = 60 * time.Millisecond
		if _, err := s.Inventory(context.Background(), []string{vidTowel, vidMug}); err != nil {
			t.Fatalf("inventory: %v", err)
		}
		if got := fake.RateLimited(); got != 0 {
			t.Errorf("calls refused for coming too fast: got %d, want 0", got)
		}
	})
	t.Run("booked out", func(t *testing.T) {
		fake := newFake(t, cjdropshippingtest.Options{})
		store := NewMemoryTokenStore()
		s := newSupplier(testConfig(fake.BaseURL()), store, fixedNow)
		s.interval = time.Hour // the first call books the next hour
		_, err := s.Inventory(context.Background(), []string{vidTowel})
		checkErr(t, err, dropsync.ERATELIMITED, "")
		if got := len(fake.Requests("", "")); got != 1 {
			t.Errorf("requests sent: got %d, want 1 (then the pace is booked out)", got)
		}
	})
}
