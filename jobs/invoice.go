package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/invoice"
)

// Invoicer stores invoices and credit notes with their gapless numbers.
type Invoicer interface {
	// IssueInvoice numbers and stores an invoice; for an order already invoiced it returns
	// the first invoice (created false).
	IssueInvoice(ctx context.Context, inv invoice.Invoice) (invoice.Invoice, bool, error)
	// IssueCreditNote numbers and stores a credit note, once per refund; ECONFLICT when the
	// invoice changed since the note was built.
	IssueCreditNote(ctx context.Context, cn invoice.Invoice) (invoice.Invoice, bool, error)
	// InvoiceForOrder returns the order's invoice with its credit notes, or ENOTFOUND.
	InvoiceForOrder(ctx context.Context, shop string, orderID int64) (invoice.Invoice, error)
	// RedactInvoiceBuyer erases the buyer's contact data from the order's documents.
	RedactInvoiceBuyer(ctx context.Context, shop string, orderID int64) error
	// Invoice returns a document by number, or ENOTFOUND.
	Invoice(ctx context.Context, number string) (invoice.Invoice, error)
	// Invoices lists the documents issued in [from, to].
	Invoices(ctx context.Context, from, to time.Time) ([]invoice.Invoice, error)
}

// invoiceDue reports whether the order should get its invoice now: when it is fulfilled, or
// once paid and forwarded, as invoices.issue_on says; never for test orders or twice.
func (p *Pipeline) invoiceDue(o dropsync.Order) bool {
	if p.invoices == nil || o.InvoiceNumber != "" || o.InvoiceError != "" || o.Test || o.RedactedAt != nil {
		return false
	}
	if p.cfg.Invoices.IssueOn == "paid" {
		return o.Paid() && o.Progressing()
	}
	return o.State == dropsync.StateFulfilled
}

// handleInvoice issues an order's invoice (then the credit notes of refunds already made), a
// refund's credit note, or a cancellation's. Issuing is idempotent in the store: a retried
// task gets the same number back.
func (p *Pipeline) handleInvoice(ctx context.Context, t *asynq.Task) error {
	var pl InvoicePayload
	if err := json.Unmarshal(t.Payload(), &pl); err != nil {
		return fmt.Errorf("decode invoice payload: %v: %w", err, asynq.SkipRetry)
	}
	if p.invoices == nil {
		return nil
	}
	o, err := p.store.Order(ctx, pl.Shop, pl.OrderID)
	if err != nil {
		return err
	}
	if pl.RefundID != 0 || pl.Cancel {
		return p.issueCredit(ctx, o, pl)
	}
	if !p.invoiceDue(o) {
		return nil
	}
	inv, err := invoice.Build(o.Sale, p.seller())
	if err != nil {
		if dropsync.ErrorCode(err) == dropsync.EINVALID {
			return p.invoiceHeld(ctx, o, err)
		}
		return err
	}
	inv.Series = p.series(o.Shop)
	issued, created, err := p.invoices.IssueInvoice(ctx, inv)
	if err != nil {
		return fmt.Errorf("issue invoice for %s: %w", dropsync.OrderKey(o.Shop, o.ID), err)
	}
	if o.CustomerID != 0 && p.compliance != nil {
		if err := p.compliance.AddCustomerInvoice(ctx, o.Shop, o.CustomerID, issued.Number); err != nil {
			return err
		}
	}
	now := p.now()
	o, _, err = p.store.UpdateOrder(ctx, o.Shop, o.ID, func(o *dropsync.Order) error {
		if o.InvoiceNumber == issued.Number {
			return dropsync.ErrNoChange
		}
		o.InvoiceNumber = issued.Number
		detail := fmt.Sprintf("invoice %s for %s %s", issued.Number, issued.Total.StringFixed(invoice.Exponent(issued.Currency)), issued.Currency)
		if !created {
			detail += " (already issued)"
		}
		o.Record(now, "invoiced", detail)
		return nil
	})
	if err != nil {
		return err
	}
	// Refunds made before the invoice get their credit notes now; so does a cancellation.
	for _, r := range o.Refunds {
		t, err := NewInvoiceTask(InvoicePayload{Shop: o.Shop, OrderID: o.ID, RefundID: r.ID, Round: o.Round})
		if err := p.enqueue(ctx, t, err); err != nil {
			return err
		}
	}
	if o.CancelledAt != nil && o.CancelHandled() {
		t, err := NewInvoiceTask(InvoicePayload{Shop: o.Shop, OrderID: o.ID, Cancel: true, Round: o.Round})
		if err := p.enqueue(ctx, t, err); err != nil {
			return err
		}
	}
	return nil
}

