package cjdropshipping

import (
	"context"
	"flag"
	"net/http"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/connectors/supplier/cjdropshipping/cjdropshippingtest"
	"github.com/dropsync/dropsync/connectors/supplier/suppliertest"
	"github.com/dropsync/dropsync/internal/dropsync"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestPlaceOrderGolden pins the exact createOrderV2 body dropsync sends CJ for a realistic
// purchase order: a bundle (a mug and a coaster fulfil one storefront line, both engraved),
// a 3-pack bought twice (6 supplier units), a Polish address without a province and in
// non-ASCII letters, and a company. The golden file is the sent body indented (whitespace
// only). Refresh it with go test -update.
func TestPlaceOrderGolden(t *testing.T) {
	fake := newFake(t, cjdropshippingtest.Options{})
	s := newSupplier(testConfig(fake.BaseURL()), NewMemoryTokenStore(), fixedNow)
	engraving := []dropsync.Property{{Name: "Engraving", Value: "Zoë & Łukasz <3"}, {Name: "_bundle_id", Value: "b1"}}
	req := dropsync.SupplierOrderRequest{
		ExternalID: "herbata-i-spolka.myshopify.com-5012345678901-cj",
		OrderName:  "#1042",
		Currency:   "USD",
		ShippingAddress: dropsync.Address{
			FirstName: "Zoë", LastName: "Müller", Company: "Herbata Sp. z o.o.", Address1: "ul. Piotrkowska 104",
			Address2: "m. 7", City: "Łódź", Zip: "90-926", Country: "Poland", CountryCode: "PL", Phone: "+48 42 638 44 00",
		},
		Email: "zoe.muller@example.com",
		Items: []dropsync.SupplierItem{
			{SKU: vidMug, Quantity: 1, UnitCost: decimal.RequireFromString("3.1"), Title: "Gift set", Properties: engraving},
			{SKU: "sku:CJJSBGDY00003-Oak", Quantity: 1, UnitCost: decimal.RequireFromString("1.05"), Title: "Gift set", Properties: engraving},
			{SKU: vidTowel, Quantity: 6, UnitCost: decimal.RequireFromString("4.2"), Title: "Linen tea towel (3-pack)"},
		},
		Note:        "Leave with the concierge",
		PackingSlip: &dropsync.PackingSlip{StoreName: "Herbata & Spółka", Message: "Dziękujemy za zamówienie!"},
	}
	if _, err := s.PlaceOrder(context.Background(), req); err != nil {
		t.Fatalf("place: %v", err)
	}
	reqs := fake.Requests(http.MethodPost, "/shopping/order/createOrderV2")
	if len(reqs) != 1 {
		t.Fatalf("createOrderV2: got %d requests, want 1", len(reqs))
	}
	suppliertest.GoldenJSON(t, "create_order.golden.json", reqs[0].Body, *update)
}
