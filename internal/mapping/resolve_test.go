package mapping

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/internal/dropsync"
)

const shop = "example.myshopify.com"

func mrow(sku, supplier, supplierSKU, cost, currency string, qty, priority int, countries ...string) dropsync.Mapping {
	return dropsync.Mapping{Shop: shop, SKU: sku, Supplier: supplier, SupplierSKU: supplierSKU,
		UnitCost: decimal.RequireFromString(cost), Currency: currency, Quantity: qty, Priority: priority,
		Countries: countries}
}

func line(id int64, sku string, qty int) dropsync.Line {
	return dropsync.Line{ID: id, SKU: sku, Quantity: qty, CurrentQuantity: qty, RequiresShipping: true,
		Price: decimal.RequireFromString("20.00")}
}

func sale(country string, lines ...dropsync.Line) dropsync.Sale {
	return dropsync.Sale{Shop: shop, ID: 1001, Currency: "USD", Lines: lines,
		ShippingAddress: &dropsync.Address{CountryCode: country}}
}

// describe renders a plan as comparable lines.
func describe(p Plan) []string {
	var out []string
	for _, po := range p.PurchaseOrders {
		out = append(out, fmt.Sprintf("po %s %s %s", po.ID, po.Supplier, po.State))
		for _, it := range po.Items {
			out = append(out, fmt.Sprintf("  line %d %s -> %s x%d (%d per unit, %d units) %s p%d",
				it.LineID, it.SKU, it.SupplierSKU, it.Quantity, it.UnitsPerLine, it.LineQuantity, it.UnitCost, it.Priority))
		}
	}
	for _, l := range p.Unmapped {
		out = append(out, fmt.Sprintf("unmapped line %d", l.ID))
	}
	for _, lp := range p.Unfulfillable {
		out = append(out, fmt.Sprintf("unfulfillable line %d %s: %s", lp.LineID, lp.SKU, strings.Join(lp.Reasons, " | ")))
	}
	return out
}

// stock is a CheckFunc that knows which supplier SKUs are out of stock.
func stock(out ...string) CheckFunc {
	return func(c Candidate) string {
		for _, o := range out {
			if o == c.Supplier+"/"+c.SupplierSKU {
				return dropsync.ReasonOutOfStock
			}
		}
		return ""
	}
}

