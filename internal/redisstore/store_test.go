package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/redisstore"
	"github.com/dropsync/dropsync/internal/redistest"
)

const shop = "test-store.myshopify.com"

func newStore(t *testing.T) *redisstore.Store {
	t.Helper()
	return redisstore.New(redistest.Client(t), nil)
}

func sale(id int64, updated time.Time) dropsync.Sale {
	return dropsync.Sale{Shop: shop, ID: id, Name: fmt.Sprintf("#%d", id), CreatedAt: updated,
		UpdatedAt: updated, Currency: "USD", FinancialStatus: "paid"}
}

func create(t *testing.T, s *redisstore.Store, id int64) dropsync.Order {
	t.Helper()
	o, wrote, err := s.Upsert(context.Background(), shop, id, func(o *dropsync.Order, exists bool) error {
		if exists {
			return dropsync.ErrNoChange
		}
		o.Sale = sale(id, time.Date(2026, 11, 28, 10, 0, int(id%60), 0, time.UTC))
		o.State = dropsync.StateReceived
		return nil
	})
	if err != nil || !wrote {
		t.Fatalf("create order %d: wrote %v, err %v", id, wrote, err)
	}
	return o
}

func TestUpsertConcurrentWritersLoseNothing(t *testing.T) {
	s := newStore(t)
	create(t, s, 1)
	const writers = 40
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := s.UpdateOrder(context.Background(), shop, 1, func(o *dropsync.Order) error {
				o.Record(time.Now(), "test", fmt.Sprint(i))
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	o, err := s.Order(context.Background(), shop, 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(o.Timeline), writers; got != want {
		t.Fatalf("timeline has %d events, want %d", got, want)
	}
	if got, want := o.Version, int64(writers+1); got != want {
		t.Fatalf("version %d, want %d", got, want)
	}
}

func TestStateIndexFollowsOrder(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for id := int64(1); id <= 3; id++ {
		create(t, s, id)
	}
	if _, _, err := s.UpdateOrder(ctx, shop, 2, func(o *dropsync.Order) error {
		o.Hold(time.Now(), dropsync.Hold{Rule: "payment", Reason: "order is pending"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	held, err := s.Orders(ctx, shop, dropsync.StateHeld, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(held) != 1 || held[0].ID != 2 {
		t.Fatalf("held orders = %v, want only order 2", ids(held))
	}
	received, _ := s.Orders(ctx, shop, dropsync.StateReceived, 10)
	if got, want := ids(received), []int64{3, 1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("received = %v, want %v (newest first)", got, want)
	}
	counts, err := s.CountByState(ctx, shop)
	if err != nil {
		t.Fatal(err)
	}
	if counts[dropsync.StateHeld] != 1 || counts[dropsync.StateReceived] != 2 {
		t.Fatalf("counts = %v", counts)
	}
}

func TestNoChangeWritesNothing(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	create(t, s, 7)
	o, wrote, err := s.UpdateOrder(ctx, shop, 7, func(o *dropsync.Order) error {
		o.State = dropsync.StateFailed // must not leak out when the change is dropped
		return dropsync.ErrNoChange
	})
	if err != nil || wrote {
		t.Fatalf("wrote %v err %v", wrote, err)
	}
	if o.State != dropsync.StateReceived || o.Version != 1 {
		t.Fatalf("got state %s version %d, want received 1", o.State, o.Version)
	}
}

func TestUpdateMissingOrderIsNotFound(t *testing.T) {
	s := newStore(t)
	_, _, err := s.UpdateOrder(context.Background(), shop, 99, func(o *dropsync.Order) error { return nil })
	if got := dropsync.ErrorCode(err); got != dropsync.ENOTFOUND {
		t.Fatalf("code %q, want %q (err %v)", got, dropsync.ENOTFOUND, err)
	}
	_, err = s.Order(context.Background(), shop, 99)
	if got := dropsync.ErrorCode(err); got != dropsync.ENOTFOUND {
		t.Fatalf("Order: code %q, want not_found", got)
	}
}

func TestUpdateErrorAborts(t *testing.T) {
	s := newStore(t)
	create(t, s, 5)
	boom := errors.New("boom")
	_, _, err := s.UpdateOrder(context.Background(), shop, 5, func(o *dropsync.Order) error {
		o.State = dropsync.StateFailed
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err %v, want boom", err)
	}
	o, _ := s.Order(context.Background(), shop, 5)
	if o.State != dropsync.StateReceived {
		t.Fatalf("state %s after an aborted update", o.State)
	}
}

func TestOpenPurchaseOrdersIndex(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	create(t, s, 10)
	po := dropsync.POID(shop, 10, "acme")
	set := func(st dropsync.POState) {
		t.Helper()
		if _, _, err := s.UpdateOrder(ctx, shop, 10, func(o *dropsync.Order) error {
			if len(o.PurchaseOrders) == 0 {
				o.PurchaseOrders = []dropsync.PurchaseOrder{{ID: po, Supplier: "acme"}}
			}
			o.PurchaseOrders[0].State = st
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		state dropsync.POState
		open  bool
	}{
		{dropsync.POPending, false},
		{dropsync.POAccepted, true},
		{dropsync.POPartiallyShipped, true},
		{dropsync.POShipped, false},
	} {
		set(tc.state)
		got, err := s.OpenPurchaseOrders(ctx, "acme", 0)
		if err != nil {
			t.Fatal(err)
		}
		if open := len(got) == 1 && got[0] == po; open != tc.open {
			t.Fatalf("state %s: open list %v, want open=%v", tc.state, got, tc.open)
		}
	}
}

func TestReplaceMappingsIsAtomicAndScoped(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	row := func(sku, sup string, prio int) dropsync.Mapping {
		return dropsync.Mapping{Shop: shop, SKU: sku, Supplier: sup, SupplierSKU: sup + "-" + sku,
			UnitCost: decimal.RequireFromString("4.20"), Currency: "USD", Quantity: 1, Priority: prio}
	}
	v1, err := s.ReplaceMappings(ctx, shop, []dropsync.Mapping{row("A", "acme", 1), row("A", "beta", 2), row("B", "acme", 1)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.MappingsFor(ctx, shop, []string{"A", "missing"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Supplier != "acme" || !got[0].UnitCost.Equal(decimal.RequireFromString("4.2")) {
		t.Fatalf("rows for A = %+v", got)
	}
	v2, err := s.ReplaceMappings(ctx, shop, []dropsync.Mapping{row("C", "acme", 1)})
	if err != nil {
		t.Fatal(err)
	}
	if v2 != v1+1 {
		t.Fatalf("version %d after %d", v2, v1)
	}
	all, _ := s.Mappings(ctx, shop)
	if len(all) != 1 || all[0].SKU != "C" {
		t.Fatalf("after replace: %+v, want only C", all)
	}
	if _, err := s.ReplaceMappings(ctx, shop, []dropsync.Mapping{{Shop: "other.myshopify.com", SKU: "X"}}); dropsync.ErrorCode(err) != dropsync.EINVALID {
		t.Fatalf("foreign shop row: err %v, want invalid", err)
	}
	all, _ = s.Mappings(ctx, shop)
	if len(all) != 1 {
		t.Fatalf("a rejected replacement changed the mappings: %+v", all)
	}
}

func ids(os []dropsync.Order) []int64 {
	var out []int64
	for _, o := range os {
		out = append(out, o.ID)
	}
	return out
}

// A polled purchase order goes to the back of its supplier's open list, so a poll that reads
// one page at a time reaches every purchase order in turn.
func TestTouchOpenPurchaseOrderRotates(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for id := int64(1); id <= 3; id++ {
		create(t, s, id)
		if _, _, err := s.UpdateOrder(ctx, shop, id, func(o *dropsync.Order) error {
			o.PurchaseOrders = []dropsync.PurchaseOrder{{ID: dropsync.POID(shop, id, "acme"), Supplier: "acme", State: dropsync.POAccepted}}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	first, _ := s.OpenPurchaseOrders(ctx, "acme", 1)
	time.Sleep(2 * time.Millisecond)
	if err := s.TouchOpenPurchaseOrder(ctx, "acme", first[0]); err != nil {
		t.Fatal(err)
	}
	next, _ := s.OpenPurchaseOrders(ctx, "acme", 1)
	if next[0] == first[0] {
		t.Fatalf("the purchase order just polled (%s) is still first", first[0])
	}
	if err := s.TouchOpenPurchaseOrder(ctx, "acme", "not-open"); err != nil {
		t.Fatal(err)
	}
	all, _ := s.OpenPurchaseOrders(ctx, "acme", 0)
	if len(all) != 3 {
		t.Fatalf("touching a purchase order that is not open added it: %v", all)
	}
}
