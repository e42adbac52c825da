package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/mapping"
	"github.com/dropsync/dropsync/internal/verify"
)

// handleVerify checks an order against the merchant's rules and mappings for one round and
// plans its purchase orders: held (with every reason), ignored (nothing mapped) or
// forwarding. A task of an older round, or for an order no longer waiting, does nothing.
func (p *Pipeline) handleVerify(ctx context.Context, t *asynq.Task) error {
	var pl OrderPayload
	if err := json.Unmarshal(t.Payload(), &pl); err != nil {
		return fmt.Errorf("decode verify payload: %v: %w", err, asynq.SkipRetry)
	}
	o, err := p.store.Order(ctx, pl.Shop, pl.OrderID)
	if err != nil {
		return err
	}
	if o.State != dropsync.StateReceived || o.Round != pl.Round {
		return nil
	}
	if o.CancelledAt != nil {
		return nil // cancelled at the storefront: the cancel step closes it, nothing is planned
	}
	if gone, err := p.shopGone(ctx, o.Shop); err != nil || gone {
		return err
	}
	// Lines already with a live purchase order (after a fallback re-plan) are not planned again.
	sale := openSale(o)
	skus := make([]string, 0, len(sale.Lines))
	for _, l := range sale.Lines {
		skus = append(skus, l.MappingSKU())
	}
	rows, err := p.store.MappingsFor(ctx, o.Shop, skus)
	if err != nil {
		return err
	}
	check, err := p.stockCheck(ctx, &o, sale, rows)
	if err != nil {
		return err
	}
	plan := mapping.Resolve(sale, rows, check)
	p.liveCosts(plan, p.now())
	risk := ""
	if p.cfg.Rules.HoldRisk != "none" && len(plan.PurchaseOrders) > 0 && p.storefront != nil {
		if risk, err = p.storefront.Risk(ctx, o.Shop, o.ID); err != nil {
			return fmt.Errorf("read risk of %s: %w", dropsync.OrderKey(o.Shop, o.ID), err)
		}
	}
	// The rules decide whether new purchase orders may go out; an order whose lines all have
	// purchase orders already (a released failure) goes on without them.
	var holds []dropsync.Hold
	if len(plan.PurchaseOrders) > 0 || len(plan.Unfulfillable) > 0 {
		holds = p.holds(o, plan, risk)
	}
	now := p.now()
	o, _, err = p.store.UpdateOrder(ctx, pl.Shop, pl.OrderID, func(o *dropsync.Order) error {
		if o.State != dropsync.StateReceived || o.Round != pl.Round {
			return dropsync.ErrNoChange
		}
		if len(holds) > 0 {
			o.Hold(now, holds...)
			return nil
		}
		live := 0
		for _, po := range o.PurchaseOrders {
			if livePO(po) {
				live++
			}
		}
		if len(plan.PurchaseOrders) == 0 && live == 0 {
			o.State = dropsync.StateIgnored
			o.Record(now, "ignored", "no line is mapped to a supplier; the merchant fulfils it")
			return nil
		}
		for _, po := range plan.PurchaseOrders {
			if cur := o.PurchaseOrder(po.ID); cur != nil {
				switch {
				case cur.State == dropsync.POPending && !cur.MaybeAtSupplier():
					// Planned but never sent: the new plan replaces it.
					*cur = po
					cur.UpdatedAt = now
				case cur.State == dropsync.POPending && sameItems(*cur, po):
					// Perhaps at the supplier already, with these very items: it stands.
				case livePO(*cur):
					o.Hold(now, dropsync.Hold{Rule: "mapping", Reason: fmt.Sprintf(
						"supplier %s already has (or may have) a purchase order for this order with other items", po.Supplier)})
					return nil
				default:
					*cur = po
					cur.UpdatedAt = now
				}
				continue
			}
			po.UpdatedAt = now
			o.PurchaseOrders = append(o.PurchaseOrders, po)
		}
		o.HoldReason, o.Holds = "", nil
		o.State = dropsync.StateForwarding
		o.Record(now, "verified", planSummary(plan))
		o.Advance(now)
		return nil
	})
	if err != nil {
		return err
	}
	return p.reconcile(ctx, o)
}

// RuleTestOrder names the hold of storefront test orders.
const RuleTestOrder = "test_order"

// livePO reports whether a purchase order still stands (not refused, cancelled or failed).
func livePO(po dropsync.PurchaseOrder) bool {
	switch po.State {
	case dropsync.PORejected, dropsync.POCancelled, dropsync.POFailed:
		return false
	}
	return true
}

// openSale is the order's sale without the lines a live purchase order already covers.
func openSale(o dropsync.Order) dropsync.Sale {
	covered := map[int64]bool{}
	for _, po := range o.PurchaseOrders {
		if livePO(po) && po.State != dropsync.POPending {
			for _, it := range po.Items {
				covered[it.LineID] = true
			}
		}
	}
	sale := o.Sale
	if len(covered) == 0 {
		return sale
	}
	sale.Lines = slices.DeleteFunc(slices.Clone(sale.Lines), func(l dropsync.Line) bool { return covered[l.ID] })
	return sale
}

