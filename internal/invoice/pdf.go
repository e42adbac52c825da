package invoice

import (
	"fmt"
	"io"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/signintech/gopdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
)

// Page geometry in points (A4).
const (
	pageW, pageH = 595.28, 841.89
	margin       = 48.0
	bottom       = pageH - 64.0 // rows stop here; the footer sits below
	right        = pageW - margin
	partyWidth   = 215.0 // of the seller's and the buyer's address blocks
)

// column is one column of the lines table; numbers are right-aligned in theirs.
type column struct {
	title string
	x, w  float64
	right bool
}

func columns() []column {
	return []column{
		{"Description", margin, 199, false},
		{"Qty", margin + 199, 40, true},
		{"Unit price", margin + 239, 70, true},
		{"Discount", margin + 309, 65, true},
		{"Tax", margin + 374, 55, true},
		{"Total", margin + 429, 70, true},
	}
}

// RenderPDF writes the document as an A4 PDF: seller, buyer, number, date, order, lines,
// shipping, discounts, tax per rate and totals with the currency's symbol and code; for a
// credit note, the invoice it corrects. The Go fonts are embedded (subset), so Latin,
// Greek and Cyrillic names print as written; a character they lack prints as "?" (the JSON
// keeps it). The output depends on inv alone: the creation date is issued_at and the file
// carries no random id, so the same stored invoice always gives the same bytes.
func RenderPDF(w io.Writer, inv Invoice) error {
	r := &renderer{inv: inv, pdf: &gopdf.GoPdf{}, exp: Exponent(inv.Currency), cols: columns()}
	r.pdf.Start(gopdf.Config{PageSize: gopdf.Rect{W: pageW, H: pageH}, Unit: gopdf.UnitPT})
	info := gopdf.PdfInfo{Title: strings.TrimSpace(inv.Title() + " " + inv.Number),
		Author: inv.Seller.Name, Creator: "dropsync", Producer: "dropsync"}
	if !inv.IssuedAt.IsZero() {
		info.CreationDate = inv.IssuedAt.UTC()
	}
	r.pdf.SetInfo(info)
	opt := gopdf.TtfOption{OnGlyphNotFoundSubstitute: func(rune) rune { return '?' }}
	if err := r.pdf.AddTTFFontDataWithOption("regular", goregular.TTF, opt); err != nil {
		return fmt.Errorf("render invoice %s: font: %w", inv.Number, err)
	}
	if err := r.pdf.AddTTFFontDataWithOption("bold", gobold.TTF, opt); err != nil {
		return fmt.Errorf("render invoice %s: font: %w", inv.Number, err)
	}
	r.render()
	if r.err != nil {
		return fmt.Errorf("render invoice %s: %w", inv.Number, r.err)
	}
	if _, err := r.pdf.WriteTo(w); err != nil {
		return fmt.Errorf("write invoice %s: %w", inv.Number, err)
	}
	return nil
}

type renderer struct {
	inv  Invoice
	pdf  *gopdf.GoPdf
	exp  int32
	cols []column
	y    float64
	page int
	err  error // the first drawing error; later calls do nothing
}

func (r *renderer) font(bold bool, size float64) {
	family := "regular"
	if bold {
		family = "bold"
	}
	if err := r.pdf.SetFont(family, "", size); err != nil && r.err == nil {
		r.err = err
	}
}

func (r *renderer) grey(on bool) {
	if on {
		r.pdf.SetTextColor(105, 105, 105)
	} else {
		r.pdf.SetTextColor(0, 0, 0)
	}
}

// text draws s in a box at (x, y) of width w, right-aligned if asked.
func (r *renderer) text(x, y, w float64, s string, alignRight bool) {
	if r.err != nil || s == "" {
		return
	}
	r.pdf.SetXY(x, y)
	align := gopdf.Left | gopdf.Top
	if alignRight {
		align = gopdf.Right | gopdf.Top
	}
	if err := r.pdf.CellWithOption(&gopdf.Rect{W: w, H: 12}, s, gopdf.CellOption{Align: align}); err != nil {
		r.err = err
	}
}

// wrap splits s into lines no wider than w in the current font.
func (r *renderer) wrap(s string, w float64) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		lines, err := r.pdf.SplitTextWithWordWrap(para, w)
		if err != nil {
			out = append(out, para)
			continue
		}
		out = append(out, lines...)
	}
	return out
}

func (r *renderer) money(d decimal.Decimal) string { return d.StringFixed(r.exp) }

