package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/hibiken/asynq"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// handleTracking merges what a supplier says about one of its purchase orders. Supplier
// events are hints: they may repeat or arrive out of order, and state only moves forward.
// An event without the order's state is completed by reading the order from the supplier.
func (p *Pipeline) handleTracking(ctx context.Context, t *asynq.Task) error {
	var pl TrackingPayload
	if err := json.Unmarshal(t.Payload(), &pl); err != nil {
		return fmt.Errorf("decode tracking payload: %v: %w", err, asynq.SkipRetry)
	}
	ev := pl.Event
	sup, ok := p.suppliers[ev.Supplier]
	if !ok {
		return fmt.Errorf("tracking event for unknown supplier %q: %w", ev.Supplier, asynq.SkipRetry)
	}
	so := ev.Order
	if so == nil {
		got, err := sup.GetOrder(ctx, ev.Ref)
		if err != nil {
			return fmt.Errorf("read order %s at %s: %w", ev.Ref.ID, ev.Supplier, err)
		}
		so = &got
	}
	return p.applySupplierOrder(ctx, ev.Supplier, *so, dropsync.SourceSupplier)
}

// applySupplierOrder merges a supplier's view of an order into its purchase order and
// enqueues the pushes of new or corrected parcels.
func (p *Pipeline) applySupplierOrder(ctx context.Context, supplier string, so dropsync.SupplierOrder, source string) error {
	shop, id, err := dropsync.ParsePOID(so.ExternalID, supplier)
	if err != nil {
		p.logger(ctx).Warn().Str("supplier", supplier).Str("supplier_order_id", so.ID).
			Msg("supplier order is not a dropsync purchase order; ignored")
		return nil
	}
	now := p.now()
	o, wrote, err := p.store.UpdateOrder(ctx, shop, id, func(o *dropsync.Order) error {
		po := o.PurchaseOrder(so.ExternalID)
		if po == nil || po.State == dropsync.POPending || po.State == dropsync.PORejected {
			// Not placed as far as dropsync knows: the forward step records the supplier's
			// reply itself, so nothing here races it.
			return dropsync.ErrNoChange
		}
		before := po.State
		touched, changed := po.Merge(so, now)
		if !changed {
			return dropsync.ErrNoChange
		}
		for _, shID := range touched {
			sh := po.Shipment(shID)
			o.Record(now, "parcel", fmt.Sprintf("%s parcel %s: %s %s (%s)", po.Supplier, sh.ID, sh.Carrier, sh.TrackingNumber, source))
		}
		if po.State != before {
			o.Record(now, "purchase_order", fmt.Sprintf("%s is %s at %s", po.ID, po.State, po.Supplier))
			if (po.State == dropsync.POCancelled || po.State == dropsync.POFailed) &&
				o.CancelledAt == nil && o.Progressing() {
				o.Hold(now, dropsync.Hold{Rule: "supplier", Reason: fmt.Sprintf(
					"%s reports purchase order %s %s", po.Supplier, po.ID, po.State)})
				return nil
			}
		}
		o.Advance(now)
		return nil
	})
	if dropsync.ErrorCode(err) == dropsync.ENOTFOUND {
		p.logger(ctx).Warn().Str("supplier", supplier).
			Msg("supplier event for an order dropsync does not hold; ignored")
		return nil
	}
	if err != nil {
		return err
	}
	if wrote {
		p.logger(ctx).Info().Str("supplier", supplier).
			Str("state", string(o.State)).Msg("supplier update merged")
	}
	return p.reconcile(ctx, o)
}

// handleSupplierPoll reads every open purchase order of a supplier and merges what it says:
// the fallback that finds parcels whose webhook never arrived.
func (p *Pipeline) handleSupplierPoll(ctx context.Context, t *asynq.Task) error {
	var pl SupplierPollPayload
	if err := json.Unmarshal(t.Payload(), &pl); err != nil {
		return fmt.Errorf("decode poll payload: %v: %w", err, asynq.SkipRetry)
	}
	sup, ok := p.suppliers[pl.Supplier]
	if !ok {
		return nil
	}
	ids, err := p.store.OpenPurchaseOrders(ctx, pl.Supplier, 1000)
	if err != nil {
		return err
	}
	polled := 0
	for _, poID := range ids {
		if err := ctx.Err(); err != nil {
			return err
		}
		shop, id, err := dropsync.ParsePOID(poID, pl.Supplier)
		if err != nil {
			continue
		}
		o, err := p.store.Order(ctx, shop, id)
		if err != nil {
			continue
		}
		po := o.PurchaseOrder(poID)
		if po == nil || !po.Open() {
			continue
		}
		so, err := sup.GetOrder(ctx, dropsync.SupplierOrderRef{ID: po.SupplierOrderID, ExternalID: po.ID})
		if terr := p.store.TouchOpenPurchaseOrder(ctx, pl.Supplier, poID); terr != nil {
			return terr
		}
		if err != nil {
			if dropsync.ErrorCode(err) == dropsync.ERATELIMITED {
				break // the next period goes on
			}
			p.logger(ctx).Warn().Err(err).Str("supplier", pl.Supplier).Str("po_id", poID).Msg("poll purchase order")
			continue
		}
		if so.ExternalID == "" {
			so.ExternalID = po.ID
		}
		// Log lines about this order name it, as they do in an order's own tasks.
		octx := p.logger(ctx).With().Str(HeaderShop, shop).Str(HeaderOrderID, strconv.FormatInt(id, 10)).
			Logger().WithContext(ctx)
		if err := p.applySupplierOrder(octx, pl.Supplier, so, dropsync.SourceSupplierPoll); err != nil {
			return err
		}
		polled++
	}
	p.logger(ctx).Debug().Str("supplier", pl.Supplier).Int("open", len(ids)).Int("polled", polled).Msg("supplier poll done")
	return nil
}
