package invoice

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// The wire types fix the JSON contract: field names and order, and money as decimal strings
// with the currency's exponent ("12.50", "1500"), which decimal.Decimal alone would print as
// "12.5". The first fields are number, series, year and sequence in this order: the store
// relies on it to fill them in atomically (see redisstore).
type wireInvoice struct {
	Number        string         `json:"number"`
	Series        string         `json:"series"`
	Year          int            `json:"year"`
	Sequence      int64          `json:"sequence"`
	IssuedAt      *time.Time     `json:"issued_at"`
	Shop          string         `json:"shop"`
	OrderID       int64          `json:"order_id"`
	OrderName     string         `json:"order_name"`
	Currency      string         `json:"currency"`
	Seller        Seller         `json:"seller"`
	Buyer         Buyer          `json:"buyer"`
	Lines         []wireLine     `json:"lines"`
	Shipping      []wireShipping `json:"shipping"`
	Subtotal      string         `json:"subtotal"`
	DiscountTotal string         `json:"discount_total"`
	ShippingTotal string         `json:"shipping_total"`
	TaxTotal      string         `json:"tax_total"`
	Total         string         `json:"total"`
	CreditNotes   []Invoice      `json:"credit_notes"`

	Kind                Kind   `json:"kind"`
	Refers              string `json:"refers,omitempty"`
	RefundID            int64  `json:"refund_id,omitempty"`
	TaxesIncluded       bool   `json:"taxes_included"`
	PresentmentCurrency string `json:"presentment_currency,omitempty"`
	PresentmentTotal    string `json:"presentment_total,omitempty"`
}

type wireLine struct {
	LineID      int64     `json:"line_id"`
	SKU         string    `json:"sku"`
	Description string    `json:"description"`
	Quantity    int       `json:"quantity"`
	UnitPrice   string    `json:"unit_price"`
	Discount    string    `json:"discount"`
	TaxLines    []wireTax `json:"tax_lines"`
	Total       string    `json:"total"`
}

type wireTax struct {
	Title  string `json:"title"`
	Rate   string `json:"rate"`
	Amount string `json:"amount"`
}

type wireShipping struct {
	LineID   int64     `json:"line_id"`
	Title    string    `json:"title"`
	Price    string    `json:"price"`
	Discount string    `json:"discount"`
	Tax      string    `json:"tax"`
	TaxLines []wireTax `json:"tax_lines"`
	Total    string    `json:"total"`
}

