// Package invoice turns a storefront sale into the invoice an accountant accepts, and a
// refund or a cancellation into the credit note that corrects it: amounts computed with
// decimal arithmetic from the sale's lines, discounts, shipping and taxes, checked against
// the storefront's own total to the cent, and rendered deterministically as JSON, PDF and a
// CSV export.
//
// The package is pure: it numbers nothing and stores nothing. Build and BuildCreditNote
// return unnumbered documents; a store allocates the number and stamps issued_at in the same
// atomic step that stores the document, which is what keeps a series gapless.
//
// Numbering, as an accountant needs it: within one series and one calendar year (UTC) the
// numbers run 1, 2, 3, … without a gap or a repeat, every number belongs to a stored
// document, dates never run backwards against numbers, and a document is never deleted or
// changed: a credit note in its own series corrects an invoice. The only edit allowed is the
// erasure of the buyer's personal data (Buyer.Redact), which keeps the document itself.
//
// Amounts of a credit note are positive; its Kind says that they are taken back.
package invoice

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// Kind tells an invoice from a credit note.
type Kind string

// Kinds of document.
const (
	KindInvoice    Kind = "invoice"
	KindCreditNote Kind = "credit_note"
)

// Default series, used until the caller sets the configured ones (invoices.series,
// invoices.credit_note_series, shops[].invoice_series).
const (
	DefaultSeries           = "INV"
	DefaultCreditNoteSeries = "CN"
)

// Reasons carried by the *dropsync.Error values this package returns, so that callers can
// tell them apart without parsing messages.
const (
	ReasonTotalMismatch   = "total_mismatch"    // the computed total differs from the order's
	ReasonTaxMismatch     = "tax_mismatch"      // the computed tax differs from the order's
	ReasonPrecision       = "precision"         // an amount has more decimals than its currency
	ReasonOverCredit      = "over_credit"       // a refund credits more than remains
	ReasonNothingToCredit = "nothing_to_credit" // a refund names no line and no shipping
)

// Invoice is an invoice or a credit note. Its JSON shape is dropsync's external contract
// (DESIGN.md, "Precise points"); see MarshalJSON for the money format.
type Invoice struct {
	// Number is "<series>-<year>-<6-digit sequence>"; empty until a store issues it.
	Number   string
	Series   string
	Year     int
	Sequence int64
	IssuedAt time.Time

	Kind Kind
	// Refers is, for a credit note, the number of the invoice it corrects.
	Refers string
	// RefundID is, for a credit note, the storefront refund it documents (negative for a
	// cancellation, see CancellationRefund).
	RefundID int64

	Shop      string
	OrderID   int64
	OrderName string
	// Currency is the order's (the shop's) currency: every amount is in it.
	Currency string
	// PresentmentCurrency and PresentmentTotal are what the buyer saw and paid, set only when
	// the presentment currency differs from Currency.
	PresentmentCurrency string
	PresentmentTotal    *decimal.Decimal
	// TaxesIncluded says that prices, line totals and shipping include their taxes.
	TaxesIncluded bool

	Seller   Seller
	Buyer    Buyer
	Lines    []Line
	Shipping []Shipping

	// Subtotal is Σ unit_price×quantity, before discounts.
	Subtotal decimal.Decimal
	// DiscountTotal is every discount on lines and shipping.
	DiscountTotal decimal.Decimal
	// ShippingTotal is Σ shipping price, before shipping discounts.
	ShippingTotal decimal.Decimal
	TaxTotal      decimal.Decimal
	// Total = Subtotal − DiscountTotal + ShippingTotal (+ TaxTotal unless TaxesIncluded).
	Total decimal.Decimal

	// CreditNotes are the credit notes issued against an invoice, oldest first. A store
	// fills them in when it reads an invoice; the stored invoice itself never changes.
	CreditNotes []Invoice
}

// Seller is the merchant as printed on invoices.
type Seller struct {
	Name string `json:"name"`
	// Address may span several lines.
	Address string `json:"address"`
	VATID   string `json:"vat_id"`
	Email   string `json:"email"`
}

