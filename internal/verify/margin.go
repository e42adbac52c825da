package verify

import (
	"fmt"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/mapping"
)

var hundred = decimal.NewFromInt(100)

// lineCost is what the supplier units of one storefront unit of a line cost.
type lineCost struct {
	perUnit decimal.Decimal
	// foreign is a cost currency other than the order's, if any item has one.
	foreign string
}

// checkMargin compares, per mapped line, the storefront revenue of one unit after discounts
// and without taxes (lineRevenue) with the supplier cost of one unit (the sum over the line's
// bundle of unit cost times supplier units per storefront unit). Margins are per unit, so a
// partly refunded or edited line compares the same as the whole. Costs in another currency
// than the order's are never converted: a rate picked here would be a guess, and a guess
// should not forward orders.
func checkMargin(sale dropsync.Sale, plan mapping.Plan, minimum decimal.Decimal) []Hold {
	if !minimum.IsPositive() {
		return nil
	}
	costs := map[int64]*lineCost{}
	for _, po := range plan.PurchaseOrders {
		for _, it := range po.Items {
			c := costs[it.LineID]
			if c == nil {
				c = &lineCost{}
				costs[it.LineID] = c
			}
			if !strings.EqualFold(it.UnitCost.Currency, sale.Currency) {
				if c.foreign == "" {
					c.foreign = it.UnitCost.Currency
				}
				continue
			}
			units := decimal.NewFromInt(int64(max(it.UnitsPerLine, 1)))
			c.perUnit = c.perUnit.Add(it.UnitCost.Amount.Mul(units))
		}
	}
	var holds []Hold
	for _, l := range sale.Lines {
		c, ok := costs[l.ID]
		if !ok || l.Quantity <= 0 {
			continue
		}
		sku := l.MappingSKU()
		if c.foreign != "" {
			holds = append(holds, Hold{Rule: RuleMargin,
				Reason: fmt.Sprintf("supplier cost for SKU %s is in %s, order is in %s", sku, c.foreign, sale.Currency)})
			continue
		}
		revenue := lineRevenue(l, sale.TaxesIncluded).Div(decimal.NewFromInt(int64(l.Quantity)))
		if !revenue.IsPositive() {
			if c.perUnit.IsPositive() {
				cost := dropsync.Money{Amount: c.perUnit, Currency: sale.Currency}
				holds = append(holds, Hold{Rule: RuleMargin,
					Reason: fmt.Sprintf("SKU %s brings no revenue after discounts but costs %s per unit", sku, cost)})
			}
			continue
		}
		margin := revenue.Sub(c.perUnit).Div(revenue).Mul(hundred)
		if margin.LessThan(minimum) {
			// Round down, so that 19.96% does not read as "20% (minimum 20%)".
			holds = append(holds, Hold{Rule: RuleMargin,
				Reason: fmt.Sprintf("SKU %s leaves %s%% (minimum %s%%)", sku, margin.RoundFloor(1), minimum)})
		}
	}
	return holds
}

// lineRevenue is what the merchant keeps of the line: its price times its quantity, less its
// discount (Line.Discount, the rule invoices use too), less its taxes when the prices include
// them. Tax collected for the state is not margin: 11.90 with 19% VAT included is 10.00 of
// revenue, and a 9.00 cost leaves 10%, not 24%.
func lineRevenue(l dropsync.Line, taxesIncluded bool) decimal.Decimal {
	rev := l.Discounted()
	if taxesIncluded {
		for _, t := range l.TaxLines {
			rev = rev.Sub(t.Price)
		}
	}
	return rev
}
