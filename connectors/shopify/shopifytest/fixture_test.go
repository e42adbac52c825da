package shopifytest

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// wireOrder reads the money of an order from its JSON, independently of the
// fake's own types, to check the totals Shopify would send.
type wireOrder struct {
	TotalPrice          decimal.Decimal `json:"total_price"`
	SubtotalPrice       decimal.Decimal `json:"subtotal_price"`
	TotalTax            decimal.Decimal `json:"total_tax"`
	TotalDiscounts      decimal.Decimal `json:"total_discounts"`
	TotalLineItemsPrice decimal.Decimal `json:"total_line_items_price"`
	TaxesIncluded       bool            `json:"taxes_included"`
	TotalPriceSet       struct {
		ShopMoney struct {
			Amount       decimal.Decimal `json:"amount"`
			CurrencyCode string          `json:"currency_code"`
		} `json:"shop_money"`
	} `json:"total_price_set"`
	LineItems []struct {
		Price               decimal.Decimal                    `json:"price"`
		Quantity            int64                              `json:"quantity"`
		TaxLines            []struct{ Price decimal.Decimal }  `json:"tax_lines"`
		DiscountAllocations []struct{ Amount decimal.Decimal } `json:"discount_allocations"`
	} `json:"line_items"`
	ShippingLines []struct {
		Price    decimal.Decimal                   `json:"price"`
		TaxLines []struct{ Price decimal.Decimal } `json:"tax_lines"`
	} `json:"shipping_lines"`
}

func TestSampleOrderTotals(t *testing.T) {
	d := decimal.RequireFromString
	tests := []struct {
		name      string
		opts      []OrderOption
		wantTotal string
	}{
		// 2×19.99 − 4.00 + 12.50 = 48.48; tax 6% of 35.98 (2.16), 12.50
		// (0.75) and shipping 5.00 (0.30) = 3.21; 48.48 + 5.00 + 3.21.
		{"default", nil, "56.69"},
		{"taxes included", []OrderOption{WithTaxes(d("0.2"), true)}, "53.48"},
		{"no tax", []OrderOption{WithTaxes(decimal.Zero, false)}, "53.48"},
		{"free shipping", []OrderOption{WithShipping("Free Shipping", decimal.Zero)}, "51.39"},
		{"many lines, odd cents", []OrderOption{
			WithTaxes(d("0.0825"), false),
			WithLines(
				LineSpec{SKU: "A", VariantID: 1, Quantity: 3, Price: d("0.33"), Discount: d("0.10")},
				LineSpec{SKU: "B", VariantID: 2, Quantity: 7, Price: d("14.99")},
				LineSpec{SKU: "C", VariantID: 3, Quantity: 1, Price: d("100"), Discount: d("33.33")},
				LineSpec{SKU: "GIFT", VariantID: 4, Quantity: 1, Price: d("25"), NoShipping: true},
			),
		}, ""},
		{"unicode customer, euro", []OrderOption{WithUnicodeCustomer(), WithCurrency("EUR"), WithTaxes(d("0.19"), true)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := SampleOrder(450789469, tt.opts...)
			b, err := json.Marshal(o)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			var w wireOrder
			if err := json.Unmarshal(b, &w); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			lines, discounts, tax, shipping := decimal.Zero, decimal.Zero, decimal.Zero, decimal.Zero
			for _, li := range w.LineItems {
				lines = lines.Add(li.Price.Mul(decimal.NewFromInt(li.Quantity)))
				for _, da := range li.DiscountAllocations {
					discounts = discounts.Add(da.Amount)
				}
				for _, tl := range li.TaxLines {
					tax = tax.Add(tl.Price)
				}
			}
			for _, sl := range w.ShippingLines {
				shipping = shipping.Add(sl.Price)
				for _, tl := range sl.TaxLines {
					tax = tax.Add(tl.Price)
				}
			}
			want := lines.Sub(discounts).Add(shipping)
			if !w.TaxesIncluded {
				want = want.Add(tax)
			}
			if !w.TotalPrice.Equal(want) {
				t.Errorf("total_price: got %s, want %s (lines %s − discounts %s + shipping %s, tax %s)", w.TotalPrice, want, lines, discounts, shipping, tax)
			}
			if !w.TotalTax.Equal(tax) || !w.TotalDiscounts.Equal(discounts) || !w.TotalLineItemsPrice.Equal(lines) {
				t.Errorf("total_tax, total_discounts, total_line_items_price: got %s, %s, %s; want %s, %s, %s",
					w.TotalTax, w.TotalDiscounts, w.TotalLineItemsPrice, tax, discounts, lines)
			}
			if want := lines.Sub(discounts); !w.SubtotalPrice.Equal(want) {
				t.Errorf("subtotal_price: got %s, want %s", w.SubtotalPrice, want)
			}
			if !w.TotalPriceSet.ShopMoney.Amount.Equal(w.TotalPrice) || w.TotalPriceSet.ShopMoney.CurrencyCode != o.Currency {
				t.Errorf("total_price_set: got %+v, want %s %s", w.TotalPriceSet.ShopMoney, w.TotalPrice, o.Currency)
			}
			if tt.wantTotal != "" && o.TotalPrice.StringFixed(2) != tt.wantTotal {
				t.Errorf("total_price: got %s, want %s", o.TotalPrice.StringFixed(2), tt.wantTotal)
			}
		})
	}
}

