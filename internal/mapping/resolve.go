package mapping

import (
	"cmp"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// Candidate is one supplier SKU a line could be fulfilled with, and how many supplier units
// it would take, for a stock check before forwarding.
type Candidate struct {
	Supplier    string
	SupplierSKU string
	// Quantity is in supplier units: the line's quantity times the row's quantity.
	Quantity int
	// Country is the destination (upper-case ISO code; "" without a shipping address).
	Country string
	LineID  int64
	// SKU is the storefront SKU the line maps by (Line.MappingSKU).
	SKU string
}

// CheckFunc says whether a candidate can be used now: "" when it can, else a short reason
// such as dropsync.ReasonOutOfStock. A nil CheckFunc accepts every candidate.
type CheckFunc func(Candidate) string

// Plan is how an order's lines go to suppliers.
type Plan struct {
	// PurchaseOrders holds one pending purchase order per supplier, sorted by supplier id,
	// items in line order.
	PurchaseOrders []dropsync.PurchaseOrder
	// Unmapped lines have no mapping rows: the merchant fulfils them.
	Unmapped []dropsync.Line
	// Unfulfillable lines have rows, but no priority could serve them.
	Unfulfillable []LineProblem
}

// Ignored reports whether dropsync has nothing to do for the order: no line is mapped to a
// supplier, usable or not.
func (p Plan) Ignored() bool {
	return len(p.PurchaseOrders) == 0 && len(p.Unfulfillable) == 0
}

// LineProblem is a line that has mapping rows none of which can serve it, with the reason
// each priority tried was passed over, such as "priority 1 (acme): out_of_stock".
type LineProblem struct {
	LineID  int64
	SKU     string
	Reasons []string
}

// Index holds mapping rows by shop and SKU, so that resolving an order against a large
// mapping set costs a few map lookups rather than a scan. It is read-only once built and
// safe for concurrent use.
type Index struct {
	rows map[indexKey][]dropsync.Mapping
}

type indexKey struct{ shop, sku string }

// NewIndex indexes rows. Each SKU's rows are kept sorted by priority, then line.
func NewIndex(rows []dropsync.Mapping) *Index {
	ix := &Index{rows: make(map[indexKey][]dropsync.Mapping, len(rows))}
	for _, m := range rows {
		k := indexKey{shop: strings.ToLower(m.Shop), sku: m.SKU}
		ix.rows[k] = append(ix.rows[k], m)
	}
	for _, rs := range ix.rows {
		slices.SortStableFunc(rs, func(a, b dropsync.Mapping) int {
			return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.Line, b.Line))
		})
	}
	return ix
}

// Rows returns the rows of a shop's SKU, sorted by priority then line. The slice is shared:
// do not modify it.
func (ix *Index) Rows(shop, sku string) []dropsync.Mapping {
	return ix.rows[indexKey{shop: strings.ToLower(shop), sku: sku}]
}

// LineQuantity is how many storefront units of the line dropsync would forward: its current
// quantity, after edits and refunds. The storefront connector always fills it (a line an edit
// removed has 0), so 0 means none, never "unknown".
func LineQuantity(_ dropsync.Sale, l dropsync.Line) int {
	return max(l.CurrentQuantity, 0)
}

// Resolve plans how an order's lines go to suppliers. It considers each line that requires
// shipping and has a quantity (LineQuantity > 0); other lines are not dropsync's to forward
// and appear nowhere in the plan. A line's rows (by Line.MappingSKU for sale.Shop) are
// grouped by priority, and the lowest priority whose bundle can serve the line wins: every
// row ships to the destination (Mapping.ShipsTo) and check accepts every row. Lines without
// rows are unmapped; lines whose every priority fails are unfulfillable, with each
// priority's reason.
//
// rows may be every mapping dropsync has; for many orders against a large set, build an
// Index once and use Index.Resolve.
func Resolve(sale dropsync.Sale, rows []dropsync.Mapping, check CheckFunc) Plan {
	return saleIndex(sale, rows).Resolve(sale, check)
}

// Candidates lists every (supplier, supplier SKU, quantity) that any priority of the sale's
// lines might need, skipping rows that do not ship to the destination, so the caller can
// fetch live stock for them in one batch per supplier. Order: line, priority, row.
func Candidates(sale dropsync.Sale, rows []dropsync.Mapping) []Candidate {
	return saleIndex(sale, rows).Candidates(sale)
}

// saleIndex indexes only the rows that can matter to the sale.
func saleIndex(sale dropsync.Sale, rows []dropsync.Mapping) *Index {
	skus := make(map[string]bool, len(sale.Lines))
	for _, l := range sale.Lines {
		skus[l.MappingSKU()] = true
	}
	var mine []dropsync.Mapping
	for _, m := range rows {
		if skus[m.SKU] && strings.EqualFold(m.Shop, sale.Shop) {
			mine = append(mine, m)
		}
	}
	return NewIndex(mine)
}