// Buyer is who the invoice is made out to: the billing address (else the shipping address)
// and the buyer's email. Customer data: never log it.
type Buyer struct {
	Name        string `json:"name"`
	Company     string `json:"company,omitempty"`
	Address1    string `json:"address1,omitempty"`
	Address2    string `json:"address2,omitempty"`
	City        string `json:"city,omitempty"`
	Province    string `json:"province,omitempty"`
	Zip         string `json:"zip,omitempty"`
	Country     string `json:"country,omitempty"`
	CountryCode string `json:"country_code,omitempty"`
	Email       string `json:"email,omitempty"`
}

// Redact returns the buyer as a customers/redact request leaves an issued document: the
// email, which an invoice does not need, is erased; the name and postal address stay,
// because tax law requires them on the invoice the merchant must keep (in the EU, the VAT
// Directive's article 226 lists the customer's full name and address), and erasure does not
// apply where the law requires keeping the data (GDPR article 17(3)(b)).
func (b Buyer) Redact() Buyer {
	b.Email = ""
	return b
}

// IsRedacted reports whether the buyer's contact data has been erased.
func (b Buyer) IsRedacted() bool { return b == b.Redact() }

// Line is one invoiced order line.
type Line struct {
	// LineID is the storefront line's id; credit notes name the lines they credit by it.
	LineID      int64
	SKU         string
	Description string
	Quantity    int
	UnitPrice   decimal.Decimal
	// Discount is the line's discount (dropsync.Line.Discount): the sum of its discount
	// allocations (codes, automatic and order discounts spread over lines), or its
	// total_discount on an order that has no allocations.
	Discount decimal.Decimal
	TaxLines []TaxLine
	// Total is UnitPrice×Quantity − Discount, in the invoice's tax basis (TaxesIncluded).
	Total decimal.Decimal
}

// TaxLine is one tax at one rate.
type TaxLine struct {
	Title  string
	Rate   decimal.Decimal
	Amount decimal.Decimal
}

// Shipping is one invoiced shipping charge.
type Shipping struct {
	// LineID is the storefront shipping line's id (or −position when it has none).
	LineID   int64
	Title    string
	Price    decimal.Decimal
	Discount decimal.Decimal
	// Tax is the sum of TaxLines.
	Tax      decimal.Decimal
	TaxLines []TaxLine
	// Total is Price − Discount, in the invoice's tax basis.
	Total decimal.Decimal
}

// TaxRate sums one tax at one rate over a document: the base it was charged on (net of
// tax) and the amount. Invoices in the EU must show both per rate.
type TaxRate struct {
	Title  string
	Rate   decimal.Decimal
	Base   decimal.Decimal
	Amount decimal.Decimal
}

// Taxes sums the document's taxes per title and rate, in the order they first appear.
// A line carrying several taxes (say a federal and a provincial one) counts its net amount
// as the base of each.
func (inv Invoice) Taxes() []TaxRate {
	var out []TaxRate
	add := func(total decimal.Decimal, taxes []TaxLine) {
		net := total
		if inv.TaxesIncluded {
			for _, t := range taxes {
				net = net.Sub(t.Amount)
			}
		}
		for _, t := range taxes {
			i := 0
			for ; i < len(out); i++ {
				if out[i].Title == t.Title && out[i].Rate.Equal(t.Rate) {
					break
				}
			}
			if i == len(out) {
				out = append(out, TaxRate{Title: t.Title, Rate: t.Rate})
			}
			out[i].Base = out[i].Base.Add(net)
			out[i].Amount = out[i].Amount.Add(t.Amount)
		}
	}
	for _, l := range inv.Lines {
		add(l.Total, l.TaxLines)
	}
	for _, s := range inv.Shipping {
		add(s.Total, s.TaxLines)
	}
	return out
}

// Number formats an invoice number: "<series>-<year>-<6-digit sequence>".
func Number(series string, year int, seq int64) string {
	return fmt.Sprintf("%s-%04d-%06d", series, year, seq)
}

