package main

import (
	"fmt"
	"net"
	"testing"

	"github.com/dropsync/dropsync/connectors/supplier/printful/printfultest"
	"github.com/dropsync/dropsync/internal/dropsync"
)

// An order mapped to a Printful variant goes through Printful's API: created once with the
// purchase order id as external id, shipped, and its package_shipped webhook (authenticated
// by the token in the URL) becomes the Shopify fulfillment.
func TestPrintfulSupplierEndToEnd(t *testing.T) {
	// The Printful fake needs dropsync's address for its webhook before dropsync starts.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	pf := printfultest.NewServer(printfultest.Options{Token: "pf-token",
		Variants:   []printfultest.Variant{{SyncVariantID: 4011, CatalogVariantID: 5011, Name: "Poster 30x40", Price: "6.50", InStock: true}},
		WebhookURL: "http://" + addr + "/webhooks/suppliers/pf", WebhookSecret: "pf-hook-secret"})
	t.Cleanup(pf.Close)
	w := newWorldAt(t, addr, worldOpts{
		mappings: "e2e-store.myshopify.com,TSHIRT-RED-M,pf,4011,6.50,USD,1,1,\n",
		extraSuppliers: fmt.Sprintf(`  - id: pf
    kind: printful
    base_url: %s
    token: pf-token
    webhook_secret: pf-hook-secret
    poll_interval: 0
`, pf.URL()),
	})
	const id = 9301
	w.addOrder(simpleOrder(id), "orders/create")
	w.waitState(id, "forwarded")
	poID := dropsync.POID(testShop, id, "pf")
	if _, ok := pf.Order(poID); !ok || pf.Created() != 1 {
		t.Fatalf("printful order %s: found %v, created %d", poID, ok, pf.Created())
	}
	must(t, pf.Ship(poID))
	w.waitState(id, "fulfilled")
	if n := len(w.shopify.Fulfillments(id)); n != 1 {
		t.Fatalf("%d fulfillments, want 1", n)
	}
}
