package dropsync_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/dropsync/dropsync/internal/dropsync"
)

var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func TestParsePOID(t *testing.T) {
	for _, tc := range []struct {
		name, id, supplier, shop string
		order                    int64
		bad                      bool
	}{
		{"plain", "a-shop.myshopify.com-450789469-acme", "acme", "a-shop.myshopify.com", 450789469, false},
		{"supplier with dashes", "s.myshopify.com-12-big-supply-co", "big-supply-co", "s.myshopify.com", 12, false},
		{"other supplier", "s.myshopify.com-12-acme", "beta", "", 0, true},
		{"no order id", "s.myshopify.com-x-acme", "acme", "", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shop, id, err := dropsync.ParsePOID(tc.id, tc.supplier)
			if tc.bad {
				if err == nil {
					t.Fatalf("ParsePOID(%q) = %q, %d; want an error", tc.id, shop, id)
				}
				return
			}
			if err != nil || shop != tc.shop || id != tc.order {
				t.Fatalf("got %q %d %v, want %q %d", shop, id, err, tc.shop, tc.order)
			}
			if got := dropsync.POID(shop, id, tc.supplier); got != tc.id {
				t.Fatalf("round trip %q, want %q", got, tc.id)
			}
		})
	}
}

func item(line int64, sku string, per, lineQty int) dropsync.POItem {
	return dropsync.POItem{LineID: line, SupplierSKU: sku, UnitsPerLine: per, LineQuantity: lineQty, Quantity: per * lineQty}
}

func parcel(id string, items ...dropsync.ShipmentItem) dropsync.Shipment {
	return dropsync.Shipment{ID: id, TrackingNumber: "T" + id, Items: items}
}

func si(sku string, q int) dropsync.ShipmentItem { return dropsync.ShipmentItem{SKU: sku, Quantity: q} }

func TestParcelUnits(t *testing.T) {
	for _, tc := range []struct {
		name    string
		items   []dropsync.POItem
		parcels []dropsync.Shipment
		want    []string // per parcel, fmt of []LineUnits
	}{
		{
			name:    "one parcel everything",
			items:   []dropsync.POItem{item(1, "A", 1, 2), item(2, "B", 1, 1)},
			parcels: []dropsync.Shipment{parcel("1", si("A", 2), si("B", 1))},
			want:    []string{"[{1 2} {2 1}]"},
		},
		{
			name:    "three-pack ships in two parcels",
			items:   []dropsync.POItem{item(1, "SOCK", 3, 2)},
			parcels: []dropsync.Shipment{parcel("1", si("SOCK", 4)), parcel("2", si("SOCK", 2))},
			want:    []string{"[{1 1}]", "[{1 1}]"},
		},
		{
			name:    "bundle half in first parcel completes nothing",
			items:   []dropsync.POItem{item(1, "MUG", 1, 1), item(1, "LID", 1, 1)},
			parcels: []dropsync.Shipment{parcel("1", si("MUG", 1)), parcel("2", si("LID", 1))},
			want:    []string{"[]", "[{1 1}]"},
		},
		{
			name:    "parcel without items carries the rest",
			items:   []dropsync.POItem{item(1, "A", 1, 3)},
			parcels: []dropsync.Shipment{parcel("1", si("A", 1)), parcel("2")},
			want:    []string{"[{1 1}]", "[{1 2}]"},
		},
		{
			name:    "same supplier sku on two lines fills in order",
			items:   []dropsync.POItem{item(1, "A", 1, 1), item(2, "A", 1, 1)},
			parcels: []dropsync.Shipment{parcel("1", si("A", 1)), parcel("2", si("A", 1))},
			want:    []string{"[{1 1}]", "[{2 1}]"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			po := dropsync.PurchaseOrder{ID: "po", Items: tc.items, Shipments: tc.parcels}
			for i, p := range tc.parcels {
				got, err := po.ParcelUnits(p.ID)
				if err != nil {
					t.Fatal(err)
				}
				if g := fmt.Sprint(got); g != tc.want[i] && !(g == "[]" && tc.want[i] == "[]") {
					t.Errorf("parcel %s: got %s, want %s", p.ID, g, tc.want[i])
				}
			}
			if !po.FullyShipped() {
				t.Errorf("FullyShipped() = false after all parcels")
			}
		})
	}
}