// ValidSeries reports whether s can name a series: 1 to 10 upper-case letters or digits,
// as the config demands. The store relies on it: a series never needs escaping.
func ValidSeries(s string) bool {
	if len(s) < 1 || len(s) > 10 {
		return false
	}
	for _, c := range s {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// Validate checks what every document must have before it is issued.
func (inv Invoice) Validate() error {
	switch {
	case inv.Kind != KindInvoice && inv.Kind != KindCreditNote:
		return dropsync.Errorf(dropsync.EINVALID, "invoice kind %q is unknown", inv.Kind)
	case !ValidSeries(inv.Series):
		return dropsync.Errorf(dropsync.EINVALID, "invoice series %q must be 1 to 10 upper-case letters or digits", inv.Series)
	case inv.Shop == "":
		return dropsync.Errorf(dropsync.EINVALID, "invoice has no shop")
	case inv.OrderID <= 0:
		return dropsync.Errorf(dropsync.EINVALID, "invoice has no order id")
	case len(inv.Currency) != 3:
		return dropsync.Errorf(dropsync.EINVALID, "invoice currency %q is not an ISO 4217 code", inv.Currency)
	case inv.Kind == KindCreditNote && (inv.Refers == "" || inv.RefundID == 0):
		return dropsync.Errorf(dropsync.EINVALID, "credit note names no invoice or no refund")
	case inv.Total.IsNegative():
		return dropsync.Errorf(dropsync.EINVALID, "invoice total %s is negative", inv.Total)
	}
	exp := Exponent(inv.Currency)
	for _, a := range inv.amounts() {
		if !fits(a, exp) {
			return dropsync.Errorf(dropsync.EINVALID, "amount %s has more decimals than %s allows", a, inv.Currency)
		}
	}
	return nil
}

// MinorUnits returns an amount of the invoice's currency in its smallest unit (cents; yen).
// Stores compare credited totals in them, with integers.
func (inv Invoice) MinorUnits(d decimal.Decimal) (int64, error) {
	exp := Exponent(inv.Currency)
	if !fits(d, exp) {
		return 0, dropsync.Errorf(dropsync.EINVALID, "amount %s has more decimals than %s allows", d, inv.Currency)
	}
	return d.Shift(exp).IntPart(), nil
}

// amounts lists every amount of the document, for checks that apply to all.
func (inv Invoice) amounts() []decimal.Decimal {
	out := []decimal.Decimal{inv.Subtotal, inv.DiscountTotal, inv.ShippingTotal, inv.TaxTotal, inv.Total}
	for _, l := range inv.Lines {
		out = append(out, l.UnitPrice, l.Discount, l.Total)
		for _, t := range l.TaxLines {
			out = append(out, t.Amount)
		}
	}
	for _, s := range inv.Shipping {
		out = append(out, s.Price, s.Discount, s.Tax, s.Total)
		for _, t := range s.TaxLines {
			out = append(out, t.Amount)
		}
	}
	return out
}

// fits reports whether d has no more decimals than exp.
func fits(d decimal.Decimal, exp int32) bool { return d.Equal(d.Truncate(exp)) }

// Title is the document's name as printed: "Invoice" or "Credit note".
func (inv Invoice) Title() string {
	if inv.Kind == KindCreditNote {
		return "Credit note"
	}
	return "Invoice"
}

// sign is the factor that turns the document's amounts into revenue: −1 for a credit note.
func (inv Invoice) sign() decimal.Decimal {
	if inv.Kind == KindCreditNote {
		return decimal.NewFromInt(-1)
	}
	return decimal.NewFromInt(1)
}

// buyerOf takes the buyer from the billing address, falling back to the shipping address.
func buyerOf(sale dropsync.Sale) Buyer {
	a := sale.BillingAddress
	if a == nil || a.FullName() == "" && a.Address1 == "" {
		a = sale.ShippingAddress
	}
	b := Buyer{Email: strings.TrimSpace(sale.Email)}
	if a == nil {
		return b
	}
	b.Name = a.FullName()
	b.Company = a.Company
	b.Address1 = a.Address1
	b.Address2 = a.Address2
	b.City = a.City
	b.Province = a.Province
	b.Zip = a.Zip
	b.Country = a.Country
	b.CountryCode = strings.ToUpper(a.CountryCode)
	return b
}

// describe is the line's printed description: title and variant.
func describe(l dropsync.Line) string {
	d := strings.TrimSpace(l.Title)
	if v := strings.TrimSpace(l.VariantTitle); v != "" && v != "Default Title" {
		d += " – " + v
	}
	if d == "" {
		d = "Line " + strconv.FormatInt(l.ID, 10)
	}
	return d
}