// issueCredit issues the credit note of one refund, or of a cancellation (all that remains
// uncredited). A note built against an invoice that changed meanwhile is rebuilt.
func (p *Pipeline) issueCredit(ctx context.Context, o dropsync.Order, pl InvoicePayload) error {
	for attempt := 0; attempt < 5; attempt++ {
		inv, err := p.invoices.InvoiceForOrder(ctx, o.Shop, o.ID)
		if dropsync.ErrorCode(err) == dropsync.ENOTFOUND {
			return nil // the invoice, once issued, credits what was refunded before
		}
		if err != nil {
			return err
		}
		var refund dropsync.Refund
		if pl.Cancel {
			// A cancellation reverses the sale only when nothing remains to be paid for it; a
			// partial one (a fee kept, a shipped parcel paid for) is credited through its
			// refunds, which document the money actually returned.
			if !o.CurrentTotalPrice.IsZero() {
				return nil
			}
			refund = invoice.CancellationRefund(inv, o.Sale, p.now())
		} else {
			found := false
			for _, r := range o.Refunds {
				if r.ID == pl.RefundID {
					refund, found = r, true
				}
			}
			if !found {
				return nil
			}
		}
		cn, err := invoice.BuildCreditNote(inv, o.Sale, refund)
		if err != nil {
			switch dropsync.ErrorReason(err) {
			case invoice.ReasonNothingToCredit:
				if !pl.Cancel && refund.Amount.IsPositive() {
					// Money returned without lines or shipping (a goodwill refund): its credit
					// note needs a person to say what it reduces.
					return p.invoiceNotice(ctx, o, "credit_note_held", fmt.Sprintf(
						"refund %d returns %s %s without refunded lines or shipping: issue its credit note by hand",
						refund.ID, refund.Amount.StringFixed(invoice.Exponent(o.Currency)), o.Currency))
				}
				return nil
			}
			if dropsync.ErrorCode(err) == dropsync.EINVALID {
				return p.invoiceNotice(ctx, o, "credit_note_held", fmt.Sprintf("credit note for refund %d not issued: %s", refund.ID, dropsync.ErrorMessage(err)))
			}
			return err
		}
		if !pl.Cancel && refund.Amount.IsPositive() && cn.Total.GreaterThan(refund.Amount) {
			// The refunded lines are worth more than the money returned (a partial refund of
			// an item): crediting them would reduce the sale by more than was given back.
			return p.invoiceNotice(ctx, o, "credit_note_held", fmt.Sprintf(
				"refund %d returns %s %s but its lines are worth %s: issue its credit note by hand",
				refund.ID, refund.Amount.StringFixed(invoice.Exponent(o.Currency)), o.Currency,
				cn.Total.StringFixed(invoice.Exponent(o.Currency))))
		}
		cn.Series = p.cfg.Invoices.CreditNoteSeries
		issued, created, err := p.invoices.IssueCreditNote(ctx, cn)
		if dropsync.ErrorCode(err) == dropsync.ECONFLICT {
			continue // another credit note landed first: build against the invoice as it is now
		}
		if err != nil {
			return fmt.Errorf("issue credit note for %s: %w", dropsync.OrderKey(o.Shop, o.ID), err)
		}
		if created {
			now := p.now()
			_, _, err = p.store.UpdateOrder(ctx, o.Shop, o.ID, func(o *dropsync.Order) error {
				o.Record(now, "credit_note", fmt.Sprintf("credit note %s against %s for %s %s", issued.Number, issued.Refers,
					issued.Total.StringFixed(invoice.Exponent(issued.Currency)), issued.Currency))
				return nil
			})
			return err
		}
		return nil
	}
	return dropsync.Errorf(dropsync.EUNAVAILABLE, "credit note for %s: the invoice kept changing", dropsync.OrderKey(o.Shop, o.ID))
}

// invoiceHeld records why an invoice was not issued; a wrong number is never adjusted.
func (p *Pipeline) invoiceHeld(ctx context.Context, o dropsync.Order, cause error) error {
	now := p.now()
	_, _, err := p.store.UpdateOrder(ctx, o.Shop, o.ID, func(o *dropsync.Order) error {
		if o.InvoiceError != "" {
			return dropsync.ErrNoChange
		}
		o.InvoiceError = dropsync.ErrorMessage(cause)
		o.Notice(now, "invoice_held", "invoice not issued: "+o.InvoiceError)
		return nil
	})
	return err
}

func (p *Pipeline) invoiceNotice(ctx context.Context, o dropsync.Order, event, detail string) error {
	now := p.now()
	_, _, err := p.store.UpdateOrder(ctx, o.Shop, o.ID, func(o *dropsync.Order) error {
		o.Notice(now, event, detail)
		return nil
	})
	return err
}

func (p *Pipeline) seller() invoice.Seller {
	s := p.cfg.Invoices.Seller
	return invoice.Seller{Name: s.Name, Address: s.Address, VATID: s.VATID, Email: s.Email}
}

// series is the shop's own invoice series, else the configured one.
func (p *Pipeline) series(shop string) string {
	if sc, ok := p.shop(shop); ok && sc.InvoiceSeries != "" {
		return sc.InvoiceSeries
	}
	if p.cfg.Invoices.Series != "" {
		return p.cfg.Invoices.Series
	}
	return invoice.DefaultSeries
}
