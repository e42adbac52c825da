package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// A fulfilled order is invoiced; a refund afterwards issues a credit note against it, once.
func TestRefundIssuesCreditNote(t *testing.T) {
	w := newWorld(t, worldOpts{})
	const id = 9101
	o := simpleOrder(id)
	w.addOrder(o, "orders/create")
	w.waitState(id, "forwarded")
	must(t, w.acme.Ship(dropsync.POID(testShop, id, "acme")))
	w.waitState(id, "fulfilled")
	var number string
	w.eventually("invoice", func() bool {
		v := w.order(id)
		if v.InvoiceNumber != nil {
			number = *v.InvoiceNumber
		}
		return number != ""
	}, nil)
	// The money returned for one unit: its price, and its tax when prices exclude tax.
	line := o.LineItems[0]
	unitTax := decimal.Zero
	for _, tl := range line.TaxLines {
		unitTax = unitTax.Add(tl.Price.Decimal)
	}
	unitTax = unitTax.Div(decimal.NewFromInt(int64(line.Quantity))).Round(2)
	amount := line.Price.Decimal
	if !o.TaxesIncluded {
		amount = amount.Add(unitTax)
	}
	refund := fmt.Sprintf(`{"id":77001,"order_id":%d,"created_at":"2026-11-28T12:00:00Z","note":"damaged",
		"refund_line_items":[{"line_item_id":%d,"quantity":1,"subtotal":"%s","total_tax":"%s"}],
		"transactions":[{"kind":"refund","status":"success","amount":"%s"}]}`, id, line.ID,
		line.Price.StringFixed(2), unitTax.StringFixed(2), amount.StringFixed(2))
	for range 2 { // a redelivery of the refund changes nothing
		if st := w.deliver("refunds/create", []byte(refund), "refund-wh-1"); st != 200 {
			t.Fatalf("refund webhook: %d", st)
		}
	}
	w.deliver("refunds/create", []byte(refund), "") // and neither does a new delivery id
	var inv struct {
		Number      string `json:"number"`
		CreditNotes []struct {
			Number string `json:"number"`
			Refers string `json:"refers"`
			Total  string `json:"total"`
		} `json:"credit_notes"`
	}
	w.eventually("credit note", func() bool {
		w.api("GET", "/api/v1/invoices/"+number, nil, &inv)
		return len(inv.CreditNotes) > 0
	}, nil)
	cn := inv.CreditNotes[0]
	if !strings.HasPrefix(cn.Number, "CN-") || cn.Refers != number {
		t.Fatalf("credit note %+v, want CN-… referring to %s", cn, number)
	}
	var cnJSON struct {
		Kind string `json:"kind"`
	}
	if st := w.api("GET", "/api/v1/invoices/"+cn.Number, nil, &cnJSON); st != 200 || cnJSON.Kind != "credit_note" {
		t.Fatalf("GET credit note: %d %+v", st, cnJSON)
	}
	if len(inv.CreditNotes) != 1 {
		t.Fatalf("%d credit notes for one refund", len(inv.CreditNotes))
	}

	// The accountant's export lists the invoice and its credit note.
	var out, errb bytes.Buffer
	day := time.Now().UTC().Format(time.DateOnly)
	if err := runCommand(context.Background(), []string{"invoices", "export", "--config", w.configPath,
		"--from", day, "--to", day}, &out, &errb); err != nil {
		t.Fatalf("invoices export: %v %s", err, errb.String())
	}
	if !strings.Contains(out.String(), number) || !strings.Contains(out.String(), cn.Number) {
		t.Fatalf("export:\n%s\nwant %s and %s", out.String(), number, cn.Number)
	}
}

// A refund that returns less money than its lines are worth is not credited automatically:
// the credit note would reduce the sale by more than was given back. It is surfaced instead.
func TestPartialMoneyRefundIsSurfaced(t *testing.T) {
	w := newWorld(t, worldOpts{})
	const id = 9151
	o := simpleOrder(id)
	w.addOrder(o, "orders/create")
	w.waitState(id, "forwarded")
	must(t, w.acme.Ship(dropsync.POID(testShop, id, "acme")))
	w.waitState(id, "fulfilled")
	w.eventually("invoice", func() bool { return w.order(id).InvoiceNumber != nil }, nil)
	refund := fmt.Sprintf(`{"id":77101,"order_id":%d,"created_at":"2026-11-28T12:00:00Z",
		"refund_line_items":[{"line_item_id":%d,"quantity":1,"subtotal":"1.00","total_tax":"0.00"}],
		"transactions":[{"kind":"refund","status":"success","amount":"1.00"}]}`, id, o.LineItems[0].ID)
	w.deliver("refunds/create", []byte(refund), "")
	var v = w.order(id)
	w.eventually("credit note held", func() bool {
		v = w.order(id)
		for _, n := range v.Notices {
			if n.Event == "credit_note_held" && strings.Contains(n.Detail, "77101") {
				return true
			}
		}
		return false
	}, func() string { return fmt.Sprint(v.Notices) })
	var inv struct {
		CreditNotes []any `json:"credit_notes"`
	}
	w.api("GET", "/api/v1/invoices/"+*v.InvoiceNumber, nil, &inv)
	if len(inv.CreditNotes) != 0 {
		t.Fatalf("a credit note was issued for a refund worth less than its lines: %v", inv.CreditNotes)
	}
}
