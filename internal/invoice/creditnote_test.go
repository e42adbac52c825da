package invoice_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/invoice"
)

// issued builds and numbers the invoice of a testdata order.
func issued(t *testing.T, file string) (invoice.Invoice, dropsync.Sale) {
	t.Helper()
	sale := loadSale(t, file)
	inv, err := invoice.Build(sale, seller)
	if err != nil {
		t.Fatal(err)
	}
	return issue(inv, 1), sale
}

// credit builds the credit note of refund, numbers it and attaches it to inv, as a store does.
func credit(t *testing.T, inv *invoice.Invoice, sale dropsync.Sale, refund dropsync.Refund) invoice.Invoice {
	t.Helper()
	cn, err := invoice.BuildCreditNote(*inv, sale, refund)
	if err != nil {
		t.Fatal(err)
	}
	if err := cn.Validate(); err != nil {
		t.Fatalf("credit note does not validate: %v", err)
	}
	cn = issue(cn, int64(len(inv.CreditNotes)+1))
	inv.CreditNotes = append(inv.CreditNotes, cn)
	return cn
}

func TestCreditNotePartialRefunds(t *testing.T) {
	inv, sale := issued(t, "sale-eu-taxes-included.json")
	// One of the two T-shirts: half its discount and tax, rounded half up.
	first := credit(t, &inv, sale, dropsync.Refund{ID: 801, Lines: []dropsync.RefundLine{{LineID: 14523001, Quantity: 1}}})
	if got, want := first.Kind, invoice.KindCreditNote; got != want {
		t.Errorf("kind %q, want %q", got, want)
	}
	if got, want := first.Refers, inv.Number; got != want {
		t.Errorf("refers %q, want %q", got, want)
	}
	l := first.Lines[0]
	if got, want := []string{l.Discount.String(), l.TaxLines[0].Amount.String(), l.Total.String(), first.Total.String()},
		[]string{"2.99", "4.3", "26.91", "26.91"}; !equal(got, want) {
		t.Errorf("first credit discount, tax, line total, total = %v, want %v", got, want)
	}
	// The other T-shirt takes exactly what remains: the tax rounding evens out.
	second := credit(t, &inv, sale, dropsync.Refund{ID: 802, Lines: []dropsync.RefundLine{{LineID: 14523001, Quantity: 1}}})
	l = second.Lines[0]
	if got, want := []string{l.Discount.String(), l.TaxLines[0].Amount.String(), l.Total.String()},
		[]string{"2.99", "4.29", "26.91"}; !equal(got, want) {
		t.Errorf("second credit discount, tax, total = %v, want %v", got, want)
	}
	// A third would credit a T-shirt that is no longer on the invoice.
	_, err := invoice.BuildCreditNote(inv, sale, dropsync.Refund{ID: 803, Lines: []dropsync.RefundLine{{LineID: 14523001, Quantity: 1}}})
	if got, want := dropsync.ErrorReason(err), invoice.ReasonOverCredit; got != want {
		t.Errorf("third refund of the line: reason %q (%v), want %q", got, err, want)
	}
}

func TestCreditNotePartialShippingTaxesExcluded(t *testing.T) {
	inv, sale := issued(t, "sale-us-taxes-excluded.json")
	cn := credit(t, &inv, sale, dropsync.Refund{ID: 901, Shipping: dec("3.00")})
	if got, want := len(cn.Shipping), 1; got != want {
		t.Fatalf("%d shipping lines, want %d", got, want)
	}
	s := cn.Shipping[0]
	if got, want := []string{s.Price.String(), s.TaxLines[0].Amount.String(), s.TaxLines[1].Amount.String(), cn.Total.String()},
		[]string{"3", "0.12", "0.13", "3.25"}; !equal(got, want) {
		t.Errorf("shipping price, state tax, city tax, total = %v, want %v", got, want)
	}
	_, err := invoice.BuildCreditNote(inv, sale, dropsync.Refund{ID: 902, Shipping: dec("3.96")})
	if got, want := dropsync.ErrorReason(err), invoice.ReasonOverCredit; got != want {
		t.Errorf("shipping over what remains: reason %q (%v), want %q", got, err, want)
	}
	rest := credit(t, &inv, sale, dropsync.Refund{ID: 903, Shipping: dec("3.95")})
	if got, want := rest.TaxTotal.String(), "0.34"; got != want {
		t.Errorf("rest of the shipping tax %s, want %s", got, want)
	}
}

