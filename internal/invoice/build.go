package invoice

import (
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// Build computes the unnumbered invoice of a sale. Series is DefaultSeries until the caller
// sets the configured one; number, year, sequence and issued_at are the store's to fill.
//
// Lines carry quantity, unit price (the storefront's price), their discount (Line.Discount:
// the sum of their allocations, else total_discount), their taxes per rate and their total;
// shipping lines carry their price, discounts and taxes. With taxes_included the prices contain the taxes and
// total = lines − discounts + shipping − shipping discounts; otherwise the taxes are added.
// That total must equal the sale's total_price to the cent, and the taxes its total_tax: a
// mismatch is an EINVALID *dropsync.Error naming both amounts (reason ReasonTotalMismatch or
// ReasonTaxMismatch). Nothing is ever adjusted to make the numbers meet.
func Build(sale dropsync.Sale, seller Seller) (Invoice, error) {
	if err := sale.Validate(); err != nil {
		return Invoice{}, err
	}
	cur := strings.ToUpper(sale.Currency)
	exp := Exponent(cur)
	inv := Invoice{
		Kind:          KindInvoice,
		Series:        DefaultSeries,
		Shop:          sale.Shop,
		OrderID:       sale.ID,
		OrderName:     sale.Name,
		Currency:      cur,
		TaxesIncluded: sale.TaxesIncluded,
		Seller:        seller,
		Buyer:         buyerOf(sale),
	}
	if pc := strings.ToUpper(sale.PresentmentCurrency); pc != "" && pc != cur {
		inv.PresentmentCurrency = pc
		if sale.PresentmentTotal != nil {
			t := *sale.PresentmentTotal
			inv.PresentmentTotal = &t
		}
	}
	for _, l := range sale.Lines {
		if l.Quantity == 0 {
			continue // a line removed by an order edit is not sold
		}
		disc := l.Discount()
		il := Line{
			LineID:      l.ID,
			SKU:         strings.TrimSpace(l.SKU),
			Description: describe(l),
			Quantity:    l.Quantity,
			UnitPrice:   l.Price,
			Discount:    disc,
			TaxLines:    mergeTaxes(l.TaxLines),
			Total:       l.Discounted(),
		}
		inv.Lines = append(inv.Lines, il)
	}
	for i, s := range sale.ShippingLines {
		// Without allocations the discount is what discounted_price takes off the price, down
		// to nothing for free shipping. The storefront connector always fills DiscountedPrice
		// (with the price itself when the storefront sends none), so 0 means free, not absent.
		disc := sumAllocations(s.DiscountAllocations)
		if len(s.DiscountAllocations) == 0 && s.DiscountedPrice.LessThan(s.Price) {
			disc = s.Price.Sub(s.DiscountedPrice)
		}
		sh := Shipping{
			LineID:   s.ID,
			Title:    s.Title,
			Price:    s.Price,
			Discount: disc,
			TaxLines: mergeTaxes(s.TaxLines),
			Total:    s.Price.Sub(disc),
		}
		if sh.LineID == 0 {
			sh.LineID = -int64(i + 1)
		}
		sh.Tax = sumTaxes(sh.TaxLines)
		inv.Shipping = append(inv.Shipping, sh)
	}
	inv.total()

	for _, a := range inv.amounts() {
		if !fits(a, exp) {
			return Invoice{}, &dropsync.Error{Code: dropsync.EINVALID, Reason: ReasonPrecision,
				Message: "order " + sale.Name + ": amount " + a.String() + " has more decimals than " + cur + " allows"}
		}
	}
	if !inv.Total.Equal(sale.TotalPrice) {
		return Invoice{}, &dropsync.Error{Code: dropsync.EINVALID, Reason: ReasonTotalMismatch,
			Message: "order " + sale.Name + ": invoice total " + inv.Total.StringFixed(exp) + " " + cur +
				" differs from the order's total_price " + sale.TotalPrice.StringFixed(exp) + " " + cur}
	}
	if !inv.TaxTotal.Equal(sale.TotalTax) {
		return Invoice{}, &dropsync.Error{Code: dropsync.EINVALID, Reason: ReasonTaxMismatch,
			Message: "order " + sale.Name + ": invoice tax " + inv.TaxTotal.StringFixed(exp) + " " + cur +
				" differs from the order's total_tax " + sale.TotalTax.StringFixed(exp) + " " + cur}
	}
	return inv, nil
}

// total computes the document totals from its lines and shipping.
func (inv *Invoice) total() {
	var sub, disc, ship, tax decimal.Decimal
	for _, l := range inv.Lines {
		sub = sub.Add(l.UnitPrice.Mul(decimal.NewFromInt(int64(l.Quantity))))
		disc = disc.Add(l.Discount)
		tax = tax.Add(sumTaxes(l.TaxLines))
	}
	for _, s := range inv.Shipping {
		ship = ship.Add(s.Price)
		disc = disc.Add(s.Discount)
		tax = tax.Add(s.Tax)
	}
	inv.Subtotal, inv.DiscountTotal, inv.ShippingTotal, inv.TaxTotal = sub, disc, ship, tax
	inv.Total = sub.Sub(disc).Add(ship)
	if !inv.TaxesIncluded {
		inv.Total = inv.Total.Add(tax)
	}
}

func sumAllocations(as []dropsync.DiscountAllocation) decimal.Decimal {
	var d decimal.Decimal
	for _, a := range as {
		d = d.Add(a.Amount)
	}
	return d
}

func sumTaxes(ts []TaxLine) decimal.Decimal {
	var d decimal.Decimal
	for _, t := range ts {
		d = d.Add(t.Amount)
	}
	return d
}

// mergeTaxes sums the storefront's tax lines per title and rate, dropping zero ones that
// carry no rate (a storefront lists them for untaxed lines).
func mergeTaxes(in []dropsync.TaxLine) []TaxLine {
	var out []TaxLine
	for _, t := range in {
		if t.Price.IsZero() && t.Rate.IsZero() {
			continue
		}
		out = addTax(out, TaxLine{Title: t.Title, Rate: t.Rate, Amount: t.Price})
	}
	return out
}

// credited is what the credit notes of an invoice have taken back so far, per line and per
// shipping line (by LineID).
type credited struct {
	qty      map[int64]int
	line     map[int64]Line     // summed Discount, TaxLines and Total of credited lines
	shipping map[int64]Shipping // summed Price, Discount, TaxLines and Total
	total    decimal.Decimal
}

func creditedOf(inv Invoice) credited {
	c := credited{qty: map[int64]int{}, line: map[int64]Line{}, shipping: map[int64]Shipping{}}
	for _, cn := range inv.CreditNotes {
		for _, l := range cn.Lines {
			c.qty[l.LineID] += l.Quantity
			acc := c.line[l.LineID]
			acc.Discount = acc.Discount.Add(l.Discount)
			acc.Total = acc.Total.Add(l.Total)
			acc.TaxLines = addTaxes(acc.TaxLines, l.TaxLines)
			c.line[l.LineID] = acc
		}
		for _, s := range cn.Shipping {
			acc := c.shipping[s.LineID]
			acc.Price = acc.Price.Add(s.Price)
			acc.Discount = acc.Discount.Add(s.Discount)
			acc.Total = acc.Total.Add(s.Total)
			acc.TaxLines = addTaxes(acc.TaxLines, s.TaxLines)
			c.shipping[s.LineID] = acc
		}
		c.total = c.total.Add(cn.Total)
	}
	return c
}

// addTaxes adds b's taxes to a's, per title and rate.
func addTaxes(a, b []TaxLine) []TaxLine {
	out := append([]TaxLine(nil), a...)
	for _, t := range b {
		out = addTax(out, t)
	}
	return out
}

// addTax adds t's amount to the entry of its title and rate, appended when there is none.
func addTax(out []TaxLine, t TaxLine) []TaxLine {
	for i := range out {
		if out[i].Title == t.Title && out[i].Rate.Equal(t.Rate) {
			out[i].Amount = out[i].Amount.Add(t.Amount)
			return out
		}
	}
	return append(out, t)
}

// remainingTaxes is each of the original taxes less what was credited of it.
func remainingTaxes(orig, done []TaxLine) []TaxLine {
	out := make([]TaxLine, 0, len(orig))
	for _, t := range orig {
		rem := t
		for _, d := range done {
			if d.Title == t.Title && d.Rate.Equal(t.Rate) {
				rem.Amount = rem.Amount.Sub(d.Amount)
			}
		}
		out = append(out, rem)
	}
	return out
}

// share is part/whole of amount, rounded to the currency, and never more than limit: the
// last credit takes exactly what remains, so rounding never credits a cent too much.
func share(amount decimal.Decimal, part, whole decimal.Decimal, exp int32, limit decimal.Decimal) decimal.Decimal {
	if whole.IsZero() {
		return decimal.Zero
	}
	d := amount.Mul(part).Div(whole).Round(exp)
	if d.GreaterThan(limit) {
		return limit
	}
	return d
}

func overCredit(format string, args ...any) error {
	e := dropsync.Errorf(dropsync.EINVALID, format, args...)
	e.Reason = ReasonOverCredit
	return e
}

// BuildCreditNote computes the unnumbered credit note of one refund against an issued
// invoice. inv must carry its credit notes so far (as a store returns it). The credit note
// takes back the refunded quantities of lines, with their share of discount and tax, and the
// refunded shipping with its tax; a quantity or shipping amount that reaches what remains
// takes exactly the remainder, so a full refund or a cancellation credits everything left
// to the cent. It refuses (EINVALID, ReasonOverCredit) to credit more than remains, and
// returns the existing credit note unchanged when inv already has one for the refund.
//
// refund.Shipping is in the invoice's tax basis (including tax when prices include tax).
// A refund of money only, with no line and no shipping, cannot be documented line by line:
// it is refused with ReasonNothingToCredit and left to the operator.
//
// The credit note's series is DefaultCreditNoteSeries until the caller sets the configured
// one.
func BuildCreditNote(inv Invoice, sale dropsync.Sale, refund dropsync.Refund) (Invoice, error) {
	switch {
	case inv.Kind != KindInvoice || inv.Number == "":
		return Invoice{}, dropsync.Errorf(dropsync.EINVALID, "a credit note needs an issued invoice")
	case sale.Shop != inv.Shop || sale.ID != inv.OrderID:
		return Invoice{}, dropsync.Errorf(dropsync.EINVALID, "order %d of %s is not the order of invoice %s",
			sale.ID, sale.Shop, inv.Number)
	case refund.ID == 0:
		return Invoice{}, dropsync.Errorf(dropsync.EINVALID, "refund of invoice %s has no id", inv.Number)
	}
	for _, cn := range inv.CreditNotes {
		if cn.RefundID == refund.ID {
			return cn, nil
		}
	}
	exp := Exponent(inv.Currency)
	done := creditedOf(inv)
	cn := Invoice{
		Kind:          KindCreditNote,
		Series:        DefaultCreditNoteSeries,
		Refers:        inv.Number,
		RefundID:      refund.ID,
		Shop:          inv.Shop,
		OrderID:       inv.OrderID,
		OrderName:     inv.OrderName,
		Currency:      inv.Currency,
		TaxesIncluded: inv.TaxesIncluded,
		Seller:        inv.Seller,
		Buyer:         inv.Buyer,
	}
	for _, rl := range refund.Lines {
		if rl.Quantity <= 0 {
			if rl.Quantity < 0 {
				return Invoice{}, dropsync.Errorf(dropsync.EINVALID, "refund %d: line %d has a negative quantity", refund.ID, rl.LineID)
			}
			continue
		}
		var orig *Line
		for i := range inv.Lines {
			if inv.Lines[i].LineID == rl.LineID {
				orig = &inv.Lines[i]
			}
		}
		if orig == nil {
			return Invoice{}, dropsync.Errorf(dropsync.EINVALID, "refund %d: line %d is not on invoice %s", refund.ID, rl.LineID, inv.Number)
		}
		prev := done.line[rl.LineID]
		remQty := orig.Quantity - done.qty[rl.LineID]
		if rl.Quantity > remQty {
			return Invoice{}, overCredit("refund %d: %d of line %d credited, but only %d of %d remain on invoice %s",
				refund.ID, rl.Quantity, rl.LineID, remQty, orig.Quantity, inv.Number)
		}
		remDisc := orig.Discount.Sub(prev.Discount)
		remTotal := orig.Total.Sub(prev.Total)
		remTax := remainingTaxes(orig.TaxLines, prev.TaxLines)
		l := Line{LineID: orig.LineID, SKU: orig.SKU, Description: orig.Description,
			Quantity: rl.Quantity, UnitPrice: orig.UnitPrice}
		if rl.Quantity == remQty {
			l.Discount, l.Total, l.TaxLines = remDisc, remTotal, remTax
		} else {
			q, n := decimal.NewFromInt(int64(rl.Quantity)), decimal.NewFromInt(int64(orig.Quantity))
			l.Discount = share(orig.Discount, q, n, exp, remDisc)
			l.Total = orig.UnitPrice.Mul(q).Sub(l.Discount)
			if l.Total.GreaterThan(remTotal) {
				l.Total = remTotal
			}
			for i, t := range orig.TaxLines {
				l.TaxLines = append(l.TaxLines, TaxLine{Title: t.Title, Rate: t.Rate,
					Amount: share(t.Amount, q, n, exp, remTax[i].Amount)})
			}
		}
		done.qty[rl.LineID] += l.Quantity
		prev.Discount, prev.Total = prev.Discount.Add(l.Discount), prev.Total.Add(l.Total)
		prev.TaxLines = addTaxes(prev.TaxLines, l.TaxLines)
		done.line[rl.LineID] = prev
		cn.Lines = append(cn.Lines, l)
	}
	if refund.Shipping.IsNegative() {
		return Invoice{}, dropsync.Errorf(dropsync.EINVALID, "refund %d: negative shipping %s", refund.ID, refund.Shipping)
	}
	if amt := refund.Shipping; amt.IsPositive() {
		var left decimal.Decimal
		for _, s := range inv.Shipping {
			left = left.Add(s.Total.Sub(done.shipping[s.LineID].Total))
		}
		if amt.GreaterThan(left) {
			return Invoice{}, overCredit("refund %d: shipping %s %s credited, but only %s remains on invoice %s",
				refund.ID, amt.StringFixed(exp), inv.Currency, left.StringFixed(exp), inv.Number)
		}
		for _, s := range inv.Shipping {
			if !amt.IsPositive() {
				break
			}
			prev := done.shipping[s.LineID]
			remTotal := s.Total.Sub(prev.Total)
			if !remTotal.IsPositive() {
				continue
			}
			sh := Shipping{LineID: s.LineID, Title: s.Title}
			if amt.GreaterThanOrEqual(remTotal) {
				sh.Price = s.Price.Sub(prev.Price)
				sh.Discount = s.Discount.Sub(prev.Discount)
				sh.Total = remTotal
				sh.TaxLines = remainingTaxes(s.TaxLines, prev.TaxLines)
			} else {
				// Part of a charge: the refunded amount is its price, with the tax it contains
				// (or carries) in proportion.
				sh.Price, sh.Total = amt, amt
				rem := remainingTaxes(s.TaxLines, prev.TaxLines)
				for i, t := range s.TaxLines {
					sh.TaxLines = append(sh.TaxLines, TaxLine{Title: t.Title, Rate: t.Rate,
						Amount: share(t.Amount, amt, s.Total, exp, rem[i].Amount)})
				}
			}
			sh.Tax = sumTaxes(sh.TaxLines)
			amt = amt.Sub(sh.Total)
			prev.Price, prev.Discount = prev.Price.Add(sh.Price), prev.Discount.Add(sh.Discount)
			prev.Total = prev.Total.Add(sh.Total)
			prev.TaxLines = addTaxes(prev.TaxLines, sh.TaxLines)
			done.shipping[s.LineID] = prev
			cn.Shipping = append(cn.Shipping, sh)
		}
	}
	if len(cn.Lines) > 0 || len(cn.Shipping) > 0 {
		closeOut(&cn, inv, done)
	}
	if len(cn.Lines) == 0 && len(cn.Shipping) == 0 {
		return Invoice{}, &dropsync.Error{Code: dropsync.EINVALID, Reason: ReasonNothingToCredit,
			Message: "refund " + strconv.FormatInt(refund.ID, 10) + " of invoice " + inv.Number + " names no line and no shipping to credit"}
	}
	cn.total()
	if left := inv.Total.Sub(done.total); cn.Total.GreaterThan(left) {
		return Invoice{}, overCredit("refund %d: credit note of %s %s exceeds the %s %s left on invoice %s",
			refund.ID, cn.Total.StringFixed(exp), inv.Currency, left.StringFixed(exp), inv.Currency, inv.Number)
	}
	return cn, nil
}

// closeOut adds to the credit note that leaves nothing of the invoice the shipping lines
// that cost nothing after their discount (free shipping): their price and discount were
// invoiced, so crediting everything must take them back too, or the credit notes would not
// sum to the invoice line by line.
func closeOut(cn *Invoice, inv Invoice, done credited) {
	for _, l := range inv.Lines {
		if done.qty[l.LineID] < l.Quantity {
			return
		}
	}
	for _, s := range inv.Shipping {
		if s.Total.Sub(done.shipping[s.LineID].Total).IsPositive() {
			return
		}
	}
	for _, s := range inv.Shipping {
		prev := done.shipping[s.LineID]
		sh := Shipping{LineID: s.LineID, Title: s.Title, Price: s.Price.Sub(prev.Price),
			Discount: s.Discount.Sub(prev.Discount), Total: s.Total.Sub(prev.Total),
			TaxLines: remainingTaxes(s.TaxLines, prev.TaxLines)}
		if sh.Price.IsZero() && sh.Discount.IsZero() {
			continue
		}
		sh.Tax = sumTaxes(sh.TaxLines)
		cn.Shipping = append(cn.Shipping, sh)
	}
}

// CancellationRefund is the refund that credits everything an invoice still carries, for an
// order cancelled after it was invoiced without a storefront refund of its own. Its id is
// the order id negated: a repeated cancellation is the same refund (so the same credit note),
// and it never collides with a storefront refund id.
func CancellationRefund(inv Invoice, sale dropsync.Sale, at time.Time) dropsync.Refund {
	done := creditedOf(inv)
	note := "order cancelled"
	if r := strings.TrimSpace(sale.CancelReason); r != "" {
		note += ": " + r
	}
	r := dropsync.Refund{ID: -inv.OrderID, CreatedAt: at.UTC(), Note: note}
	for _, l := range inv.Lines {
		q := l.Quantity - done.qty[l.LineID]
		if q <= 0 {
			continue
		}
		prev := done.line[l.LineID]
		tax := sumTaxes(remainingTaxes(l.TaxLines, prev.TaxLines))
		r.Lines = append(r.Lines, dropsync.RefundLine{LineID: l.LineID, Quantity: q,
			Subtotal: l.Total.Sub(prev.Total), Tax: tax})
	}
	for _, s := range inv.Shipping {
		r.Shipping = r.Shipping.Add(s.Total.Sub(done.shipping[s.LineID].Total))
	}
	r.Amount = inv.Total.Sub(done.total)
	return r
}
