package shopify_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/connectors/shopify"
	"github.com/dropsync/dropsync/connectors/shopify/shopifytest"
)

func TestParseOrder(t *testing.T) {
	o := shopifytest.SampleOrder(1001, shopifytest.WithUnicodeCustomer(), shopifytest.WithLines(
		shopifytest.LineSpec{SKU: "A", VariantID: 1, Quantity: 2, Price: decimal.RequireFromString("10.00"),
			Discount: decimal.RequireFromString("2.00"), Properties: []shopifytest.Property{{Name: "Engraving", Value: "Zoë"}}},
		shopifytest.LineSpec{SKU: "", VariantID: 77, Quantity: 1, Price: decimal.RequireFromString("5.00")},
		shopifytest.LineSpec{SKU: "CARD", VariantID: 3, Quantity: 1, Price: decimal.RequireFromString("1.00"), NoShipping: true},
	))
	body, _ := json.Marshal(o)
	s, err := shopify.ParseOrder(shop, body)
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != 1001 || s.Shop != shop || s.Name != o.Name || s.Currency != o.Currency {
		t.Fatalf("identity: %+v", s)
	}
	if s.UpdatedAt.Location() != time.UTC || s.CreatedAt.IsZero() {
		t.Fatalf("times not UTC: %v %v", s.UpdatedAt, s.CreatedAt)
	}
	if !s.TotalPrice.Equal(o.TotalPrice.Decimal) {
		t.Fatalf("total %s, want %s", s.TotalPrice, o.TotalPrice.Decimal)
	}
	if len(s.Lines) != 3 {
		t.Fatalf("%d lines", len(s.Lines))
	}
	l := s.Lines[0]
	if l.SKU != "A" || l.Quantity != 2 || !l.TotalDiscount.Equal(decimal.RequireFromString("2")) ||
		len(l.Properties) != 1 || l.Properties[0].Value != "Zoë" || !l.RequiresShipping {
		t.Fatalf("line 0: %+v", l)
	}
	if got := s.Lines[1].MappingSKU(); got != "variant:77" {
		t.Fatalf("SKU-less line maps as %q, want variant:77", got)
	}
	if s.Lines[2].RequiresShipping {
		t.Fatalf("a line that needs no shipping says it does")
	}
	if s.ShippingAddress == nil || s.ShippingAddress.City != o.ShippingAddress.City || s.ShipTo() != o.ShippingAddress.CountryCode {
		t.Fatalf("address %+v", s.ShippingAddress)
	}
	if s.CustomerID == 0 || s.Email != o.Email {
		t.Fatalf("customer %d %q", s.CustomerID, s.Email)
	}
}

func TestParseOrderRejects(t *testing.T) {
	for name, body := range map[string]string{
		"not json":      `{"id":`,
		"no id":         `{"updated_at":"2026-11-28T10:00:00Z"}`,
		"no updated_at": `{"id":5}`,
		"id as string":  `{"id":"five"}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := shopify.ParseOrder(shop, []byte(body)); err == nil {
				t.Fatal("parsed a body that is not an order")
			}
		})
	}
}

// An order from an API version without current_quantity: the refunded units are not current.
func TestParseOrderWithoutCurrentQuantity(t *testing.T) {
	body := []byte(`{"id":7,"updated_at":"2026-11-28T10:00:00Z","currency":"USD",
		"line_items":[{"id":70,"sku":"A","quantity":3,"price":"5.00"},{"id":71,"sku":"B","quantity":1,"price":"5.00","current_quantity":0}],
		"refunds":[{"id":1,"refund_line_items":[{"line_item_id":70,"quantity":2}]}]}`)
	s, err := shopify.ParseOrder(shop, body)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Lines[0].CurrentQuantity; got != 1 {
		t.Errorf("line A current quantity %d, want 3 ordered − 2 refunded = 1", got)
	}
	if got := s.Lines[1].CurrentQuantity; got != 0 {
		t.Errorf("line B removed by an edit: current quantity %d, want 0", got)
	}
}
