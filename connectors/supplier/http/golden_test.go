package http

import (
	"context"
	"flag"
	"net/http"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/connectors/supplier/http/suppliertest"
	shared "github.com/dropsync/dropsync/connectors/supplier/suppliertest"
	"github.com/dropsync/dropsync/internal/dropsync"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestPlaceOrderGolden pins the exact body dropsync sends for a realistic purchase order: a
// bundle (a mug and a coaster fulfil one storefront line), a 3-pack bought twice (6 supplier
// units), a non-ASCII address and line properties. The golden file is the sent body indented
// (whitespace only: key order, escaping and number formats are as sent). Refresh it with
// go test -update.
func TestPlaceOrderGolden(t *testing.T) {
	fake := newFake(t, suppliertest.Options{Catalog: map[string]suppliertest.Item{
		"ACME-MUG-BLK":   {Available: 10, UnitCost: "3.10", Currency: "EUR"},
		"ACME-CST-OAK":   {Available: 10, UnitCost: "1.05", Currency: "EUR"},
		"ACME-TOWEL-LIN": {Available: 60, UnitCost: "2.50", Currency: "EUR"},
	}})
	s := newSupplier(fake.URL())
	req := dropsync.SupplierOrderRequest{
		ExternalID: "herbata-i-spolka.myshopify.com-5012345678901-acme",
		OrderName:  "#1042",
		Currency:   "EUR",
		ShippingAddress: dropsync.Address{
			FirstName: "Zoë", LastName: "Müller", Address1: "ul. Piotrkowska 104", Address2: "m. 7",
			City: "Łódź", Zip: "90-926", CountryCode: "PL", Phone: "+48 42 638 44 00",
		},
		Email: "zoe.muller@example.com",
		Items: []dropsync.SupplierItem{
			{SKU: "ACME-MUG-BLK", Quantity: 1, UnitCost: decimal.RequireFromString("3.1"), Title: "Gift set",
				Properties: []dropsync.Property{{Name: "Engraving", Value: "Zoë & Łukasz <3"}}},
			{SKU: "ACME-CST-OAK", Quantity: 1, UnitCost: decimal.RequireFromString("1.05"), Title: "Gift set",
				Properties: []dropsync.Property{{Name: "Engraving", Value: "Zoë & Łukasz <3"}}},
			{SKU: "ACME-TOWEL-LIN", Quantity: 6, UnitCost: decimal.RequireFromString("2.5"), Title: "Linen tea towel (3-pack)"},
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
	shared.GoldenJSON(t, "place_order.golden.json", reqs[0].Body, *update)
}
