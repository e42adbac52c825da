package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// handleIngest stores a storefront order event. The newest updated_at wins: an event older
// than (or as old as) the stored order changes nothing, so duplicates and out-of-order
// deliveries are harmless. Whatever it stored, it then enqueues what the order needs next.
func (p *Pipeline) handleIngest(ctx context.Context, t *asynq.Task) error {
	var pl IngestPayload
	if err := json.Unmarshal(t.Payload(), &pl); err != nil {
		return fmt.Errorf("decode ingest payload: %v: %w", err, asynq.SkipRetry)
	}
	ev := pl.Event
	switch {
	case ev.Sale != nil:
		return p.ingestSale(ctx, ev)
	case ev.Refund != nil:
		return p.ingestRefund(ctx, ev)
	case ev.OrderID != 0:
		// orders/edited carries only the edit: read the order as it is now.
		if gone, err := p.shopGone(ctx, ev.Shop); err != nil || gone {
			return err
		}
		sale, err := p.storefront.Order(ctx, ev.Shop, ev.OrderID)
		if err != nil {
			return fmt.Errorf("read edited order %s: %w", dropsync.OrderKey(ev.Shop, ev.OrderID), err)
		}
		ev.Sale = &sale
		return p.ingestSale(ctx, ev)
	}
	return fmt.Errorf("ingest event %s of %s carries no order: %w", ev.Topic, ev.Shop, asynq.SkipRetry)
}

func (p *Pipeline) ingestSale(ctx context.Context, ev dropsync.StorefrontEvent) error {
	sale := *ev.Sale
	if err := sale.Validate(); err != nil {
		return fmt.Errorf("ingest %s: %v: %w", ev.Topic, err, asynq.SkipRetry)
	}
	if _, ok := p.shop(sale.Shop); !ok {
		p.logger(ctx).Warn().Msg("order event for a shop that is not configured; dropped")
		return nil
	}
	if gone, err := p.shopGone(ctx, sale.Shop); err != nil || gone {
		return err
	}
	now := p.now()
	tooOld := false
	o, wrote, err := p.store.Upsert(ctx, sale.Shop, sale.ID, func(o *dropsync.Order, exists bool) error {
		tooOld = false
		if !exists && p.pastRetention(sale, now) {
			// Retention deleted it long ago (or it predates dropsync): an update of so old an
			// order must not bring it back and forward it again.
			tooOld = true
			return dropsync.ErrNoChange
		}
		if !exists {
			*o = dropsync.Order{Sale: sale, State: dropsync.StateReceived, ReceivedAt: now}
			o.Record(now, "received", ev.Topic+" via "+ev.Source)
			return nil
		}
		if !sale.UpdatedAt.After(o.UpdatedAt) {
			return dropsync.ErrNoChange
		}
		prev := o.Sale
		o.Sale = sale
		// Refunds announced by refunds/create that this version does not list yet stay.
		for _, r := range prev.Refunds {
			if !slices.ContainsFunc(o.Refunds, func(n dropsync.Refund) bool { return n.ID == r.ID }) {
				o.Refunds = append(o.Refunds, r)
			}
		}
		if o.RedactedAt != nil {
			// The customer's data was erased on request: a later version does not bring it back.
			o.Sale.Redact()
		}
		// A newer version of the order may add up where the last did not: try its invoice again.
		o.InvoiceError = ""
		o.Record(now, "updated", ev.Topic+" via "+ev.Source)
		addressChanged := !sameAddress(prev.ShippingAddress, sale.ShippingAddress)
		linesChanged := linesKey(prev) != linesKey(sale)
		switch {
		case o.State == dropsync.StateForwarding && !o.Placed() && linesChanged:
			// Lines edited before any supplier may have the order: plan again. (An address
			// edit needs nothing: the purchase orders are sent with the latest address.)
			o.PurchaseOrders = nil
			o.State = dropsync.StateReceived
			o.Round++
			o.Record(now, "reverify", "the order was edited before forwarding")
		case o.Placed() && o.CancelledAt == nil && addressChanged:
			o.Notice(now, "address_changed_after_forwarding",
				"the shipping address changed after suppliers had the order; they ship to the address they were given")
		case o.Placed() && o.CancelledAt == nil && linesChanged:
			o.Notice(now, "lines_changed_after_forwarding",
				"the order's lines changed after suppliers had it; their purchase orders are unchanged")
		}
		if o.State == dropsync.StateHeld {
			// The order changed (paid, address fixed, …): verify it again.
			o.State, o.HoldReason, o.Holds = dropsync.StateReceived, "", nil
			o.Round++
			o.Record(now, "reverify", "the order changed while held")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store order %s: %w", dropsync.OrderKey(sale.Shop, sale.ID), err)
	}
	if tooOld {
		p.logger(ctx).Info().Str("topic", ev.Topic).Msg("order older than retention.orders_days and unknown here; ignored")
		return nil
	}
	if wrote {
		p.logger(ctx).Debug().Str("topic", ev.Topic).
			Str("state", string(o.State)).Msg("order stored")
	}
	if o.RedactedAt != nil {
		// This task carried the customer's data again: erase it once it has finished.
		t, err := NewPurgeTask(o.Shop, o.ID, sale.UpdatedAt.UnixMilli())
		if err := p.enqueue(ctx, t, err); err != nil {
			return err
		}
	}
	return p.reconcile(ctx, o)
}

// ingestRefund records a refund on the stored order (refunds do not always move the order's
// updated_at in the event that announces them) and queues its credit note when the order is
// invoiced.
func (p *Pipeline) ingestRefund(ctx context.Context, ev dropsync.StorefrontEvent) error {
	refund := *ev.Refund
	now := p.now()
	o, _, err := p.store.UpdateOrder(ctx, ev.Shop, ev.OrderID, func(o *dropsync.Order) error {
		for _, r := range o.Refunds {
			if r.ID == refund.ID {
				return dropsync.ErrNoChange
			}
		}
		if o.RedactedAt != nil {
			refund.Note = "" // the customer's data was erased on request
		}
		o.Refunds = append(o.Refunds, refund)
		o.Record(now, "refund", fmt.Sprintf("refund %d of %s %s", refund.ID, refund.Amount.StringFixed(2), o.Currency))
		return nil
	})
	if dropsync.ErrorCode(err) == dropsync.ENOTFOUND {
		p.logger(ctx).Info().
			Msg("refund for an order dropsync does not hold; ignored")
		return nil
	}
	if err != nil {
		return err
	}
	if o.InvoiceNumber != "" {
		t, err := NewInvoiceTask(InvoicePayload{Shop: o.Shop, OrderID: o.ID, RefundID: refund.ID, Round: o.Round})
		if err := p.enqueue(ctx, t, err); err != nil {
			return err
		}
	}
	return p.reconcile(ctx, o)
}

func sameAddress(a, b *dropsync.Address) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// linesKey identifies what the order asks to ship: each line and its current quantity.
func linesKey(s dropsync.Sale) string {
	var b strings.Builder
	for _, l := range s.Lines {
		fmt.Fprintf(&b, "%d:%s:%d:%d;", l.ID, l.MappingSKU(), l.Quantity, l.CurrentQuantity)
	}
	return b.String()
}

// pastRetention reports whether an order was created before the retention window: one
// dropsync does not hold is then one it deleted (or one from before it ran), not a new sale.
func (p *Pipeline) pastRetention(sale dropsync.Sale, now time.Time) bool {
	days := p.cfg.Retention.OrdersDays
	return days > 0 && sale.CreatedAt.Before(now.AddDate(0, 0, -days))
}
