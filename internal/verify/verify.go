// Package verify holds the rules that decide whether an order may be forwarded to its
// suppliers: payment, shipping address, margin, risk, quantity, destination and mapping.
// Each broken rule is a hold whose reason a merchant understands; the reasons show in the
// admin API's hold_reason and in the order's timeline, so they never carry customer data.
package verify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/mapping"
)

// Rule names, in the order Check reports their holds.
const (
	RulePayment  = "payment"
	RuleAddress  = "address"
	RuleMargin   = "margin"
	RuleRisk     = "risk"
	RuleQuantity = "quantity"
	RuleCountry  = "country"
	RuleMapping  = "mapping"
)

// Risk levels for Rules.HoldRisk.
const (
	RiskNone   = "none"   // never hold for risk
	RiskMedium = "medium" // hold what the storefront says to investigate or cancel
	RiskHigh   = "high"   // hold what the storefront says to cancel
)

// Storefront risk recommendations (Shopify's order risk assessment).
const (
	RecommendAccept      = "accept"
	RecommendInvestigate = "investigate"
	RecommendCancel      = "cancel"
)

// Rules is a shop's verification policy. The zero value holds nothing. The config's rules
// keys are validated where they are read (internal/config); Check takes them as given.
type Rules struct {
	// RequirePaid holds orders that are not paid or authorized.
	RequirePaid bool
	// MinMarginPercent holds lines whose supplier cost leaves less margin; 0 disables the
	// rule.
	MinMarginPercent decimal.Decimal
	// HoldRisk is the lowest storefront risk level that holds an order: RiskNone (or ""),
	// RiskMedium or RiskHigh.
	HoldRisk string
	// MaxQuantity holds a mapped line with more units than this; 0 means no cap.
	MaxQuantity int
	// HoldCountries are destinations (ISO 3166-1 alpha-2) that always need a look first.
	HoldCountries []string
}

// Hold is one reason not to forward an order yet.
type Hold struct {
	// Rule is the rule that holds the order: one of the Rule constants.
	Rule string
	// Reason says what is wrong, for a merchant, without customer data.
	Reason string
}

// String formats the hold as "<rule>: <reason>", as it appears in hold_reason.
func (h Hold) String() string { return h.Rule + ": " + h.Reason }

// Overridable reports whether an operator may release the order despite the hold. A line
// without a usable supplier cannot be forwarded whatever the operator says, and neither can
// an order with no shipping address at all; every other hold is a judgement call.
func (h Hold) Overridable() bool {
	switch {
	case h.Rule == RuleMapping:
		return false
	case h.Rule == RuleAddress && h.Reason == reasonNoAddress:
		return false
	}
	return true
}

// Reason joins holds into one hold_reason: "payment: order is pending, not paid or
// authorized; margin: SKU TS-1 leaves 12.5% (minimum 20%)". No holds give "".
func Reason(holds []Hold) string {
	parts := make([]string, len(holds))
	for i, h := range holds {
		parts[i] = h.String()
	}
	return strings.Join(parts, "; ")
}

// Check runs every rule and returns all holds, not just the first, in a stable order (by
// rule as the Rule constants list them, then by line). risk is the storefront's risk
// recommendation for the order (RecommendAccept, RecommendInvestigate, RecommendCancel; ""
// when unknown). plan is the order's mapping plan: the rules about shipping and margin look
// only at the lines it maps to a supplier. An order whose plan maps nothing (Plan.Ignored)
// is not held for its address, quantities or destination; the caller ignores it.
func Check(sale dropsync.Sale, plan mapping.Plan, risk string, r Rules) []Hold {
	var holds []Hold
	if r.RequirePaid && !sale.Paid() {
		holds = append(holds, Hold{Rule: RulePayment, Reason: paymentReason(sale.FinancialStatus)})
	}
	mapped := mappedLines(plan)
	if len(mapped) > 0 {
		holds = append(holds, checkAddress(sale.ShippingAddress)...)
	}
	holds = append(holds, checkMargin(sale, plan, r.MinMarginPercent)...)
	if h, ok := checkRisk(risk, r.HoldRisk); ok {
		holds = append(holds, h)
	}
	if r.MaxQuantity > 0 {
		for _, l := range sale.Lines {
			if q := mapping.LineQuantity(sale, l); mapped[l.ID] && q > r.MaxQuantity {
				holds = append(holds, Hold{Rule: RuleQuantity,
					Reason: fmt.Sprintf("SKU %s has quantity %d, above the maximum of %d", l.MappingSKU(), q, r.MaxQuantity)})
			}
		}
	}
	if dest := sale.ShipTo(); len(mapped) > 0 && dest != "" && slices.ContainsFunc(r.HoldCountries, func(c string) bool {
		return strings.EqualFold(strings.TrimSpace(c), dest)
	}) {
		holds = append(holds, Hold{Rule: RuleCountry, Reason: fmt.Sprintf("destination %s is on the hold list", dest)})
	}
	for _, lp := range plan.Unfulfillable {
		why := "no usable supplier"
		if len(lp.Reasons) > 0 {
			why = strings.Join(lp.Reasons, ", ")
		}
		holds = append(holds, Hold{Rule: RuleMapping, Reason: fmt.Sprintf("SKU %s: %s", lp.SKU, why)})
	}
	return holds
}

// mappedLines are the lines the plan maps to a supplier, usable or not.
func mappedLines(plan mapping.Plan) map[int64]bool {
	out := map[int64]bool{}
	for _, po := range plan.PurchaseOrders {
		for _, it := range po.Items {
			out[it.LineID] = true
		}
	}
	for _, lp := range plan.Unfulfillable {
		out[lp.LineID] = true
	}
	return out
}

func paymentReason(status string) string {
	if status == "" {
		return "order has no payment status, not paid or authorized"
	}
	return "order is " + strings.ReplaceAll(status, "_", " ") + ", not paid or authorized"
}

// checkRisk holds an order whose storefront risk recommendation is at or above the level.
func checkRisk(recommendation, holdAt string) (Hold, bool) {
	threshold := map[string]int{RiskMedium: 1, RiskHigh: 2}[holdAt]
	if threshold == 0 {
		return Hold{}, false
	}
	switch strings.ToLower(recommendation) {
	case RecommendCancel:
		return Hold{Rule: RuleRisk, Reason: "storefront risk analysis recommends cancelling the order (high risk)"}, true
	case RecommendInvestigate:
		if threshold <= 1 {
			return Hold{Rule: RuleRisk, Reason: "storefront risk analysis recommends investigating the order (medium risk)"}, true
		}
	}
	return Hold{}, false
}