// TestCreditNotesAddUpToTheInvoice refunds every order unit by unit, then cancels what
// is left: whatever the rounding on the way, the credit notes sum to the invoice to the cent.
func TestCreditNotesAddUpToTheInvoice(t *testing.T) {
	for _, f := range []string{"sale-eu-taxes-included.json", "sale-us-taxes-excluded.json", "sale-free-shipping.json",
		"sale-jpy.json", "sale-multi-currency.json", "sale-pln-discount.json"} {
		t.Run(f, func(t *testing.T) {
			inv, sale := issued(t, f)
			id := int64(1)
			for _, l := range inv.Lines {
				for range l.Quantity - 1 { // leave one unit of each line to the cancellation
					credit(t, &inv, sale, dropsync.Refund{ID: id, Lines: []dropsync.RefundLine{{LineID: l.LineID, Quantity: 1}}})
					id++
				}
			}
			if len(inv.Shipping) > 0 && inv.Shipping[0].Total.GreaterThan(dec("1")) {
				credit(t, &inv, sale, dropsync.Refund{ID: id, Shipping: dec("1")})
			}
			cancel := invoice.CancellationRefund(inv, sale, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
			if got, want := cancel.ID, -inv.OrderID; got != want {
				t.Errorf("cancellation refund id %d, want %d", got, want)
			}
			credit(t, &inv, sale, cancel)

			var sum invoice.Invoice
			for _, cn := range inv.CreditNotes {
				sum.Subtotal = sum.Subtotal.Add(cn.Subtotal)
				sum.DiscountTotal = sum.DiscountTotal.Add(cn.DiscountTotal)
				sum.ShippingTotal = sum.ShippingTotal.Add(cn.ShippingTotal)
				sum.TaxTotal = sum.TaxTotal.Add(cn.TaxTotal)
				sum.Total = sum.Total.Add(cn.Total)
			}
			for _, c := range []struct {
				name      string
				got, want decimal.Decimal
			}{
				{"subtotal", sum.Subtotal, inv.Subtotal}, {"discount", sum.DiscountTotal, inv.DiscountTotal},
				{"shipping", sum.ShippingTotal, inv.ShippingTotal}, {"tax", sum.TaxTotal, inv.TaxTotal},
				{"total", sum.Total, inv.Total},
			} {
				if !c.got.Equal(c.want) {
					t.Errorf("credited %s %s, want the invoice's %s", c.name, c.got, c.want)
				}
			}
			// The cancellation again is the same credit note; any other refund finds nothing left.
			again, err := invoice.BuildCreditNote(inv, sale, invoice.CancellationRefund(inv, sale, time.Now()))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := again.Number, inv.CreditNotes[len(inv.CreditNotes)-1].Number; got != want {
				t.Errorf("second cancellation gave credit note %q, want the first, %q", got, want)
			}
			_, err = invoice.BuildCreditNote(inv, sale, dropsync.Refund{ID: 99999,
				Lines: []dropsync.RefundLine{{LineID: inv.Lines[0].LineID, Quantity: 1}}})
			if got, want := dropsync.ErrorReason(err), invoice.ReasonOverCredit; got != want {
				t.Errorf("refund after everything was credited: reason %q (%v), want %q", got, err, want)
			}
		})
	}
}

func TestCreditNoteFullRefund(t *testing.T) {
	inv, sale := issued(t, "sale-pln-discount.json")
	var lines []dropsync.RefundLine
	for _, l := range sale.Lines {
		lines = append(lines, dropsync.RefundLine{LineID: l.ID, Quantity: l.Quantity})
	}
	cn := credit(t, &inv, sale, dropsync.Refund{ID: 77, Lines: lines, Shipping: dec("12.99"), Amount: dec("154.99")})
	if got, want := cn.Total.String(), "154.99"; got != want {
		t.Errorf("full refund credits %s, want %s", got, want)
	}
	if got, want := cn.TaxTotal.String(), "23.06"; got != want {
		t.Errorf("full refund credits tax %s, want %s", got, want)
	}
	if got, want := cn.Series, invoice.DefaultCreditNoteSeries; got != want {
		t.Errorf("series %q, want %q", got, want)
	}
}

func TestCreditNoteRefused(t *testing.T) {
	inv, sale := issued(t, "sale-eu-taxes-included.json")
	unissued := inv
	unissued.Number = ""
	otherSale := sale
	otherSale.ID++
	tests := []struct {
		name       string
		inv        invoice.Invoice
		sale       dropsync.Sale
		refund     dropsync.Refund
		wantReason string
	}{
		{name: "more units than invoiced", inv: inv, sale: sale, wantReason: invoice.ReasonOverCredit,
			refund: dropsync.Refund{ID: 1, Lines: []dropsync.RefundLine{{LineID: 14523002, Quantity: 2}}}},
		{name: "more shipping than charged", inv: inv, sale: sale, wantReason: invoice.ReasonOverCredit,
			refund: dropsync.Refund{ID: 1, Shipping: dec("4.91")}},
		{name: "money only", inv: inv, sale: sale, wantReason: invoice.ReasonNothingToCredit,
			refund: dropsync.Refund{ID: 1, Amount: dec("5.00")}},
		{name: "line not on the invoice", inv: inv, sale: sale,
			refund: dropsync.Refund{ID: 1, Lines: []dropsync.RefundLine{{LineID: 42, Quantity: 1}}}},
		{name: "invoice not issued", inv: unissued, sale: sale,
			refund: dropsync.Refund{ID: 1, Lines: []dropsync.RefundLine{{LineID: 14523002, Quantity: 1}}}},
		{name: "another order", inv: inv, sale: otherSale,
			refund: dropsync.Refund{ID: 1, Lines: []dropsync.RefundLine{{LineID: 14523002, Quantity: 1}}}},
		{name: "refund without id", inv: inv, sale: sale,
			refund: dropsync.Refund{Lines: []dropsync.RefundLine{{LineID: 14523002, Quantity: 1}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := invoice.BuildCreditNote(tt.inv, tt.sale, tt.refund)
			if got, want := dropsync.ErrorCode(err), dropsync.EINVALID; got != want {
				t.Fatalf("code %q (%v), want %q", got, err, want)
			}
			if got, want := dropsync.ErrorReason(err), tt.wantReason; tt.wantReason != "" && got != want {
				t.Errorf("reason %q (%v), want %q", got, err, want)
			}
		})
	}
}

func TestCreditNoteSameRefundAgain(t *testing.T) {
	inv, sale := issued(t, "sale-eu-taxes-included.json")
	refund := dropsync.Refund{ID: 555, Lines: []dropsync.RefundLine{{LineID: 14523002, Quantity: 1}}}
	first := credit(t, &inv, sale, refund)
	// Retried after the credit note was stored: the same document, not a second credit.
	again, err := invoice.BuildCreditNote(inv, sale, refund)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := first.JSON()
	b, _ := again.JSON()
	if !bytes.Equal(a, b) {
		t.Errorf("rebuilt credit note differs:\n got %s\nwant %s", b, a)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
