package printful

import (
	"context"
	"flag"
	"net/http"
	"testing"

	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/connectors/supplier/printful/printfultest"
	"github.com/dropsync/dropsync/connectors/supplier/suppliertest"
	"github.com/dropsync/dropsync/internal/dropsync"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestPlaceOrderGolden pins the exact body dropsync sends Printful for a realistic purchase
// order: a bundle (a mug and a coaster fulfil one storefront line), a 3-pack bought twice
// (6 supplier units), a non-ASCII address and line properties (which Printful has no field
// for). The golden file is the sent body indented (whitespace only). Refresh it with
// go test -update.
func TestPlaceOrderGolden(t *testing.T) {
	fake := newFake(t, printfultest.Options{Variants: []printfultest.Variant{
		{SyncVariantID: 4013547122, ExternalID: "shopify-40011", CatalogVariantID: 1320, Name: "Mug / Black 11oz", Price: "7.25", InStock: true},
		{SyncVariantID: 4013547130, CatalogVariantID: 8871, Name: "Coaster / Oak", Price: "3.40", InStock: true},
		{SyncVariantID: 4013547121, CatalogVariantID: 4011, Name: "Tea towel / Linen", Price: "9.95", InStock: true},
	}})
	s := New(testConfig(fake.URL()), nil, fixedNow, zerolog.Nop())
	engraving := []dropsync.Property{{Name: "Engraving", Value: "Zoë & Łukasz <3"}}
	req := dropsync.SupplierOrderRequest{
		ExternalID: "herbata-i-spolka.myshopify.com-5012345678901-pf",
		OrderName:  "#1042",
		Currency:   "EUR",
		ShippingAddress: dropsync.Address{
			FirstName: "Zoë", LastName: "Müller", Address1: "ul. Piotrkowska 104", Address2: "m. 7",
			City: "Łódź", Province: "łódzkie", Zip: "90-926", Country: "Poland", CountryCode: "PL",
			Phone: "+48 42 638 44 00",
		},
		Email: "zoe.muller@example.com",
		Items: []dropsync.SupplierItem{
			{SKU: "@shopify-40011", Quantity: 1, UnitCost: decimal.RequireFromString("7.25"), Title: "Gift set", Properties: engraving},
			{SKU: "4013547130", Quantity: 1, UnitCost: decimal.RequireFromString("3.4"), Title: "Gift set", Properties: engraving},
			{SKU: "sync:4013547121", Quantity: 6, UnitCost: decimal.RequireFromString("9.95"), Title: "Linen tea towel (3-pack)"},
		},
		Note:        "Leave with the concierge",
		PackingSlip: &dropsync.PackingSlip{StoreName: "Herbata & Spółka", Message: "Dziękujemy za zamówienie!"},
	}
	if _, err := s.PlaceOrder(context.Background(), req); err != nil {
		t.Fatalf("place: %v", err)
	}
	reqs := fake.Requests(http.MethodPost, "/orders")
	if len(reqs) != 1 {
		t.Fatalf("POST /orders: got %d requests, want 1", len(reqs))
	}
	if got, want := reqs[0].RawQuery, "confirm=true"; got != want {
		t.Errorf("query: got %q, want %q", got, want)
	}
	suppliertest.GoldenJSON(t, "create_order.golden.json", reqs[0].Body, *update)
}
