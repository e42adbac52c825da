package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dropsync/dropsync/connectors/shopify/shopifytest"
	"github.com/dropsync/dropsync/connectors/supplier/http/suppliertest"
	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/httpapi"
)

const fallbackMappings = `e2e-store.myshopify.com,TSHIRT-RED-M,acme,ACME-TS-R-M,4.20,USD,1,1,
e2e-store.myshopify.com,TSHIRT-RED-M,beta,BETA-TS-R-M,4.60,USD,1,2,
e2e-store.myshopify.com,POSTER,acme,ACME-POSTER,2.00,USD,1,1,US;CA
e2e-store.myshopify.com,POSTER,beta,BETA-POSTER,2.50,USD,1,2,
`

func fallbackWorld(t *testing.T, acmeTS int) *world {
	return newWorld(t, worldOpts{mappings: fallbackMappings,
		acmeItems: map[string]suppliertest.Item{
			"ACME-TS-R-M": {Available: acmeTS, UnitCost: "4.20", Currency: "USD"},
			"ACME-POSTER": {Available: 100, UnitCost: "2.00", Currency: "USD"},
		},
		betaItems: map[string]suppliertest.Item{
			"BETA-TS-R-M": {Available: 100, UnitCost: "4.60", Currency: "USD"},
			"BETA-POSTER": {Available: 100, UnitCost: "2.50", Currency: "USD"},
		}})
}

func TestFallbackWhenPrimaryIsOutOfStock(t *testing.T) {
	t.Run("stock read before forwarding", func(t *testing.T) {
		w := fallbackWorld(t, 0)
		const id = 8001
		w.addOrder(simpleOrder(id), "orders/create")
		v := w.waitState(id, "forwarded")
		if len(v.PurchaseOrders) != 1 || v.PurchaseOrders[0].Supplier != "beta" {
			t.Fatalf("purchase orders %+v, want one at beta", v.PurchaseOrders)
		}
		if w.acme.PlaceCount() != 0 {
			t.Fatalf("acme was asked to ship what it does not have")
		}
	})
	t.Run("supplier refuses with 422 out_of_stock", func(t *testing.T) {
		w := fallbackWorld(t, 5)
		// Warm dropsync's short stock cache with acme's 5, then empty acme's shelf: the
		// refusal must move the line to beta.
		w.addOrder(simpleOrder(8101), "orders/create")
		w.waitState(8101, "forwarded")
		w.acme.SetStock("ACME-TS-R-M", 0)
		const id = 8102
		w.addOrder(simpleOrder(id), "orders/create")
		v := w.waitState(id, "forwarded")
		var states []string
		for _, po := range v.PurchaseOrders {
			states = append(states, po.Supplier+":"+string(po.State))
		}
		if got, want := strings.Join(states, " "), "acme:rejected beta:accepted"; got != want {
			t.Fatalf("purchase orders %s, want %s", got, want)
		}
		if _, ok := w.beta.Order(dropsync.POID(testShop, id, "beta")); !ok {
			t.Fatal("beta never got the order")
		}
		if !hasEvent(v, "refused") {
			t.Errorf("timeline does not record the refusal: %v", v.Timeline)
		}
	})
	t.Run("country restriction", func(t *testing.T) {
		w := fallbackWorld(t, 100)
		const id = 8201
		o := shopifytest.SampleOrder(id, shopifytest.WithShippingCountry("DE"), shopifytest.WithLines(
			shopifytest.LineSpec{SKU: "POSTER", VariantID: 9, Quantity: 1, Price: d("12.00")}))
		w.addOrder(o, "orders/create")
		v := w.waitState(id, "forwarded")
		if len(v.PurchaseOrders) != 1 || v.PurchaseOrders[0].Supplier != "beta" {
			t.Fatalf("purchase orders %+v, want beta (acme ships to US/CA only)", v.PurchaseOrders)
		}
	})
	t.Run("no supplier can", func(t *testing.T) {
		w := newWorld(t, worldOpts{mappings: fallbackMappings,
			acmeItems: map[string]suppliertest.Item{"ACME-TS-R-M": {Available: 0, UnitCost: "4.20", Currency: "USD"}},
			betaItems: map[string]suppliertest.Item{"BETA-TS-R-M": {Available: 0, UnitCost: "4.60", Currency: "USD"}}})
		const id = 8301
		w.addOrder(simpleOrder(id), "orders/create")
		v := w.waitState(id, "held")
		if !strings.Contains(v.HoldReason, "mapping") || !strings.Contains(v.HoldReason, "out_of_stock") {
			t.Fatalf("hold reason %q, want a mapping hold naming out_of_stock", v.HoldReason)
		}
	})
}