func TestMergeOnlyMovesForward(t *testing.T) {
	po := dropsync.PurchaseOrder{ID: "po", State: dropsync.POAccepted, Items: []dropsync.POItem{item(1, "A", 1, 2)}}
	so := func(status string, parcels ...dropsync.Shipment) dropsync.SupplierOrder {
		return dropsync.SupplierOrder{ID: "SO-1", Status: status, Shipments: parcels}
	}
	touched, changed := po.Merge(so("partially_shipped", parcel("1", si("A", 1))), t0)
	if !changed || fmt.Sprint(touched) != "[1]" || po.State != dropsync.POPartiallyShipped || po.SupplierOrderID != "SO-1" {
		t.Fatalf("first merge: touched %v changed %v state %s", touched, changed, po.State)
	}
	// An older event arrives late: nothing moves back, the parcel is not duplicated.
	touched, changed = po.Merge(so("accepted"), t0)
	if changed || len(touched) != 0 || po.State != dropsync.POPartiallyShipped || len(po.Shipments) != 1 {
		t.Fatalf("stale merge changed things: touched %v state %s", touched, po.State)
	}
	// Cancelled after a parcel left is refused.
	if _, changed = po.Merge(so("cancelled", parcel("1", si("A", 1))), t0); changed || po.State == dropsync.POCancelled {
		t.Fatalf("cancel after shipping applied: state %s", po.State)
	}
	po.Shipments[0].Pushed = true
	po.Shipments[0].PushedTracking = "T1"
	corrected := parcel("1", si("A", 1))
	corrected.TrackingNumber = "T1-NEW"
	touched, changed = po.Merge(so("partially_shipped", corrected), t0)
	if !changed || fmt.Sprint(touched) != "[1]" || po.Shipments[0].Pushed {
		t.Fatalf("tracking correction: touched %v pushed %v", touched, po.Shipments[0].Pushed)
	}
	_, _ = po.Merge(so("shipped", corrected, parcel("2", si("A", 1))), t0)
	if po.State != dropsync.POShipped || len(po.Shipments) != 2 {
		t.Fatalf("final state %s with %d parcels", po.State, len(po.Shipments))
	}
}

func TestAdvance(t *testing.T) {
	o := dropsync.Order{State: dropsync.StateForwarding}
	o.PurchaseOrders = []dropsync.PurchaseOrder{
		{ID: "a", State: dropsync.POPending, Items: []dropsync.POItem{item(1, "A", 1, 1)}},
		{ID: "b", State: dropsync.POPending, Items: []dropsync.POItem{item(2, "B", 1, 1)}},
	}
	step := func(want dropsync.OrderState, change func()) {
		t.Helper()
		change()
		o.Advance(t0)
		if o.State != want {
			t.Fatalf("state %s, want %s", o.State, want)
		}
	}
	step(dropsync.StateForwarding, func() { o.PurchaseOrders[0].State = dropsync.POAccepted })
	step(dropsync.StateForwarded, func() { o.PurchaseOrders[1].State = dropsync.POAccepted })
	step(dropsync.StatePartiallyShipped, func() {
		o.PurchaseOrders[0].Shipments = []dropsync.Shipment{parcel("1", si("A", 1))}
	})
	step(dropsync.StateShipped, func() {
		o.PurchaseOrders[1].Shipments = []dropsync.Shipment{parcel("2", si("B", 1))}
	})
	step(dropsync.StateShipped, func() { o.PurchaseOrders[0].Shipments[0].Pushed = true })
	step(dropsync.StateFulfilled, func() { o.PurchaseOrders[1].Shipments[0].Pushed = true })

	held := dropsync.Order{State: dropsync.StateHeld, PurchaseOrders: o.PurchaseOrders}
	if held.Advance(t0) || held.State != dropsync.StateHeld {
		t.Fatalf("a held order advanced to %s", held.State)
	}
}

func TestErrorHelpers(t *testing.T) {
	err := fmt.Errorf("forward po: %w", &dropsync.Error{Code: dropsync.ERATELIMITED, Message: "slow down", RetryAfter: 3 * time.Second})
	if got := dropsync.ErrorCode(err); got != dropsync.ERATELIMITED {
		t.Fatalf("code %q", got)
	}
	if d, ok := dropsync.RetryAfter(err); !ok || d != 3*time.Second {
		t.Fatalf("RetryAfter = %v %v", d, ok)
	}
	rej := fmt.Errorf("x: %w", dropsync.Rejection(dropsync.ReasonOutOfStock, "A", ""))
	if dropsync.ErrorReason(rej) != dropsync.ReasonOutOfStock || dropsync.IsRetryable(rej) {
		t.Fatalf("rejection reason %q retryable %v", dropsync.ErrorReason(rej), dropsync.IsRetryable(rej))
	}
	if got := dropsync.ErrorMessage(fmt.Errorf("secret detail")); got != "internal error" {
		t.Fatalf("uncoded message %q", got)
	}
}