func TestResolve(t *testing.T) {
	variantLine := dropsync.Line{ID: 7, VariantID: 4242, Quantity: 1, CurrentQuantity: 1, RequiresShipping: true}
	tests := []struct {
		name  string
		sale  dropsync.Sale
		rows  []dropsync.Mapping
		check CheckFunc
		want  []string
	}{
		{
			name: "single row",
			sale: sale("US", line(1, "TS", 2)),
			rows: []dropsync.Mapping{mrow("TS", "acme", "A-TS", "4.20", "USD", 1, 1)},
			want: []string{
				"po example.myshopify.com-1001-acme acme pending",
				"  line 1 TS -> A-TS x2 (1 per unit, 2 units) 4.20 USD p1",
			},
		},
		{
			name: "bundle of two rows at one priority",
			sale: sale("US", line(1, "GIFT", 1)),
			rows: []dropsync.Mapping{
				mrow("GIFT", "acme", "A-MUG", "3.00", "USD", 1, 1),
				mrow("GIFT", "acme", "A-TEA", "1.50", "USD", 2, 1),
			},
			want: []string{
				"po example.myshopify.com-1001-acme acme pending",
				"  line 1 GIFT -> A-MUG x1 (1 per unit, 1 units) 3.00 USD p1",
				"  line 1 GIFT -> A-TEA x2 (2 per unit, 1 units) 1.50 USD p1",
			},
		},
		{
			name: "3-pack",
			sale: sale("US", line(1, "SOCKS-3", 2)),
			rows: []dropsync.Mapping{mrow("SOCKS-3", "acme", "A-SOCK", "1.00", "USD", 3, 1)},
			want: []string{
				"po example.myshopify.com-1001-acme acme pending",
				"  line 1 SOCKS-3 -> A-SOCK x6 (3 per unit, 2 units) 1.00 USD p1",
			},
		},
		{
			name: "fallback when priority 1 is out of stock",
			sale: sale("US", line(1, "TS", 1)),
			rows: []dropsync.Mapping{
				mrow("TS", "beta", "B-TS", "5.00", "USD", 1, 2),
				mrow("TS", "acme", "A-TS", "4.20", "USD", 1, 1),
			},
			check: stock("acme/A-TS"),
			want: []string{
				"po example.myshopify.com-1001-beta beta pending",
				"  line 1 TS -> B-TS x1 (1 per unit, 1 units) 5.00 USD p2",
			},
		},
		{
			name: "fallback when priority 1 does not ship to the destination",
			sale: sale("br", line(1, "TS", 1)),
			rows: []dropsync.Mapping{
				mrow("TS", "acme", "A-TS", "4.20", "USD", 1, 1, "US", "CA"),
				mrow("TS", "beta", "B-TS", "5.00", "USD", 1, 2),
			},
			want: []string{
				"po example.myshopify.com-1001-beta beta pending",
				"  line 1 TS -> B-TS x1 (1 per unit, 1 units) 5.00 USD p2",
			},
		},
		{
			name: "no usable supplier at all lists every priority",
			sale: sale("BR", line(1, "TS", 1)),
			rows: []dropsync.Mapping{
				mrow("TS", "acme", "A-TS", "4.20", "USD", 1, 1),
				mrow("TS", "beta", "B-TS", "5.00", "USD", 1, 2, "US"),
			},
			check: stock("acme/A-TS"),
			want: []string{
				"unfulfillable line 1 TS: priority 1 (acme): out_of_stock | priority 2 (beta): does not ship to BR",
			},
		},
		{
			name: "a bundle fails when one of its rows does",
			sale: sale("US", line(1, "GIFT", 1)),
			rows: []dropsync.Mapping{
				mrow("GIFT", "acme", "A-MUG", "3.00", "USD", 1, 1),
				mrow("GIFT", "acme", "A-TEA", "1.50", "USD", 2, 1, "DE"),
				mrow("GIFT", "beta", "B-MUG", "3.00", "USD", 1, 2),
				mrow("GIFT", "beta", "B-TEA", "1.50", "USD", 2, 2),
			},
			check: stock("beta/B-MUG"),
			want: []string{
				"unfulfillable line 1 GIFT: priority 1 (acme): A-TEA does not ship to US | priority 2 (beta): B-MUG out_of_stock",
			},
		},
		{
			name: "a bundle whose rows all fail alike gives the reason once",
			sale: sale("US", line(1, "GIFT", 1)),
			rows: []dropsync.Mapping{
				mrow("GIFT", "acme", "A-MUG", "3.00", "USD", 1, 1, "DE"),
				mrow("GIFT", "acme", "A-TEA", "1.50", "USD", 2, 1, "DE"),
			},
			want: []string{"unfulfillable line 1 GIFT: priority 1 (acme): does not ship to US"},
		},
		{
			name: "unmapped line next to a mapped one",
			sale: sale("US", line(1, "TS", 1), line(2, "HANDMADE", 1)),
			rows: []dropsync.Mapping{mrow("TS", "acme", "A-TS", "4.20", "USD", 1, 1)},
			want: []string{
				"po example.myshopify.com-1001-acme acme pending",
				"  line 1 TS -> A-TS x1 (1 per unit, 1 units) 4.20 USD p1",
				"unmapped line 2",
			},
		},
		{
			name: "two lines to two suppliers",
			sale: sale("US", line(1, "TS", 1), line(2, "MUG", 1)),
			rows: []dropsync.Mapping{
				mrow("TS", "beta", "B-TS", "5.00", "USD", 1, 1),
				mrow("MUG", "acme", "A-MUG", "3.00", "USD", 1, 1),
			},
			want: []string{
				"po example.myshopify.com-1001-acme acme pending",
				"  line 2 MUG -> A-MUG x1 (1 per unit, 1 units) 3.00 USD p1",
				"po example.myshopify.com-1001-beta beta pending",
				"  line 1 TS -> B-TS x1 (1 per unit, 1 units) 5.00 USD p1",
			},
		},
		{
			name: "two lines to one supplier",
			sale: sale("US", line(1, "TS", 1), line(2, "MUG", 3)),
			rows: []dropsync.Mapping{
				mrow("MUG", "acme", "A-MUG", "3.00", "USD", 1, 1),
				mrow("TS", "acme", "A-TS", "4.20", "USD", 1, 1),
			},
			want: []string{
				"po example.myshopify.com-1001-acme acme pending",
				"  line 1 TS -> A-TS x1 (1 per unit, 1 units) 4.20 USD p1",
				"  line 2 MUG -> A-MUG x3 (1 per unit, 3 units) 3.00 USD p1",
			},
		},
		{
			name: "variant SKU for a variant without one",
			sale: sale("US", variantLine),
			rows: []dropsync.Mapping{mrow("variant:4242", "acme", "A-V", "2.00", "USD", 1, 1)},
			want: []string{
				"po example.myshopify.com-1001-acme acme pending",
				"  line 7 variant:4242 -> A-V x1 (1 per unit, 1 units) 2.00 USD p1",
			},
		},
		{
			name: "a line with quantity 0 is left out",
			sale: sale("US", line(1, "TS", 0), line(2, "MUG", 0)),
			rows: []dropsync.Mapping{mrow("TS", "acme", "A-TS", "4.20", "USD", 1, 1)},
			want: nil,
		},
		{
			name: "current quantity after an edit wins over the ordered quantity",
			sale: sale("US", dropsync.Line{ID: 1, SKU: "TS", Quantity: 3, CurrentQuantity: 1, RequiresShipping: true}),
			rows: []dropsync.Mapping{mrow("TS", "acme", "A-TS", "4.20", "USD", 1, 1)},
			want: []string{
				"po example.myshopify.com-1001-acme acme pending",
				"  line 1 TS -> A-TS x1 (1 per unit, 1 units) 4.20 USD p1",
			},
		},
		{
			name: "a line that needs no shipping is not dropsync's",
			sale: sale("US", dropsync.Line{ID: 1, SKU: "EBOOK", Quantity: 1, CurrentQuantity: 1}),
			rows: []dropsync.Mapping{mrow("EBOOK", "acme", "A-EB", "1.00", "USD", 1, 1)},
			want: nil,
		},
		{
			name: "rows of another shop do not map",
			sale: sale("US", line(1, "TS", 1)),
			rows: []dropsync.Mapping{func() dropsync.Mapping {
				m := mrow("TS", "acme", "A-TS", "4.20", "USD", 1, 1)
				m.Shop = "other.myshopify.com"
				return m
			}()},
			want: []string{"unmapped line 1"},
		},
		{
			name: "no shipping address and a row limited to countries",
			sale: dropsync.Sale{Shop: shop, ID: 1001, Lines: []dropsync.Line{line(1, "TS", 1)}},
			rows: []dropsync.Mapping{mrow("TS", "acme", "A-TS", "4.20", "USD", 1, 1, "US")},
			want: []string{"unfulfillable line 1 TS: priority 1 (acme): no shipping country"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Resolve(tt.sale, tt.rows, tt.check)
			if g, w := strings.Join(describe(got), "\n"), strings.Join(tt.want, "\n"); g != w {
				t.Errorf("plan:\ngot\n%s\nwant\n%s", g, w)
			}
			// The index gives the same plan as the slice.
			viaIndex := NewIndex(tt.rows).Resolve(tt.sale, tt.check)
			if g, w := strings.Join(describe(viaIndex), "\n"), strings.Join(tt.want, "\n"); g != w {
				t.Errorf("Index.Resolve plan:\ngot\n%s\nwant\n%s", g, w)
			}
			if got, want := got.Ignored(), len(got.PurchaseOrders) == 0 && len(got.Unfulfillable) == 0; got != want {
				t.Errorf("Ignored() = %v, want %v", got, want)
			}
		})
	}
}