// withSymbol prints an amount with the currency's symbol, and its code where the symbol
// alone could be read as another currency's.
func withSymbol(d decimal.Decimal, currency string) string {
	amt := d.StringFixed(Exponent(currency))
	sym, after := symbol(currency)
	switch {
	case sym == currency:
		return amt + " " + currency
	case after:
		return amt + " " + sym + " (" + currency + ")"
	}
	return sym + amt + " " + currency
}

func percent(rate decimal.Decimal) string {
	return rate.Mul(decimal.NewFromInt(100)).String() + "%"
}

func (r *renderer) render() {
	inv := r.inv
	r.newPage()

	// Heading: what the document is, its number and dates.
	r.font(true, 20)
	r.text(margin, margin, 250, inv.Title(), false)
	number := inv.Number
	if number == "" {
		number = "(not issued)"
	}
	facts := [][2]string{{"Number", number}}
	if !inv.IssuedAt.IsZero() {
		facts = append(facts, [2]string{"Date", inv.IssuedAt.UTC().Format("2006-01-02")})
	}
	facts = append(facts, [2]string{"Order", inv.OrderName})
	if inv.Kind == KindCreditNote {
		facts = append(facts, [2]string{"Credits invoice", inv.Refers})
	}
	y := margin
	for _, f := range facts {
		r.font(false, 9)
		r.grey(true)
		r.text(330, y+2, 90, f[0], false)
		r.grey(false)
		r.font(true, 10)
		r.text(420, y+1, right-420, f[1], true)
		y += 15
	}

	// Parties: the seller on the left, the buyer on the right.
	top := max(y, margin+40) + 18
	seller := []string{}
	seller = append(seller, strings.Split(inv.Seller.Address, "\n")...)
	if inv.Seller.VATID != "" {
		seller = append(seller, "VAT ID: "+inv.Seller.VATID)
	}
	if inv.Seller.Email != "" {
		seller = append(seller, inv.Seller.Email)
	}
	b := inv.Buyer
	buyer := []string{}
	for _, s := range []string{b.Company, b.Address1, b.Address2,
		strings.TrimSpace(b.Zip + " " + b.City), b.Province, b.Country, b.Email} {
		if strings.TrimSpace(s) != "" {
			buyer = append(buyer, s)
		}
	}
	yl := r.party(margin, top, "From", inv.Seller.Name, seller)
	yr := r.party(330, top, "Bill to", b.Name, buyer)
	r.y = max(yl, yr) + 22

	// Lines and shipping.
	r.font(false, 9)
	r.grey(true)
	basis := "Amounts in " + inv.Currency + ", excluding tax."
	if inv.TaxesIncluded {
		basis = "Amounts in " + inv.Currency + ", including tax."
	}
	r.text(margin, r.y, right-margin, basis, false)
	r.grey(false)
	r.y += 16
	r.tableHeader()
	for _, l := range inv.Lines {
		desc := r.wrapWith(false, 9, l.Description, r.cols[0].w-4)
		note := ""
		if l.SKU != "" {
			note = "SKU " + l.SKU
		}
		r.row(desc, note, []string{fmt.Sprint(l.Quantity), r.money(l.UnitPrice), r.money(l.Discount),
			rates(l.TaxLines), r.money(l.Total)})
	}
	for _, s := range inv.Shipping {
		desc := r.wrapWith(false, 9, "Shipping: "+s.Title, r.cols[0].w-4)
		r.row(desc, "", []string{"", r.money(s.Price), r.money(s.Discount), rates(s.TaxLines), r.money(s.Total)})
	}

	// Totals, then tax per rate: EU invoices show the base and the tax of every rate.
	r.need(16 * float64(6+len(inv.Taxes())))
	r.pdf.SetStrokeColor(0, 0, 0)
	r.pdf.Line(290, r.y, right, r.y)
	r.y += 8
	r.total("Subtotal", r.money(inv.Subtotal), false)
	if !inv.DiscountTotal.IsZero() {
		r.total("Discounts", "−"+r.money(inv.DiscountTotal), false)
	}
	if len(inv.Shipping) > 0 {
		r.total("Shipping", r.money(inv.ShippingTotal), false)
	}
	taxLabel := func(t TaxRate) string {
		title := t.Title
		if title == "" {
			title = "Tax"
		}
		return fmt.Sprintf("%s %s on %s", title, percent(t.Rate), r.money(t.Base))
	}
	if !inv.TaxesIncluded {
		for _, t := range inv.Taxes() {
			r.total(taxLabel(t), r.money(t.Amount), false)
		}
	}
	label := "Total"
	if inv.Kind == KindCreditNote {
		label = "Total credited"
	}
	r.total(label, withSymbol(inv.Total, inv.Currency), true)
	if inv.TaxesIncluded {
		for _, t := range inv.Taxes() {
			r.total("incl. "+taxLabel(t), r.money(t.Amount), false)
		}
	}
	if inv.TaxTotal.IsZero() {
		r.total("Tax", r.money(inv.TaxTotal), false)
	}
	if inv.PresentmentCurrency != "" && inv.PresentmentTotal != nil {
		r.total("Charged in "+inv.PresentmentCurrency, withSymbol(*inv.PresentmentTotal, inv.PresentmentCurrency), false)
	}
	if inv.Kind == KindCreditNote {
		r.y += 10
		r.font(false, 9)
		r.text(margin, r.y, right-margin,
			"This credit note takes back the amounts above from invoice "+inv.Refers+".", false)
		r.y += 14
	}
}