// Resolve is the package-level Resolve against the index.
func (ix *Index) Resolve(sale dropsync.Sale, check CheckFunc) Plan {
	var plan Plan
	country := sale.ShipTo()
	pos := map[string]int{} // supplier → index in plan.PurchaseOrders
	for _, l := range sale.Lines {
		qty := LineQuantity(sale, l)
		if !l.RequiresShipping || qty <= 0 {
			continue
		}
		sku := l.MappingSKU()
		rows := ix.Rows(sale.Shop, sku)
		if len(rows) == 0 {
			plan.Unmapped = append(plan.Unmapped, l)
			continue
		}
		var reasons []string
		var chosen []dropsync.Mapping
		for bundle := range priorities(rows) {
			why := bundleProblem(bundle, l, sku, qty, country, check)
			if why == "" {
				chosen = bundle
				break
			}
			reasons = append(reasons, fmt.Sprintf("priority %d (%s): %s", bundle[0].Priority, suppliers(bundle), why))
		}
		if chosen == nil {
			plan.Unfulfillable = append(plan.Unfulfillable, LineProblem{LineID: l.ID, SKU: sku, Reasons: reasons})
			continue
		}
		for _, m := range chosen {
			i, ok := pos[m.Supplier]
			if !ok {
				i = len(plan.PurchaseOrders)
				pos[m.Supplier] = i
				plan.PurchaseOrders = append(plan.PurchaseOrders, dropsync.PurchaseOrder{
					ID:       dropsync.POID(sale.Shop, sale.ID, m.Supplier),
					Supplier: m.Supplier,
					State:    dropsync.POPending,
				})
			}
			po := &plan.PurchaseOrders[i]
			po.Items = append(po.Items, dropsync.POItem{
				LineID:       l.ID,
				SKU:          sku,
				SupplierSKU:  m.SupplierSKU,
				Quantity:     qty * m.Quantity,
				UnitsPerLine: m.Quantity,
				LineQuantity: qty,
				UnitCost:     dropsync.Money{Amount: m.UnitCost, Currency: m.Currency},
				Priority:     m.Priority,
				Properties:   slices.Clone(l.Properties),
			})
		}
	}
	slices.SortFunc(plan.PurchaseOrders, func(a, b dropsync.PurchaseOrder) int {
		return cmp.Compare(a.Supplier, b.Supplier)
	})
	return plan
}

// Candidates is the package-level Candidates against the index.
func (ix *Index) Candidates(sale dropsync.Sale) []Candidate {
	var out []Candidate
	country := sale.ShipTo()
	for _, l := range sale.Lines {
		qty := LineQuantity(sale, l)
		if !l.RequiresShipping || qty <= 0 {
			continue
		}
		sku := l.MappingSKU()
		for _, m := range ix.Rows(sale.Shop, sku) {
			if m.ShipsTo(country) {
				out = append(out, candidate(m, l, sku, qty, country))
			}
		}
	}
	return out
}

func candidate(m dropsync.Mapping, l dropsync.Line, sku string, qty int, country string) Candidate {
	return Candidate{
		Supplier:    m.Supplier,
		SupplierSKU: m.SupplierSKU,
		Quantity:    qty * m.Quantity,
		Country:     country,
		LineID:      l.ID,
		SKU:         sku,
	}
}

// priorities yields rows (sorted by priority) one bundle at a time, lowest priority first.
func priorities(rows []dropsync.Mapping) iter.Seq[[]dropsync.Mapping] {
	return func(yield func([]dropsync.Mapping) bool) {
		for start := 0; start < len(rows); {
			end := start + 1
			for end < len(rows) && rows[end].Priority == rows[start].Priority {
				end++
			}
			if !yield(rows[start:end]) {
				return
			}
			start = end
		}
	}
}

// bundleProblem says why a bundle cannot serve the line, "" when it can. Every row of the
// bundle is needed, so the reason lists each failing row when they fail differently.
func bundleProblem(bundle []dropsync.Mapping, l dropsync.Line, sku string, qty int, country string, check CheckFunc) string {
	var failed []string // "<supplier sku> <reason>"
	var reasons []string
	for _, m := range bundle {
		var why string
		switch {
		case !m.ShipsTo(country) && country == "":
			why = "no shipping country"
		case !m.ShipsTo(country):
			why = "does not ship to " + country
		case check != nil:
			why = check(candidate(m, l, sku, qty, country))
		}
		if why != "" {
			failed = append(failed, m.SupplierSKU+" "+why)
			reasons = append(reasons, why)
		}
	}
	switch {
	case len(failed) == 0:
		return ""
	case len(bundle) == 1 || len(failed) == len(bundle) && allSame(reasons):
		return reasons[0]
	}
	return strings.Join(failed, " and ")
}

func allSame(ss []string) bool {
	for _, s := range ss[1:] {
		if s != ss[0] {
			return false
		}
	}
	return true
}

// suppliers names a bundle's supplier; a bundle from an unchecked source may mix several.
func suppliers(bundle []dropsync.Mapping) string {
	var ids []string
	for _, m := range bundle {
		if !slices.Contains(ids, m.Supplier) {
			ids = append(ids, m.Supplier)
		}
	}
	return strings.Join(ids, "+")
}
