package invoice_test

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/invoice"
)

func TestWriteCSV(t *testing.T) {
	eu, sale := issued(t, "sale-eu-taxes-included.json")
	cn := credit(t, &eu, sale, dropsync.Refund{ID: 4, Lines: []dropsync.RefundLine{{LineID: 14523002, Quantity: 1}}})
	jpy, _ := issued(t, "sale-jpy.json")
	jpy.Number = invoice.Number("INV", 2026, 2)
	hostile, _ := issued(t, "sale-multi-currency.json")
	hostile.Number = invoice.Number("INV", 2026, 3)
	hostile.Buyer.Name = "=HYPERLINK(\"http://example.com\")"

	var b bytes.Buffer
	if err := invoice.WriteCSV(&b, []invoice.Invoice{eu, cn, jpy, hostile}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"number", "kind", "refers", "issued_at", "shop", "order_id", "order_name", "buyer_name", "currency",
			"subtotal", "discount", "shipping", "tax", "total"},
		{"INV-2026-000001", "invoice", "", "2026-11-28T10:30:00Z", "moss-and-fern.myshopify.com", "5731245670001",
			"#1042", "Zoë Müller", "EUR", "83.80", "8.38", "4.90", "10.78", "80.32"},
		{"CN-2026-000001", "credit_note", "INV-2026-000001", "2026-11-28T10:30:00Z", "moss-and-fern.myshopify.com",
			"5731245670001", "#1042", "Zoë Müller", "EUR", "-24.00", "-2.40", "0.00", "-1.41", "-21.60"},
		{"INV-2026-000002", "invoice", "", "2026-11-28T10:30:00Z", "kyoto-chaya.myshopify.com", "5731245670004",
			"#3001", "Tarō Yamada", "JPY", "6600", "0", "800", "673", "7400"},
		{"INV-2026-000003", "invoice", "", "2026-11-28T10:30:00Z", "nordic-wool.myshopify.com", "5731245670005",
			"#5120", "'=HYPERLINK(\"http://example.com\")", "EUR", "110.00", "0.00", "9.00", "0.00", "119.00"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d:\n%v", len(rows), len(want), rows)
	}
	for i := range want {
		if !equal(rows[i], want[i]) {
			t.Errorf("row %d:\n got %q\nwant %q", i, rows[i], want[i])
		}
	}
}
