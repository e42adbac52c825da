package invoice_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/invoice"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var seller = invoice.Seller{
	Name:    "Moss & Fern GmbH",
	Address: "Torstraße 140\n10119 Berlin\nGermany",
	VATID:   "DE123456789",
	Email:   "billing@moss-and-fern.example",
}

// loadSale reads a storefront order from testdata.
func loadSale(t testing.TB, name string) dropsync.Sale {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var s dropsync.Sale
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
	return s
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// issue stamps what a store would: number, year, sequence and issued_at.
func issue(inv invoice.Invoice, seq int64) invoice.Invoice {
	inv.IssuedAt = time.Date(2026, 11, 28, 10, 30, 0, 0, time.UTC)
	inv.Year = 2026
	inv.Sequence = seq
	inv.Number = invoice.Number(inv.Series, inv.Year, seq)
	return inv
}

func TestBuild(t *testing.T) {
	type totals struct{ subtotal, discount, shipping, tax, total string }
	tests := []struct {
		name        string
		file        string
		edit        func(*dropsync.Sale)
		want        totals
		wantBuyer   string
		wantCity    string
		wantTaxes   []invoice.TaxRate
		wantPresent string // presentment currency shown
		wantReason  string // the error's reason, when Build must refuse
	}{
		{
			name: "taxes included, two rates, discount code over lines", file: "sale-eu-taxes-included.json",
			want:      totals{"83.80", "8.38", "4.90", "10.78", "80.32"},
			wantBuyer: "Zoë Müller", wantCity: "Łódź",
			wantTaxes: []invoice.TaxRate{
				{Title: "MwSt", Rate: dec("0.19"), Base: dec("49.35"), Amount: dec("9.37")},
				{Title: "MwSt", Rate: dec("0.07"), Base: dec("20.19"), Amount: dec("1.41")},
			},
		},
		{
			name: "taxes excluded, two taxes per line, taxed shipping, billing abroad", file: "sale-us-taxes-excluded.json",
			want:      totals{"90.50", "0.00", "6.95", "8.28", "105.73"},
			wantBuyer: "José da Silva", wantCity: "São Paulo",
			wantTaxes: []invoice.TaxRate{
				{Title: "New York State Tax", Rate: dec("0.04"), Base: dec("97.45"), Amount: dec("3.90")},
				{Title: "New York City Tax", Rate: dec("0.045"), Base: dec("97.45"), Amount: dec("4.38")},
			},
		},
		{
			name: "free shipping by discount, buyer from shipping address", file: "sale-free-shipping.json",
			want:      totals{"22.00", "3.99", "3.99", "3.67", "22.00"},
			wantBuyer: "Siobhán O'Connor", wantCity: "Dublin",
			wantTaxes: []invoice.TaxRate{{Title: "VAT", Rate: dec("0.2"), Base: dec("18.33"), Amount: dec("3.67")}},
		},
		{
			name: "yen without decimals", file: "sale-jpy.json",
			want:      totals{"6600", "0", "800", "673", "7400"},
			wantBuyer: "Tarō Yamada", wantCity: "Shibuya-ku, Tōkyō",
			wantTaxes: []invoice.TaxRate{{Title: "JCT", Rate: dec("0.1"), Base: dec("6727"), Amount: dec("673")}},
		},
		{
			name: "presentment currency differs, no tax", file: "sale-multi-currency.json",
			want:      totals{"110.00", "0.00", "9.00", "0.00", "119.00"},
			wantBuyer: "Avery Chen", wantCity: "Seattle", wantPresent: "USD",
		},
		{
			name: "fixed discount spread over three lines, zloty", file: "sale-pln-discount.json",
			want:      totals{"162.00", "20.00", "12.99", "23.06", "154.99"},
			wantBuyer: "Agnieszka Wójcik", wantCity: "Łódź",
			wantTaxes: []invoice.TaxRate{
				{Title: "VAT", Rate: dec("0.23"), Base: dec("83.32"), Amount: dec("19.17")},
				{Title: "VAT", Rate: dec("0.08"), Base: dec("48.61"), Amount: dec("3.89")},
			},
		},
		{
			name: "free shipping by discounted_price alone, no allocations", file: "sale-free-shipping.json",
			edit:      func(s *dropsync.Sale) { s.ShippingLines[0].DiscountAllocations = nil },
			want:      totals{"22.00", "3.99", "3.99", "3.67", "22.00"},
			wantBuyer: "Siobhán O'Connor", wantCity: "Dublin",
			wantTaxes: []invoice.TaxRate{{Title: "VAT", Rate: dec("0.2"), Base: dec("18.33"), Amount: dec("3.67")}},
		},
		{
			name: "line discount from total_discount when it has no allocations", file: "sale-eu-taxes-included.json",
			edit: func(s *dropsync.Sale) {
				s.Lines[1].TotalDiscount, s.Lines[1].DiscountAllocations = s.Lines[1].DiscountAllocations[0].Amount, nil
			},
			want:      totals{"83.80", "8.38", "4.90", "10.78", "80.32"},
			wantBuyer: "Zoë Müller", wantCity: "Łódź",
			wantTaxes: []invoice.TaxRate{
				{Title: "MwSt", Rate: dec("0.19"), Base: dec("49.35"), Amount: dec("9.37")},
				{Title: "MwSt", Rate: dec("0.07"), Base: dec("20.19"), Amount: dec("1.41")},
			},
		},
		{
			name: "allocations win over a disagreeing total_discount", file: "sale-eu-taxes-included.json",
			edit:      func(s *dropsync.Sale) { s.Lines[0].TotalDiscount = dec("1.00") },
			want:      totals{"83.80", "8.38", "4.90", "10.78", "80.32"},
			wantBuyer: "Zoë Müller", wantCity: "Łódź",
			wantTaxes: []invoice.TaxRate{
				{Title: "MwSt", Rate: dec("0.19"), Base: dec("49.35"), Amount: dec("9.37")},
				{Title: "MwSt", Rate: dec("0.07"), Base: dec("20.19"), Amount: dec("1.41")},
			},
		},
		{
			name: "total one cent off is refused", file: "sale-us-taxes-excluded.json",
			edit:       func(s *dropsync.Sale) { s.TotalPrice = dec("105.74") },
			wantReason: invoice.ReasonTotalMismatch,
		},
		{
			name: "missing discount allocation is refused, not absorbed", file: "sale-eu-taxes-included.json",
			edit:       func(s *dropsync.Sale) { s.Lines[1].DiscountAllocations = nil },
			wantReason: invoice.ReasonTotalMismatch,
		},
		{
			name: "tax that does not add up is refused", file: "sale-eu-taxes-included.json",
			edit:       func(s *dropsync.Sale) { s.TotalTax = dec("10.79") },
			wantReason: invoice.ReasonTaxMismatch,
		},
		{
			name: "fractional yen is refused", file: "sale-jpy.json",
			edit: func(s *dropsync.Sale) {
				s.Lines[0].Price = dec("3300.5")
				s.TotalPrice = dec("7401")
			},
			wantReason: invoice.ReasonPrecision,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sale := loadSale(t, tt.file)
			if tt.edit != nil {
				tt.edit(&sale)
			}
			inv, err := invoice.Build(sale, seller)
			if tt.wantReason != "" {
				if got, want := dropsync.ErrorCode(err), dropsync.EINVALID; got != want {
					t.Fatalf("error code %q (%v), want %q", got, err, want)
				}
				if got, want := dropsync.ErrorReason(err), tt.wantReason; got != want {
					t.Fatalf("error reason %q (%v), want %q", got, err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			exp := invoice.Exponent(inv.Currency)
			got := totals{inv.Subtotal.StringFixed(exp), inv.DiscountTotal.StringFixed(exp),
				inv.ShippingTotal.StringFixed(exp), inv.TaxTotal.StringFixed(exp), inv.Total.StringFixed(exp)}
			if got != tt.want {
				t.Errorf("totals %+v, want %+v", got, tt.want)
			}
			if !inv.Total.Equal(sale.TotalPrice) {
				t.Errorf("total %s, want the order's total_price %s", inv.Total, sale.TotalPrice)
			}
			var lines decimal.Decimal
			for _, l := range inv.Lines {
				lines = lines.Add(l.Total)
			}
			if want := sale.SubtotalPrice; !lines.Equal(want) {
				t.Errorf("Σ line totals %s, want the order's subtotal_price %s", lines, want)
			}
			if got, want := inv.Buyer.Name, tt.wantBuyer; got != want {
				t.Errorf("buyer %q, want %q", got, want)
			}
			if got, want := inv.Buyer.City, tt.wantCity; got != want {
				t.Errorf("buyer city %q, want %q", got, want)
			}
			if got, want := inv.PresentmentCurrency, tt.wantPresent; got != want {
				t.Errorf("presentment currency %q, want %q", got, want)
			}
			gotTaxes := inv.Taxes()
			if len(gotTaxes) != len(tt.wantTaxes) {
				t.Fatalf("taxes %v, want %v", gotTaxes, tt.wantTaxes)
			}
			for i, w := range tt.wantTaxes {
				g := gotTaxes[i]
				if g.Title != w.Title || !g.Rate.Equal(w.Rate) || !g.Base.Equal(w.Base) || !g.Amount.Equal(w.Amount) {
					t.Errorf("tax %d: %s %s on %s = %s, want %s %s on %s = %s", i,
						g.Title, g.Rate, g.Base, g.Amount, w.Title, w.Rate, w.Base, w.Amount)
				}
			}
			if err := inv.Validate(); err != nil {
				t.Errorf("built invoice does not validate: %v", err)
			}
		})
	}
}

func TestBuildMessageNamesBothAmounts(t *testing.T) {
	sale := loadSale(t, "sale-us-taxes-excluded.json")
	sale.TotalPrice = dec("105.70")
	_, err := invoice.Build(sale, seller)
	if err == nil {
		t.Fatal("no error, want a total mismatch")
	}
	for _, want := range []string{"105.73", "105.70", "#2310"} {
		if !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if bytes.Contains([]byte(err.Error()), []byte("Silva")) {
		t.Errorf("error %q carries customer data", err)
	}
}

// TestJSONGolden pins the JSON contract: one golden file per order, refreshed with
// `go test ./internal/invoice -update`.
func TestJSONGolden(t *testing.T) {
	files := []string{"sale-eu-taxes-included.json", "sale-us-taxes-excluded.json", "sale-free-shipping.json",
		"sale-jpy.json", "sale-multi-currency.json", "sale-pln-discount.json"}
	for i, f := range files {
		t.Run(f, func(t *testing.T) {
			inv, err := invoice.Build(loadSale(t, f), seller)
			if err != nil {
				t.Fatal(err)
			}
			inv = issue(inv, int64(i+1))
			b, err := inv.JSON()
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, b, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			golden := filepath.Join("testdata", "golden", "invoice-"+f)
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("JSON differs from %s (run with -update if the change is meant):\n%s", golden, pretty.Bytes())
			}
			// The JSON reads back into the same document, byte for byte.
			var back invoice.Invoice
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			again, err := back.JSON()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, b) {
				t.Errorf("round trip changed the JSON:\n got %s\nwant %s", again, b)
			}
		})
	}
}

func TestJSONShape(t *testing.T) {
	inv, err := invoice.Build(loadSale(t, "sale-jpy.json"), seller)
	if err != nil {
		t.Fatal(err)
	}
	b, err := issue(inv, 7).JSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"number", "series", "year", "sequence", "issued_at", "shop", "order_id",
		"order_name", "currency", "seller", "buyer", "lines", "shipping", "subtotal", "discount_total",
		"shipping_total", "tax_total", "total", "credit_notes"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if got, want := m["number"], "INV-2026-000007"; got != want {
		t.Errorf("number %v, want %v", got, want)
	}
	if got, want := m["total"], "7400"; got != want {
		t.Errorf("yen total %v, want %v (no decimals)", got, want)
	}
	line := m["lines"].([]any)[0].(map[string]any)
	for _, k := range []string{"sku", "description", "quantity", "unit_price", "discount", "tax_lines", "total"} {
		if _, ok := line[k]; !ok {
			t.Errorf("line JSON lacks %q", k)
		}
	}
	tax := line["tax_lines"].([]any)[0].(map[string]any)
	for _, k := range []string{"title", "rate", "amount"} {
		if _, ok := tax[k]; !ok {
			t.Errorf("tax line JSON lacks %q", k)
		}
	}
	ship := m["shipping"].([]any)[0].(map[string]any)
	for _, k := range []string{"title", "price", "tax"} {
		if _, ok := ship[k]; !ok {
			t.Errorf("shipping JSON lacks %q", k)
		}
	}
}