func TestSampleOrderJSON(t *testing.T) {
	o := SampleOrder(450789469, WithUnicodeCustomer(), WithFinancialStatus("pending"),
		WithUpdatedAt(time.Date(2026, 3, 1, 8, 30, 0, 0, time.FixedZone("EST", -5*3600))))
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	s := string(b)
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}

	tests := []struct {
		name string
		ok   bool
	}{
		{"id is a JSON number", isNumber(raw["id"])},
		{"name is #-style", raw["name"] == "#790469"},
		{"financial status", raw["financial_status"] == "pending"},
		{"total_price is a two-place decimal string", regexp.MustCompile(`"total_price":"\d+\.\d\d"`).MatchString(s)},
		{"line price keeps trailing zero", strings.Contains(s, `"price":"12.50"`)},
		{"tax rate is a number", strings.Contains(s, `"rate":0.06`)},
		{"times are UTC", strings.Contains(s, `"updated_at":"2026-03-01T13:30:00Z"`)},
		{"null fulfillment_status", raw["fulfillment_status"] == nil && strings.Contains(s, `"fulfillment_status":null`)},
		{"null cancelled_at", strings.Contains(s, `"cancelled_at":null`)},
		{"empty fulfillments list", strings.Contains(s, `"fulfillments":[]`)},
		{"non-ASCII names kept", strings.Contains(s, `"first_name":"Zoë"`) && strings.Contains(s, `"city":"Düsseldorf"`)},
		{"line properties", strings.Contains(s, `"properties":[{"name":"Engraving","value":"Zoë"}]`)},
		{"customer id", isNumber(raw["customer"].(map[string]any)["id"])},
		{"line item ids derive from the order id", strings.Contains(s, `"id":45078946901`)},
		{"pending leaves the total outstanding", raw["total_outstanding"] == raw["total_price"]},
	}
	for _, tt := range tests {
		if !tt.ok {
			t.Errorf("%s: not so in %s", tt.name, s)
		}
	}

	var back Order
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("unmarshal into Order: %v", err)
	}
	again, _ := json.Marshal(back)
	if string(again) != s {
		t.Errorf("JSON round trip changed the order:\n got %s\nwant %s", again, s)
	}
}

func isNumber(v any) bool {
	_, ok := v.(float64)
	return ok
}

func TestSampleOrderOptions(t *testing.T) {
	o := SampleOrder(5, WithShippingCountry("ca"), WithOrderNumber(2001),
		WithEdit(func(o *Order) { o.Tags = "wholesale" }))
	if o.ShippingAddress.CountryCode != "CA" || o.ShippingAddress.Name != "Jordan Baker" {
		t.Errorf("shipping address: got %+v, want Jordan Baker in CA", o.ShippingAddress)
	}
	if o.Name != "#2001" || o.OrderNumber != 2001 {
		t.Errorf("name, order_number: got %q, %d; want #2001, 2001", o.Name, o.OrderNumber)
	}
	if o.Tags != "wholesale" {
		t.Errorf("tags: got %q, want wholesale", o.Tags)
	}
	if o.BillingAddress.CountryCode != "CA" {
		t.Errorf("billing country: got %q, want CA (billing follows shipping)", o.BillingAddress.CountryCode)
	}
	bill := Address{Name: "Accounts Payable", CountryCode: "GB", Country: "United Kingdom"}
	if got := SampleOrder(5, WithBillingAddress(bill), WithShippingCountry("FR")); got.BillingAddress.CountryCode != "GB" || got.ShippingAddress.CountryCode != "FR" {
		t.Errorf("billing, shipping country: got %q, %q; want GB, FR", got.BillingAddress.CountryCode, got.ShippingAddress.CountryCode)
	}
}