func TestResolveKeepsLineProperties(t *testing.T) {
	l := line(1, "TS", 1)
	l.Properties = []dropsync.Property{{Name: "Engraving", Value: "Zoë"}}
	plan := Resolve(sale("US", l), []dropsync.Mapping{mrow("TS", "acme", "A-TS", "4.20", "USD", 1, 1)}, nil)
	if len(plan.PurchaseOrders) != 1 || len(plan.PurchaseOrders[0].Items) != 1 {
		t.Fatalf("plan = %v, want one purchase order with one item", describe(plan))
	}
	got := plan.PurchaseOrders[0].Items[0].Properties
	if len(got) != 1 || got[0] != l.Properties[0] {
		t.Errorf("Properties = %v, want %v", got, l.Properties)
	}
	if err := plan.PurchaseOrders[0].Validate(); err != nil {
		t.Errorf("planned purchase order does not validate: %v", err)
	}
}

func TestResolveCheckSeesCandidates(t *testing.T) {
	var seen []Candidate
	check := func(c Candidate) string {
		seen = append(seen, c)
		return dropsync.ReasonOutOfStock
	}
	rows := []dropsync.Mapping{
		mrow("SOCKS-3", "acme", "A-SOCK", "1.00", "USD", 3, 1),
		mrow("SOCKS-3", "beta", "B-SOCK", "1.00", "USD", 3, 2, "DE"),
	}
	Resolve(sale("US", line(5, "SOCKS-3", 2)), rows, check)
	want := []Candidate{{Supplier: "acme", SupplierSKU: "A-SOCK", Quantity: 6, Country: "US", LineID: 5, SKU: "SOCKS-3"}}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("check saw %v, want %v (a row that does not ship is not stock-checked)", seen, want)
	}
}

