package invoice_test

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/ledongthuc/pdf"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/invoice"
)

// pdfText extracts the text of a rendered PDF, the way a reader's copy and paste sees it.
func pdfText(t *testing.T, b []byte) string {
	t.Helper()
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("read PDF: %v", err)
	}
	var out strings.Builder
	for i := 1; i <= r.NumPage(); i++ {
		p := r.Page(i)
		if p.V.IsNull() {
			continue
		}
		rows, err := p.GetTextByRow()
		if err != nil {
			t.Fatalf("page %d: %v", i, err)
		}
		for _, row := range rows {
			for _, w := range row.Content {
				out.WriteString(w.S)
				out.WriteByte(' ')
			}
			out.WriteByte('\n')
		}
	}
	return out.String()
}

func render(t *testing.T, inv invoice.Invoice) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := invoice.RenderPDF(&b, inv); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("DROPSYNC_KEEP_PDF"); dir != "" {
		// Set DROPSYNC_KEEP_PDF=dir to look at what the tests render.
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("%s/%s.pdf", dir, strings.ReplaceAll(t.Name(), "/", "_"))
		if err := os.WriteFile(name, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

func TestRenderPDF(t *testing.T) {
	tests := []struct {
		name string
		file string
		want []string // text that must appear in the PDF
	}{
		{
			name: "euro, taxes included, buyer in Łódź", file: "sale-eu-taxes-included.json",
			want: []string{"Invoice", "INV-2026-000001", "2026-11-28", "#1042", "Zoë Müller", "Łódź",
				"ul. Piotrkowska 104", "Moss & Fern GmbH", "Torstraße 140", "DE123456789",
				"Organic T-Shirt – M / Black", "SKU TEE-ORG-M-BLK", "DHL Paket", "−8.38",
				"MwSt 19% on 49.35", "9.37", "MwSt 7% on 20.19", "1.41", "€80.32 EUR"},
		},
		{
			name: "dollars, taxes excluded, buyer in São Paulo", file: "sale-us-taxes-excluded.json",
			want: []string{"José da Silva", "São Paulo", "New York State Tax 4% on 97.45", "3.90",
				"New York City Tax 4.5% on 97.45", "4.38", "$105.73 USD"},
		},
		{
			name: "yen", file: "sale-jpy.json",
			want: []string{"Tarō Yamada", "Shibuya-ku, Tōkyō", "¥7400 JPY", "JCT 10% on 6727"},
		},
		{
			name: "zloty", file: "sale-pln-discount.json",
			want: []string{"Agnieszka Wójcik", "Pracownia Wójcik", "Książka kucharska", "Ściereczka lniana",
				"154.99 zł (PLN)"},
		},
		{
			name: "presentment currency shown", file: "sale-multi-currency.json",
			want: []string{"€119.00 EUR", "Charged in USD", "$130.05 USD"},
		},
		{
			name: "pound sterling", file: "sale-free-shipping.json",
			want: []string{"Siobhán O'Connor", "£22.00 GBP", "−3.99"},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := invoice.Build(loadSale(t, tt.file), seller)
			if err != nil {
				t.Fatal(err)
			}
			inv = issue(inv, int64(i+1))
			inv.Number = invoice.Number("INV", 2026, int64(i+1))
			b := render(t, inv)
			text := pdfText(t, b)
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("PDF text lacks %q; it reads:\n%s", w, text)
				}
			}
			if again := render(t, inv); !bytes.Equal(again, b) {
				t.Errorf("rendering twice gave different bytes (%d and %d bytes)", len(b), len(again))
			}
		})
	}
}

func TestRenderPDFCreditNote(t *testing.T) {
	sale := loadSale(t, "sale-eu-taxes-included.json")
	inv, err := invoice.Build(sale, seller)
	if err != nil {
		t.Fatal(err)
	}
	inv = issue(inv, 12)
	cn, err := invoice.BuildCreditNote(inv, sale, dropsync.Refund{ID: 9001,
		Lines: []dropsync.RefundLine{{LineID: 14523002, Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	cn = issue(cn, 3)
	text := pdfText(t, render(t, cn))
	for _, w := range []string{"Credit note", "CN-2026-000003", "Credits invoice", "INV-2026-000012",
		"Field Guide to Mushrooms", "Total credited", "€21.60 EUR", "Zoë Müller"} {
		if !strings.Contains(text, w) {
			t.Errorf("credit note PDF text lacks %q; it reads:\n%s", w, text)
		}
	}
}

func TestRenderPDFManyLinesPaginates(t *testing.T) {
	sale := loadSale(t, "sale-multi-currency.json")
	line := sale.Lines[0]
	sale.Lines = nil
	for i := range 60 {
		l := line
		l.ID = int64(1000 + i)
		l.Title = fmt.Sprintf("Wool Blanket no. %d with a description long enough to wrap onto a second line", i+1)
		sale.Lines = append(sale.Lines, l)
	}
	sale.TotalPrice = dec("6609.00")
	sale.SubtotalPrice = dec("6600.00")
	inv, err := invoice.Build(sale, seller)
	if err != nil {
		t.Fatal(err)
	}
	b := render(t, issue(inv, 1))
	r, err := pdf.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if got := r.NumPage(); got < 3 {
		t.Errorf("%d pages for 60 two-row lines, want at least 3", got)
	}
	text := pdfText(t, b)
	for _, w := range []string{"Wool Blanket no. 1 ", "Wool Blanket no. 60 ", "€6609.00 EUR", "page 3"} {
		if !strings.Contains(text, w) {
			t.Errorf("PDF text lacks %q", w)
		}
	}
}

func TestRenderPDFMissingGlyphs(t *testing.T) {
	sale := loadSale(t, "sale-jpy.json")
	sale.BillingAddress.FirstName, sale.BillingAddress.LastName = "太郎", "山田"
	inv, err := invoice.Build(sale, seller)
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, render(t, issue(inv, 1)))
	// The Go fonts have no CJK glyphs: the PDF shows "?" rather than dropping the name.
	if !strings.Contains(text, "?? ??") {
		t.Errorf("PDF text lacks the substituted name; it reads:\n%s", text)
	}
}