// MarshalJSON writes the contract's shape. Amounts carry exactly the currency's decimals;
// issued_at is RFC 3339 in UTC, or null while the document is unnumbered.
func (inv Invoice) MarshalJSON() ([]byte, error) {
	exp := Exponent(inv.Currency)
	money := func(d decimal.Decimal) string { return d.StringFixed(exp) }
	taxes := func(in []TaxLine) []wireTax {
		out := make([]wireTax, 0, len(in))
		for _, t := range in {
			out = append(out, wireTax{Title: t.Title, Rate: t.Rate.String(), Amount: money(t.Amount)})
		}
		return out
	}
	w := wireInvoice{
		Number: inv.Number, Series: inv.Series, Year: inv.Year, Sequence: inv.Sequence,
		Shop: inv.Shop, OrderID: inv.OrderID, OrderName: inv.OrderName, Currency: inv.Currency,
		Seller: inv.Seller, Buyer: inv.Buyer,
		Lines:         make([]wireLine, 0, len(inv.Lines)),
		Shipping:      make([]wireShipping, 0, len(inv.Shipping)),
		Subtotal:      money(inv.Subtotal),
		DiscountTotal: money(inv.DiscountTotal),
		ShippingTotal: money(inv.ShippingTotal),
		TaxTotal:      money(inv.TaxTotal),
		Total:         money(inv.Total),
		CreditNotes:   inv.CreditNotes,
		Kind:          inv.Kind, Refers: inv.Refers, RefundID: inv.RefundID,
		TaxesIncluded:       inv.TaxesIncluded,
		PresentmentCurrency: inv.PresentmentCurrency,
	}
	if w.CreditNotes == nil {
		w.CreditNotes = []Invoice{}
	}
	if !inv.IssuedAt.IsZero() {
		t := inv.IssuedAt.UTC()
		w.IssuedAt = &t
	}
	if inv.PresentmentTotal != nil {
		w.PresentmentTotal = inv.PresentmentTotal.StringFixed(Exponent(inv.PresentmentCurrency))
	}
	for _, l := range inv.Lines {
		w.Lines = append(w.Lines, wireLine{LineID: l.LineID, SKU: l.SKU, Description: l.Description,
			Quantity: l.Quantity, UnitPrice: money(l.UnitPrice), Discount: money(l.Discount),
			TaxLines: taxes(l.TaxLines), Total: money(l.Total)})
	}
	for _, s := range inv.Shipping {
		w.Shipping = append(w.Shipping, wireShipping{LineID: s.LineID, Title: s.Title,
			Price: money(s.Price), Discount: money(s.Discount), Tax: money(s.Tax),
			TaxLines: taxes(s.TaxLines), Total: money(s.Total)})
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (inv *Invoice) UnmarshalJSON(b []byte) error {
	var w wireInvoice
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	var errs []error
	dec := func(field, s string) decimal.Decimal {
		d, err := decimal.NewFromString(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", field, s, err))
		}
		return d
	}
	taxes := func(in []wireTax) []TaxLine {
		var out []TaxLine
		for _, t := range in {
			out = append(out, TaxLine{Title: t.Title, Rate: dec("tax rate", t.Rate), Amount: dec("tax amount", t.Amount)})
		}
		return out
	}
	out := Invoice{
		Number: w.Number, Series: w.Series, Year: w.Year, Sequence: w.Sequence,
		Kind: w.Kind, Refers: w.Refers, RefundID: w.RefundID,
		Shop: w.Shop, OrderID: w.OrderID, OrderName: w.OrderName, Currency: w.Currency,
		PresentmentCurrency: w.PresentmentCurrency, TaxesIncluded: w.TaxesIncluded,
		Seller: w.Seller, Buyer: w.Buyer,
		Subtotal:      dec("subtotal", w.Subtotal),
		DiscountTotal: dec("discount_total", w.DiscountTotal),
		ShippingTotal: dec("shipping_total", w.ShippingTotal),
		TaxTotal:      dec("tax_total", w.TaxTotal),
		Total:         dec("total", w.Total),
	}
	if len(w.CreditNotes) > 0 {
		out.CreditNotes = w.CreditNotes
	}
	if w.IssuedAt != nil {
		out.IssuedAt = w.IssuedAt.UTC()
	}
	if w.PresentmentTotal != "" {
		d := dec("presentment_total", w.PresentmentTotal)
		out.PresentmentTotal = &d
	}
	for _, l := range w.Lines {
		out.Lines = append(out.Lines, Line{LineID: l.LineID, SKU: l.SKU, Description: l.Description,
			Quantity: l.Quantity, UnitPrice: dec("unit_price", l.UnitPrice), Discount: dec("discount", l.Discount),
			TaxLines: taxes(l.TaxLines), Total: dec("line total", l.Total)})
	}
	for _, s := range w.Shipping {
		out.Shipping = append(out.Shipping, Shipping{LineID: s.LineID, Title: s.Title,
			Price: dec("shipping price", s.Price), Discount: dec("shipping discount", s.Discount),
			Tax: dec("shipping tax", s.Tax), TaxLines: taxes(s.TaxLines), Total: dec("shipping total", s.Total)})
	}
	if len(errs) > 0 {
		return fmt.Errorf("decode invoice %s: %w", w.Number, errs[0])
	}
	*inv = out
	return nil
}

// JSON is the document as the admin API serves it and the store keeps it: compact, and
// byte-identical for the same document.
func (inv Invoice) JSON() ([]byte, error) {
	b, err := json.Marshal(inv)
	if err != nil {
		return nil, fmt.Errorf("encode invoice %s: %w", inv.Number, err)
	}
	return b, nil
}