func TestLineQuantity(t *testing.T) {
	refunded := func(lineID int64, qty int) dropsync.Refund {
		return dropsync.Refund{Lines: []dropsync.RefundLine{{LineID: lineID, Quantity: qty}}}
	}
	tests := []struct {
		name    string
		line    dropsync.Line
		refunds []dropsync.Refund
		want    int
	}{
		{"current quantity", dropsync.Line{ID: 1, Quantity: 3, CurrentQuantity: 2}, nil, 2},
		{"removed by an edit", dropsync.Line{ID: 1, Quantity: 3, CurrentQuantity: 0}, nil, 0},
		{"refunds are already in the current quantity", dropsync.Line{ID: 1, Quantity: 3, CurrentQuantity: 1}, []dropsync.Refund{refunded(1, 2)}, 1},
		{"never negative", dropsync.Line{ID: 1, Quantity: 1, CurrentQuantity: -1}, nil, 0},
		{"quantity 0", dropsync.Line{ID: 1}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := dropsync.Sale{Refunds: tt.refunds}
			if got := LineQuantity(s, tt.line); got != tt.want {
				t.Errorf("LineQuantity = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestCandidates(t *testing.T) {
	rows := []dropsync.Mapping{
		mrow("GIFT", "acme", "A-MUG", "3.00", "USD", 1, 1),
		mrow("GIFT", "acme", "A-TEA", "1.50", "USD", 2, 1),
		mrow("GIFT", "beta", "B-GIFT", "4.00", "USD", 1, 2),
		mrow("GIFT", "gamma", "G-GIFT", "4.00", "USD", 1, 3, "DE"),
		mrow("TS", "beta", "B-TS", "5.00", "USD", 1, 1),
	}
	s := sale("US", line(1, "GIFT", 2), line(2, "TS", 1), line(3, "NONE", 1), line(4, "TS", 0))
	want := []Candidate{
		{Supplier: "acme", SupplierSKU: "A-MUG", Quantity: 2, Country: "US", LineID: 1, SKU: "GIFT"},
		{Supplier: "acme", SupplierSKU: "A-TEA", Quantity: 4, Country: "US", LineID: 1, SKU: "GIFT"},
		{Supplier: "beta", SupplierSKU: "B-GIFT", Quantity: 2, Country: "US", LineID: 1, SKU: "GIFT"},
		{Supplier: "beta", SupplierSKU: "B-TS", Quantity: 1, Country: "US", LineID: 2, SKU: "TS"},
	}
	if got := Candidates(s, rows); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Candidates:\ngot  %v\nwant %v", got, want)
	}
	if got := NewIndex(rows).Candidates(s); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Index.Candidates:\ngot  %v\nwant %v", got, want)
	}
}

func TestIndexRows(t *testing.T) {
	rows := []dropsync.Mapping{
		{Shop: shop, SKU: "A", Supplier: "beta", SupplierSKU: "B2", Priority: 2, Line: 2},
		{Shop: shop, SKU: "A", Supplier: "acme", SupplierSKU: "A2", Priority: 1, Line: 9},
		{Shop: shop, SKU: "A", Supplier: "acme", SupplierSKU: "A1", Priority: 1, Line: 4},
		{Shop: shop, SKU: "B", Supplier: "acme", SupplierSKU: "X", Priority: 1, Line: 5},
	}
	ix := NewIndex(rows)
	var got []string
	for _, m := range ix.Rows("EXAMPLE.myshopify.com", "A") {
		got = append(got, m.SupplierSKU)
	}
	if g, w := strings.Join(got, ","), "A1,A2,B2"; g != w {
		t.Errorf("Rows = %s, want %s (by priority, then line)", g, w)
	}
	if got := ix.Rows(shop, "a"); len(got) != 0 {
		t.Errorf("Rows(sku a) = %v, want none: SKUs are case-sensitive", got)
	}
}