func (p *Pipeline) holds(o dropsync.Order, plan mapping.Plan, risk string) []dropsync.Hold {
	r := p.cfg.Rules
	found := verify.Check(o.Sale, plan, risk, verify.Rules{
		RequirePaid: r.RequirePaid, MinMarginPercent: r.MinMarginPercent, HoldRisk: r.HoldRisk,
		MaxQuantity: r.MaxQuantity, HoldCountries: r.HoldCountries,
	})
	var out []dropsync.Hold
	for _, h := range found {
		if h.Overridable() && slices.Contains(o.Overrides, h.Rule) {
			continue
		}
		out = append(out, dropsync.Hold{Rule: h.Rule, Reason: h.Reason})
	}
	// A storefront test order (placed through a test gateway) would become a real, paid
	// supplier order: it waits for a person, who may release it with an override.
	if o.Test && len(plan.PurchaseOrders) > 0 && !slices.Contains(o.Overrides, RuleTestOrder) {
		out = append(out, dropsync.Hold{Rule: RuleTestOrder,
			Reason: "a storefront test order is not forwarded to suppliers unless released with an override"})
	}
	return out
}

// stockCheck fetches live stock for every supplier SKU the plan might use (one call per
// supplier, cached briefly) and returns the check that sends a line to its next priority
// when a supplier has too little, does not know the SKU, or refused it before.
func (p *Pipeline) stockCheck(ctx context.Context, o *dropsync.Order, sale dropsync.Sale, rows []dropsync.Mapping) (mapping.CheckFunc, error) {
	now := p.now()
	need := map[string][]string{}
	for _, c := range mapping.Candidates(sale, rows) {
		if _, ok := p.stock.get(c.Supplier, c.SupplierSKU, now); !ok && !slices.Contains(need[c.Supplier], c.SupplierSKU) {
			need[c.Supplier] = append(need[c.Supplier], c.SupplierSKU)
		}
	}
	for sup, skus := range need {
		s, ok := p.suppliers[sup]
		if !ok {
			continue // the check below reports it
		}
		stock, err := s.Inventory(ctx, skus)
		if err != nil {
			return nil, fmt.Errorf("read stock at %s: %w", sup, err)
		}
		got := map[string]dropsync.Stock{}
		for _, st := range stock {
			got[st.SKU] = st
		}
		for _, sku := range skus {
			st, known := got[sku]
			p.stock.put(sup, sku, stockEntry{stock: st, known: known, at: now})
		}
	}
	return func(c mapping.Candidate) string {
		if reason := o.Excluded(c.Supplier, c.SupplierSKU); reason != "" {
			return reason
		}
		if _, ok := p.suppliers[c.Supplier]; !ok {
			return "supplier " + c.Supplier + " is not configured"
		}
		e, ok := p.stock.get(c.Supplier, c.SupplierSKU, now)
		switch {
		case !ok:
			return "" // the supplier answered nothing for it; its reply to the order decides
		case !e.known:
			return dropsync.ReasonUnknownSKU
		case e.stock.Available < c.Quantity:
			return dropsync.ReasonOutOfStock
		}
		return ""
	}, nil
}

func planSummary(plan mapping.Plan) string {
	var parts []string
	for _, po := range plan.PurchaseOrders {
		units := 0
		for _, it := range po.Items {
			units += it.Quantity
		}
		parts = append(parts, po.Supplier+" ("+strconv.Itoa(len(po.Items))+" items, "+strconv.Itoa(units)+" units)")
	}
	s := "purchase orders: " + strings.Join(parts, ", ")
	if n := len(plan.Unmapped); n > 0 {
		s += "; " + strconv.Itoa(n) + " unmapped line(s) left to the merchant"
	}
	return s
}

// liveCosts prices the plan's items with the suppliers' live cost where they reported one in
// the mapping's currency, so
// the margin rule and the purchase order use what the supplier will charge today rather than
// what the mapping said when it was written.
func (p *Pipeline) liveCosts(plan mapping.Plan, now time.Time) {
	for i := range plan.PurchaseOrders {
		po := &plan.PurchaseOrders[i]
		for j := range po.Items {
			it := &po.Items[j]
			// Only a live cost in the mapping's currency replaces it: a supplier quoting in
			// another currency (Printful and CJ quote USD) must not turn every line of a
			// store selling in EUR into a currency-mismatch hold.
			if e, ok := p.stock.get(po.Supplier, it.SupplierSKU, now); ok && e.known &&
				!e.stock.UnitCost.Amount.IsZero() && e.stock.UnitCost.Currency == it.UnitCost.Currency {
				it.UnitCost = e.stock.UnitCost
			}
		}
	}
}

// sameItems reports whether two purchase orders ask for the same supplier units.
func sameItems(a, b dropsync.PurchaseOrder) bool {
	return slices.EqualFunc(a.Items, b.Items, func(x, y dropsync.POItem) bool {
		return x.LineID == y.LineID && x.SupplierSKU == y.SupplierSKU && x.Quantity == y.Quantity
	})
}
