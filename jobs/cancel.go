package jobs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// handleCancel acts on a storefront cancellation. Purchase orders not yet placed are dropped;
// placed ones that have not shipped are cancelled at their suppliers. With nothing shipped the
// order becomes cancelled. When a parcel has already left, what has not shipped is cancelled,
// the order goes on for what did ship, and the cancellation is recorded and surfaced in
// cancel_notice, never hidden.
func (p *Pipeline) handleCancel(ctx context.Context, t *asynq.Task) error {
	var pl OrderPayload
	if err := json.Unmarshal(t.Payload(), &pl); err != nil {
		return fmt.Errorf("decode cancel payload: %v: %w", err, asynq.SkipRetry)
	}
	return p.cancelPurchaseOrders(ctx, pl.Shop, pl.OrderID)
}

func (p *Pipeline) cancelPurchaseOrders(ctx context.Context, shop string, id int64) error {
	now := p.now()
	o, _, err := p.store.UpdateOrder(ctx, shop, id, func(o *dropsync.Order) error {
		if o.CancelledAt == nil {
			return dropsync.ErrNoChange
		}
		changed := false
		for i := range o.PurchaseOrders {
			po := &o.PurchaseOrders[i]
			if !livePO(*po) || len(po.Shipments) > 0 || po.CancelRequested {
				continue
			}
			po.CancelRequested = true
			if po.State == dropsync.POPending && !po.MaybeAtSupplier() {
				// Never sent: nothing to cancel at the supplier.
				po.State = dropsync.POCancelled
				po.UpdatedAt = now
			}
			changed = true
		}
		if !changed {
			return dropsync.ErrNoChange
		}
		return nil
	})
	if err != nil {
		return err
	}
	var done []cancelOutcome
	for _, po := range o.PurchaseOrders {
		if !po.CancelRequested || po.State == dropsync.POCancelled || len(po.Shipments) > 0 {
			continue
		}
		sup, ok := p.suppliers[po.Supplier]
		if !ok {
			continue
		}
		ref := dropsync.SupplierOrderRef{ID: po.SupplierOrderID, ExternalID: po.ID}
		if ref.ID == "" {
			// A request to place it was sent but its reply never came: find out whether the
			// supplier holds it.
			so, found, err := p.findAtSupplier(ctx, sup, o, po)
			if err != nil {
				return fmt.Errorf("find %s at %s: %w", po.ID, po.Supplier, err)
			}
			if !found {
				done = append(done, cancelOutcome{poID: po.ID})
				continue
			}
			ref.ID = so.ID
		}
		_, err := sup.CancelOrder(ctx, ref)
		switch {
		case err == nil, dropsync.ErrorCode(err) == dropsync.ENOTFOUND:
			done = append(done, cancelOutcome{poID: po.ID})
		case dropsync.ErrorCode(err) == dropsync.ECONFLICT:
			done = append(done, cancelOutcome{poID: po.ID, conflict: true, reason: dropsync.ErrorReason(err)})
			// The supplier shipped (or started) before we heard: read its parcels now.
			t, err := NewTrackingTask(dropsync.SupplierEvent{Supplier: po.Supplier, Ref: ref})
			if err := p.enqueue(ctx, t, err); err != nil {
				return err
			}
		default:
			return fmt.Errorf("cancel %s at %s: %w", po.ID, po.Supplier, err)
		}
	}
	var credit bool
	o, _, err = p.store.UpdateOrder(ctx, shop, id, func(o *dropsync.Order) error {
		credit = false
		if o.CancelledAt == nil || o.CancelHandled() && len(done) == 0 {
			return dropsync.ErrNoChange
		}
		for _, d := range done {
			po := o.PurchaseOrder(d.poID)
			if po == nil {
				continue
			}
			if d.conflict {
				if d.reason == dropsync.ReasonAlreadyShipped {
					o.Record(now, "cancel_refused", fmt.Sprintf("%s had already shipped part of %s", po.Supplier, po.ID))
				} else {
					o.Notice(now, "cancel_not_possible", fmt.Sprintf(
						"%s can no longer cancel %s (%s) although nothing has shipped: settle it with the supplier",
						po.Supplier, po.ID, d.reason))
				}
				continue
			}
			if len(po.Shipments) == 0 {
				po.State = dropsync.POCancelled
				po.UpdatedAt = now
				o.Record(now, "purchase_order", fmt.Sprintf("%s cancelled at %s", po.ID, po.Supplier))
			}
		}
		waiting := 0
		for _, po := range o.PurchaseOrders {
			if po.CancelRequested && po.State != dropsync.POCancelled && len(po.Shipments) == 0 && !conflicted(done, po.ID) {
				waiting++
			}
		}
		if waiting > 0 {
			return nil // the forward step of a purchase order in flight finishes the cancellation
		}
		if !o.AnyShipped() && !anyConflict(done) {
			if o.State != dropsync.StateCancelled {
				o.State = dropsync.StateCancelled
				o.HoldReason, o.Holds = "", nil
				o.Record(now, "cancelled", "cancelled at the storefront: "+o.CancelReason)
				credit = o.InvoiceNumber != ""
			}
			return nil
		}
		if o.CancelNotice == "" {
			if o.AnyShipped() {
				o.CancelNotice = "cancelled at the storefront after a parcel had shipped: what had not shipped was cancelled, the shipped parcels go on"
				o.Notice(now, "cancelled_after_shipping", o.CancelNotice)
			} else {
				o.CancelNotice = "cancelled at the storefront, but a supplier could not cancel its purchase order: see the notices"
				o.Notice(now, "cancelled_partly", o.CancelNotice)
			}
			credit = o.InvoiceNumber != ""
		}
		o.Advance(now)
		return nil
	})
	if err != nil {
		return err
	}
	if credit {
		t, err := NewInvoiceTask(InvoicePayload{Shop: shop, OrderID: id, Cancel: true, Round: o.Round})
		if err := p.enqueue(ctx, t, err); err != nil {
			return err
		}
	}
	return p.reconcile(ctx, o)
}

// cancelOutcome is a supplier's answer to one cancellation.
type cancelOutcome struct {
	poID     string
	conflict bool   // the supplier refused: it had shipped part of it, or cannot cancel any more
	reason   string // the refusal's reason
}

func conflicted(done []cancelOutcome, poID string) bool {
	for _, d := range done {
		if d.poID == poID && d.conflict {
			return true
		}
	}
	return false
}

func anyConflict(done []cancelOutcome) bool {
	for _, d := range done {
		if d.conflict {
			return true
		}
	}
	return false
}

// findAtSupplier looks a purchase order up at its supplier by its id. A supplier whose protocol
// looks orders up only by its own id (supplier-http-v1) is asked to place it again instead:
// placing is idempotent on the purchase order id, so it answers with the order it holds (or
// takes it now, to be cancelled at once).
func (p *Pipeline) findAtSupplier(ctx context.Context, sup Supplier, o dropsync.Order, po dropsync.PurchaseOrder) (dropsync.SupplierOrder, bool, error) {
	so, err := sup.GetOrder(ctx, dropsync.SupplierOrderRef{ExternalID: po.ID})
	switch dropsync.ErrorCode(err) {
	case "":
		return so, true, nil
	case dropsync.ENOTFOUND:
		return dropsync.SupplierOrder{}, false, nil
	case dropsync.EINVALID:
		so, err = sup.PlaceOrder(ctx, p.supplierRequest(o, po))
		if err != nil {
			return dropsync.SupplierOrder{}, false, err
		}
		return so, true, nil
	}
	return dropsync.SupplierOrder{}, false, err
}