// wrapWith wraps s in the given font.
func (r *renderer) wrapWith(bold bool, size float64, s string, w float64) []string {
	r.font(bold, size)
	return r.wrap(s, w)
}

// party draws a labelled address block and returns where it ends.
func (r *renderer) party(x, y float64, label, name string, lines []string) float64 {
	r.font(false, 8)
	r.grey(true)
	r.text(x, y, 200, strings.ToUpper(label), false)
	r.grey(false)
	y += 13
	for _, l := range r.wrapWith(true, 11, name, partyWidth) {
		r.text(x, y, partyWidth, l, false)
		y += 14
	}
	y++
	r.font(false, 10)
	for _, l := range lines {
		for _, w := range r.wrapWith(false, 10, l, partyWidth) {
			r.text(x, y, partyWidth, w, false)
			y += 13
		}
	}
	return y
}

func (r *renderer) newPage() {
	r.pdf.AddPage()
	r.page++
	r.y = margin
	r.font(false, 8)
	r.grey(true)
	foot := r.inv.Title()
	if r.inv.Number != "" {
		foot += " " + r.inv.Number
	}
	r.text(margin, pageH-40, right-margin, fmt.Sprintf("%s · page %d", foot, r.page), false)
	r.grey(false)
}

// need starts a new page when h points do not fit on this one.
func (r *renderer) need(h float64) {
	if r.y+h > bottom {
		r.newPage()
		r.tableHeader()
	}
}

func (r *renderer) tableHeader() {
	r.font(true, 9)
	for _, c := range r.cols {
		r.text(c.x, r.y, c.w, c.title, c.right)
	}
	r.y += 14
	r.pdf.SetStrokeColor(0, 0, 0)
	r.pdf.Line(margin, r.y, right, r.y)
	r.y += 6
}

// row draws one table row: the description lines, a small grey note below them (the SKU)
// and the numbers.
func (r *renderer) row(desc []string, note string, cells []string) {
	h := float64(max(1, len(desc)))*12 + 4
	if note != "" {
		h += 11
	}
	r.need(h)
	r.font(false, 9)
	for i, d := range desc {
		r.text(r.cols[0].x, r.y+float64(i)*12, r.cols[0].w, d, false)
	}
	if note != "" {
		r.font(false, 8)
		r.grey(true)
		r.text(r.cols[0].x, r.y+float64(len(desc))*12, r.cols[0].w, note, false)
		r.grey(false)
		r.font(false, 9)
	}
	for i, c := range cells {
		col := r.cols[i+1]
		r.text(col.x, r.y, col.w, c, col.right)
	}
	r.y += h
	r.pdf.SetStrokeColor(215, 215, 215)
	r.pdf.Line(margin, r.y-2, right, r.y-2)
	r.y += 4
}

// total draws one line of the totals block.
func (r *renderer) total(label, value string, bold bool) {
	r.need(16)
	size := 9.5
	if bold {
		size = 11
	}
	r.font(bold, size)
	r.text(290, r.y, 160, label, false)
	r.text(450, r.y, right-450, value, true)
	r.y += 16
}

// rates lists the tax rates of a line: "19%", "5% + 7%".
func rates(ts []TaxLine) string {
	var ps []string
	for _, t := range ts {
		ps = append(ps, percent(t.Rate))
	}
	return strings.Join(ps, " + ")
}