func TestReleaseAndListByState(t *testing.T) {
	w := newWorld(t, worldOpts{})
	const id = 8401
	w.addOrder(simpleOrder(id, shopifytest.WithFinancialStatus("pending")), "orders/create")
	w.waitState(id, "held")
	var list struct {
		Orders []httpapi.OrderView `json:"orders"`
	}
	if st := w.api("GET", "/api/v1/shops/"+testShop+"/orders?state=held", nil, &list); st != 200 || len(list.Orders) != 1 || list.Orders[0].ID != id {
		t.Fatalf("held list: status %d, %+v", st, list)
	}
	// A release without override verifies again: still unpaid, still held.
	var v httpapi.OrderView
	if st := w.api("POST", fmt.Sprintf("/api/v1/shops/%s/orders/%d/release", testShop, id), nil, &v); st != 200 {
		t.Fatalf("release: %d", st)
	}
	v = w.waitState(id, "held")
	if !hasEvent(v, "released") {
		t.Fatalf("release not in the timeline")
	}
	// An override without a note is refused; with one the order goes on, on the record.
	if st := w.api("POST", fmt.Sprintf("/api/v1/shops/%s/orders/%d/release", testShop, id),
		strings.NewReader(`{"override":true}`), nil); st != 400 {
		t.Fatalf("override without a note: %d, want 400", st)
	}
	if st := w.api("POST", fmt.Sprintf("/api/v1/shops/%s/orders/%d/release", testShop, id),
		strings.NewReader(`{"override":true,"note":"paid by bank transfer"}`), &v); st != 200 {
		t.Fatalf("override: %d", st)
	}
	v = w.waitState(id, "forwarded")
	found := false
	for _, e := range v.Timeline {
		if e.Event == "released" && strings.Contains(e.Detail, "paid by bank transfer") && strings.Contains(e.Detail, "payment") {
			found = true
		}
	}
	if !found {
		t.Errorf("the override and its note are not in the timeline: %v", v.Timeline)
	}
	// Releasing an order that is not held is a conflict.
	if st := w.api("POST", fmt.Sprintf("/api/v1/shops/%s/orders/%d/release", testShop, id), nil, nil); st != 409 {
		t.Errorf("release of a forwarded order: %d, want 409", st)
	}
	for _, tc := range []struct{ path string }{
		{"/api/v1/shops/other.myshopify.com/orders/1"},
		{fmt.Sprintf("/api/v1/shops/%s/orders/999999", testShop)},
		{fmt.Sprintf("/api/v1/shops/%s/orders/abc", testShop)},
		{"/api/v1/invoices/INV-2026-999999"},
	} {
		if st := w.api("GET", tc.path, nil, nil); st != 404 {
			t.Errorf("GET %s: %d, want 404", tc.path, st)
		}
	}
}

