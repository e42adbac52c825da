package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/connectors/shopify/shopifytest"
	"github.com/dropsync/dropsync/connectors/supplier/http/suppliertest"
	"github.com/dropsync/dropsync/internal/dropsync"
)

func d(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// multiSupplierOrder has a line for acme, a bundle for beta, a 3-pack for acme and a line
// nobody maps.
func multiSupplierOrder(id int64, opts ...shopifytest.OrderOption) shopifytest.Order {
	opts = append([]shopifytest.OrderOption{shopifytest.WithLines(
		shopifytest.LineSpec{SKU: "TSHIRT-RED-M", VariantID: 11, Quantity: 2, Price: d("19.90")},
		shopifytest.LineSpec{SKU: "MUG-SET", VariantID: 22, Quantity: 1, Price: d("14.00")},
		shopifytest.LineSpec{SKU: "SOCKS-3PK", VariantID: 33, Quantity: 2, Price: d("9.00")},
		shopifytest.LineSpec{SKU: "HANDMADE-CARD", VariantID: 44, Quantity: 1, Price: d("3.50")},
	), shopifytest.WithUnicodeCustomer()}, opts...)
	return shopifytest.SampleOrder(id, opts...)
}

func TestSpineWebhookToSupplierToFulfillment(t *testing.T) {
	w := newWorld(t, worldOpts{})
	const id = 450789469
	order := multiSupplierOrder(id)
	if st := w.addOrder(order, "orders/create"); st != 200 {
		t.Fatalf("webhook status %d, want 200", st)
	}
	acmeID := dropsync.POID(testShop, id, "acme")
	betaID := dropsync.POID(testShop, id, "beta")
	w.waitState(id, "forwarded")

	// Exactly one supplier order per supplier, with the right SKUs, quantities and address.
	ao, ok := w.acme.Order(acmeID)
	if !ok {
		t.Fatalf("acme has no order %s", acmeID)
	}
	if got, want := items(ao.Placed.Items), "ACME-TS-R-M×2 ACME-SOCK×6"; got != want {
		t.Errorf("acme items %s, want %s", got, want)
	}
	bo, ok := w.beta.Order(betaID)
	if !ok {
		t.Fatalf("beta has no order %s", betaID)
	}
	if got, want := items(bo.Placed.Items), "BETA-MUG×1 BETA-LID×1"; got != want {
		t.Errorf("beta items %s, want %s", got, want)
	}
	ship, _ := w.shopify.Order(id)
	addr := ao.Placed.ShippingAddress
	if addr.Name != ship.ShippingAddress.Name || addr.City != ship.ShippingAddress.City ||
		addr.Zip != ship.ShippingAddress.Zip || addr.CountryCode != ship.ShippingAddress.CountryCode {
		t.Errorf("acme got address %+v, want the order's %+v", addr, ship.ShippingAddress)
	}
	if w.acme.Created() != 1 || w.beta.Created() != 1 {
		t.Fatalf("supplier orders created: acme %d, beta %d; want 1 each", w.acme.Created(), w.beta.Created())
	}
	if got := ao.Placed.Currency; got != "USD" {
		t.Errorf("currency %q", got)
	}

	// Duplicate deliveries of the same webhook and a redelivery with a new id change nothing.
	body := w.shopify.OrderJSON(id)
	for i := 0; i < 3; i++ {
		if st := w.deliver("orders/create", body, "dup-webhook-1"); st != 200 {
			t.Fatalf("duplicate delivery status %d", st)
		}
	}
	w.deliver("orders/updated", body, "")
	before := w.order(id)

	// The suppliers ship: acme in two parcels, beta in one.
	if err := w.acme.Ship(acmeID, suppliertest.Parcel{Items: []suppliertest.ItemQty{{SKU: "ACME-TS-R-M", Quantity: 2}}}); err != nil {
		t.Fatal(err)
	}
	w.waitState(id, "partially_shipped")
	if err := w.acme.Ship(acmeID); err != nil {
		t.Fatal(err)
	}
	if err := w.beta.Ship(betaID); err != nil {
		t.Fatal(err)
	}
	v := w.waitState(id, "fulfilled")

	fs := w.shopify.Fulfillments(id)
	if len(fs) != 3 {
		t.Fatalf("shopify has %d fulfillments, want 3 (one per parcel)", len(fs))
	}
	tracking := map[string]bool{}
	for _, f := range fs {
		tracking[f.TrackingNumber] = true
	}
	parcels := 0
	for _, po := range v.PurchaseOrders {
		for _, sh := range po.Shipments {
			parcels++
			if !sh.Pushed || !tracking[sh.TrackingNumber] {
				t.Errorf("parcel %s (%s) pushed=%v, in shopify=%v", sh.ID, sh.TrackingNumber, sh.Pushed, tracking[sh.TrackingNumber])
			}
		}
	}
	if parcels != 3 {
		t.Errorf("order has %d parcels, want 3", parcels)
	}
	// The unmapped line is left to the merchant: still fulfillable at Shopify.
	for _, fo := range w.shopify.FulfillmentOrders(id) {
		for _, li := range fo.LineItems {
			var want int
			if li.LineItemID == order.LineItems[3].ID {
				want = 1
			}
			if int(li.FulfillableQuantity) != want {
				t.Errorf("line %d fulfillable %d, want %d", li.LineItemID, li.FulfillableQuantity, want)
			}
		}
	}
	if w.acme.Created() != 1 || w.beta.Created() != 1 {
		t.Errorf("after duplicates: acme %d, beta %d supplier orders; want 1 each", w.acme.Created(), w.beta.Created())
	}
	if before.PurchaseOrders[0].SupplierOrderID == nil {
		t.Errorf("supplier order id missing in admin view")
	}

	// Once fulfilled, the order is invoiced: JSON and PDF through the admin API.
	w.eventually("invoice issued", func() bool { v = w.order(id); return v.InvoiceNumber != nil }, nil)
	var inv struct {
		Number  string `json:"number"`
		OrderID int64  `json:"order_id"`
		Total   string `json:"total"`
	}
	if st := w.api("GET", "/api/v1/invoices/"+*v.InvoiceNumber, nil, &inv); st != 200 {
		t.Fatalf("GET invoice: %d", st)
	}
	if inv.OrderID != id || inv.Total != order.TotalPrice.StringFixed(2) || !strings.HasPrefix(inv.Number, "INV-") {
		t.Errorf("invoice %+v, want order %d total %s", inv, id, order.TotalPrice.StringFixed(2))
	}
	pdf := w.raw("GET", "/api/v1/invoices/"+*v.InvoiceNumber+".pdf")
	if !strings.HasPrefix(pdf, "%PDF-") {
		t.Errorf("invoice PDF starts %.8q", pdf)
	}
}

func TestBadSignatureStoresNothing(t *testing.T) {
	w := newWorld(t, worldOpts{})
	o := multiSupplierOrder(777)
	w.shopify.AddOrder(o)
	body := w.shopify.OrderJSON(777)
	for _, tc := range []struct {
		name, shop, hmac string
	}{
		{"wrong secret", testShop, shopifytest.Sign("not-the-secret", body)},
		{"no signature", testShop, ""},
		{"unknown shop", "other.myshopify.com", shopifytest.Sign(testWebhookSecret, body)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := newWebhookRequest(w.base, "orders/create", tc.shop, tc.hmac, body)
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Fatalf("status %d, want 401", resp.StatusCode)
			}
		})
	}
	rdb := redis.NewClient(mustParseURL(t, w.main.Config.Redis.URL))
	defer rdb.Close()
	keys, err := rdb.Keys(t.Context(), "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, "777") || strings.HasPrefix(k, "asynq:{intake}:t:") {
			t.Errorf("bad webhook left key %s", k)
		}
	}
	if st := w.api("GET", fmt.Sprintf("/api/v1/shops/%s/orders/777", testShop), nil, nil); st != 404 {
		t.Errorf("order 777 status %d, want 404", st)
	}
}

func items(its []suppliertest.OrderItem) string {
	var parts []string
	for _, it := range its {
		parts = append(parts, fmt.Sprintf("%s×%d", it.SKU, it.Quantity))
	}
	return strings.Join(parts, " ")
}
