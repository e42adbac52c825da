package invoice

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// WriteCSV writes the accountant's export: a header and one row per invoice or credit note,
// in the order given. Amounts have the currency's decimals and are signed as revenue: a
// credit note's are negative, so that a column sums to what was earned. Text that a
// spreadsheet would run as a formula is quoted with a leading apostrophe.
func WriteCSV(w io.Writer, invs []Invoice) error {
	cw := csv.NewWriter(w)
	header := []string{"number", "kind", "refers", "issued_at", "shop", "order_id", "order_name",
		"buyer_name", "currency", "subtotal", "discount", "shipping", "tax", "total"}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("write invoice export: %w", err)
	}
	for _, inv := range invs {
		exp := Exponent(inv.Currency)
		money := func(d decimal.Decimal) string { return d.Mul(inv.sign()).StringFixed(exp) }
		issued := ""
		if !inv.IssuedAt.IsZero() {
			issued = inv.IssuedAt.UTC().Format(time.RFC3339)
		}
		row := []string{inv.Number, string(inv.Kind), inv.Refers, issued, cell(inv.Shop),
			strconv.FormatInt(inv.OrderID, 10), cell(inv.OrderName), cell(inv.Buyer.Name), inv.Currency,
			money(inv.Subtotal), money(inv.DiscountTotal), money(inv.ShippingTotal), money(inv.TaxTotal),
			money(inv.Total)}
		if err := cw.Write(row); err != nil {
			return fmt.Errorf("write invoice export row %s: %w", inv.Number, err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write invoice export: %w", err)
	}
	return nil
}

// cell defuses free text that a spreadsheet would evaluate ("=HYPERLINK(…)" as a name).
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