func TestMappingsAPIAndCLI(t *testing.T) {
	w := newWorld(t, worldOpts{})
	path := "/api/v1/shops/" + testShop + "/mappings"
	bad := "shop,sku,supplier,supplier_sku,unit_cost,currency,quantity,priority,countries\n" +
		testShop + ",A,acme,ACME-A,1.00,USD,1,1,\n" +
		testShop + ",B,nobody,X,1.00,USD,1,1,\n" +
		testShop + ",C,acme,ACME-C,1.00,USD,-2,1,\n" +
		testShop + ",D,acme,ACME-D,1.00,USD,1,1,UK\n"
	var reply struct {
		Error struct {
			Code     string `json:"code"`
			Problems []struct {
				Line    int    `json:"line"`
				Message string `json:"message"`
			} `json:"problems"`
		} `json:"error"`
	}
	if st := w.api("PUT", path, strings.NewReader(bad), &reply); st != 400 {
		t.Fatalf("bad mappings: %d, want 400", st)
	}
	lines := map[int]bool{}
	for _, p := range reply.Error.Problems {
		lines[p.Line] = true
	}
	if !lines[3] || !lines[4] || !lines[5] || lines[2] {
		t.Fatalf("problems %+v, want lines 3, 4 and 5 named", reply.Error.Problems)
	}
	var got struct {
		Mappings []dropsync.Mapping `json:"mappings"`
	}
	w.api("GET", path, nil, &got)
	if len(got.Mappings) != 4 {
		t.Fatalf("a bad file changed the mappings: %d rows, want the 4 loaded at start", len(got.Mappings))
	}
	good := "shop,sku,supplier,supplier_sku,unit_cost,currency,quantity,priority,countries\n" +
		testShop + ",A,acme,ACME-A,1.00,USD,1,1,\n"
	if st := w.api("PUT", path, strings.NewReader(good), nil); st != 200 {
		t.Fatalf("good mappings: %d", st)
	}
	csv := w.rawAccept("GET", path, "text/csv")
	if !strings.Contains(csv, testShop+",A,acme,ACME-A,1.00,USD,1,1,") || strings.Contains(csv, "TSHIRT") {
		t.Fatalf("CSV export:\n%s", csv)
	}

	// The CLI does the same.
	dir := t.TempDir()
	file := filepath.Join(dir, "m.csv")
	var out, errb bytes.Buffer
	if err := runCommand(context.Background(), []string{"mappings", "export", "--config", w.configPath, "--shop", testShop, file}, &out, &errb); err != nil {
		t.Fatalf("export: %v %s", err, errb.String())
	}
	b, _ := os.ReadFile(file)
	if !strings.Contains(string(b), "ACME-A") {
		t.Fatalf("exported file:\n%s", b)
	}
	os.WriteFile(file, []byte(bad), 0o600)
	err := runCommand(context.Background(), []string{"mappings", "import", file, "--config", w.configPath, "--shop", testShop}, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("import of a bad file: %v, want an error naming line 4", err)
	}
	os.WriteFile(file, []byte(good+testShop+",B,beta,BETA-B,2.00,USD,2,1,\n"), 0o600)
	if err := runCommand(context.Background(), []string{"mappings", "import", "--config", w.configPath, "--shop", testShop, file}, &out, &errb); err != nil {
		t.Fatalf("import: %v", err)
	}
	w.api("GET", path, nil, &got)
	if len(got.Mappings) != 2 {
		t.Fatalf("after CLI import: %d rows, want 2", len(got.Mappings))
	}
}

func hasEvent(v httpapi.OrderView, event string) bool {
	for _, e := range v.Timeline {
		if e.Event == event {
			return true
		}
	}
	return false
}

// A step that gives up marks the order failed in dropsync's own state; a release resumes it.
func TestFailedStepIsVisibleAndReleasable(t *testing.T) {
	w := newWorld(t, worldOpts{})
	const id = 8501
	w.acme.FailNext(1, 401) // the supplier refuses dropsync's token once: not worth retrying
	w.addOrder(simpleOrder(id), "orders/create")
	v := w.waitState(id, "failed")
	if !strings.Contains(v.HoldReason, "po:forward") {
		t.Fatalf("failed reason %q does not name the step", v.HoldReason)
	}
	var failed struct {
		Orders []httpapi.OrderView `json:"orders"`
	}
	w.api("GET", "/api/v1/shops/"+testShop+"/orders?state=failed", nil, &failed)
	if len(failed.Orders) != 1 {
		t.Fatalf("failed list has %d orders", len(failed.Orders))
	}
	if st := w.api("POST", fmt.Sprintf("/api/v1/shops/%s/orders/%d/release", testShop, id), nil, nil); st != 200 {
		t.Fatalf("release: %d", st)
	}
	w.waitState(id, "forwarded")
	if w.acme.Created() != 1 {
		t.Fatalf("acme created %d orders, want 1", w.acme.Created())
	}
}

// Shopify's fraud recommendation holds an order at or above rules.hold_risk.
func TestHighRiskOrderIsHeld(t *testing.T) {
	w := newWorld(t, worldOpts{})
	const id = 8601
	o := simpleOrder(id)
	w.shopify.AddOrder(o)
	w.shopify.SetRisk(id, "cancel")
	w.deliver("orders/create", w.shopify.OrderJSON(id), "")
	v := w.waitState(id, "held")
	if !strings.Contains(v.HoldReason, "risk") {
		t.Fatalf("hold reason %q, want a risk hold", v.HoldReason)
	}
}

// The margin rule uses the supplier's live cost: a mapping that looks profitable is held when
// the supplier's price went up.
func TestMarginUsesLiveCost(t *testing.T) {
	w := newWorld(t, worldOpts{rules: "rules:\n  require_paid: true\n  hold_risk: none\n  min_margin_percent: 50\n",
		acmeItems: map[string]suppliertest.Item{"ACME-TS-R-M": {Available: 10, UnitCost: "15.00", Currency: "USD"}}})
	const id = 8701
	w.addOrder(simpleOrder(id), "orders/create") // sells at 19.90; the mapping says 4.20, acme now asks 15.00
	v := w.waitState(id, "held")
	if !strings.Contains(v.HoldReason, "margin") {
		t.Fatalf("hold reason %q, want a margin hold", v.HoldReason)
	}
}

// A storefront test order never reaches a supplier unless a person releases it.
func TestTestOrderIsHeld(t *testing.T) {
	w := newWorld(t, worldOpts{})
	const id = 8801
	w.addOrder(simpleOrder(id, shopifytest.WithEdit(func(o *shopifytest.Order) { o.Test = true })), "orders/create")
	v := w.waitState(id, "held")
	if !strings.Contains(v.HoldReason, "test_order") {
		t.Fatalf("hold reason %q", v.HoldReason)
	}
	if st := w.api("POST", fmt.Sprintf("/api/v1/shops/%s/orders/%d/release", testShop, id),
		strings.NewReader(`{"override":true,"note":"end-to-end check with the supplier"}`), nil); st != 200 {
		t.Fatalf("release: %d", st)
	}
	w.waitState(id, "forwarded")
}

// One supplier refuses while a sibling purchase order is still on its way to its supplier:
// the refused line falls back and the sibling stands (it is neither held nor sent twice).
func TestRefusalWhileSiblingInFlight(t *testing.T) {
	w := newWorld(t, worldOpts{
		mappings: "e2e-store.myshopify.com,TSHIRT-RED-M,acme,ACME-TS-R-M,4.20,USD,1,1,\n" +
			"e2e-store.myshopify.com,POSTER,beta,BETA-POSTER,2.50,USD,1,1,\n" +
			"e2e-store.myshopify.com,POSTER,beta,BETA-POSTER-ALT,2.70,USD,1,2,\n",
		betaItems: map[string]suppliertest.Item{
			"BETA-POSTER":     {Available: 5, UnitCost: "2.50", Currency: "USD"},
			"BETA-POSTER-ALT": {Available: 5, UnitCost: "2.70", Currency: "USD"},
		}})
	poster := shopifytest.LineSpec{SKU: "POSTER", VariantID: 9, Quantity: 1, Price: d("12.00")}
	// Warm dropsync's short stock cache, then empty the preferred poster at beta.
	w.addOrder(shopifytest.SampleOrder(8901, shopifytest.WithLines(poster)), "orders/create")
	w.waitState(8901, "forwarded")
	w.beta.SetStock("BETA-POSTER", 0)
	w.acme.SetDelay(800 * time.Millisecond) // acme's reply is slow: its purchase order is in flight

	const id = 8902
	w.addOrder(shopifytest.SampleOrder(id, shopifytest.WithLines(
		shopifytest.LineSpec{SKU: "TSHIRT-RED-M", VariantID: 11, Quantity: 1, Price: d("19.90")}, poster)), "orders/create")
	v := w.waitState(id, "forwarded")
	bo, ok := w.beta.Order(dropsync.POID(testShop, id, "beta"))
	if !ok || items(bo.Placed.Items) != "BETA-POSTER-ALT×1" {
		t.Fatalf("beta holds %+v, want the fallback poster", bo.Placed.Items)
	}
	if w.acme.Created() != 1 {
		t.Fatalf("acme created %d orders, want 1", w.acme.Created())
	}
	if !hasEvent(v, "refused") {
		t.Errorf("the refusal is not in the timeline")
	}
}

// A cancellation that comes while the supplier's reply to the order was lost still reaches
// the supplier: dropsync finds the order it may hold and cancels it.
func TestCancelAfterLostReplyReachesSupplier(t *testing.T) {
	w := newWorld(t, worldOpts{})
	const id = 8951
	w.acme.AcceptThenFail(1) // acme takes the order, dropsync hears a 500
	w.addOrder(simpleOrder(id), "orders/create")
	poID := dropsync.POID(testShop, id, "acme")
	w.eventually("acme holds the order", func() bool { _, ok := w.acme.Order(poID); return ok }, nil)
	w.shopify.CancelOrder(id, "customer")
	w.deliver("orders/cancelled", w.shopify.OrderJSON(id), "")
	w.waitState(id, "cancelled")
	w.eventually("acme's order cancelled", func() bool {
		ao, _ := w.acme.Order(poID)
		return ao.Status == "cancelled"
	}, func() string { ao, _ := w.acme.Order(poID); return "acme status " + ao.Status })
	if w.acme.Created() != 1 {
		t.Fatalf("acme created %d orders, want 1", w.acme.Created())
	}
}
