package jobs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// handlePush records one parcel as a storefront fulfillment with its tracking, exactly once:
// before its first call it notes the attempt in the order, and any later attempt asks the
// storefront for a fulfillment with that tracking number before creating one, so a crash
// between the storefront's reply and dropsync's record never makes a second fulfillment.
func (p *Pipeline) handlePush(ctx context.Context, t *asynq.Task) error {
	var pl ShipmentPayload
	if err := json.Unmarshal(t.Payload(), &pl); err != nil {
		return fmt.Errorf("decode push payload: %v: %w", err, asynq.SkipRetry)
	}
	if gone, err := p.shopGone(ctx, pl.Shop); err != nil || gone {
		return err
	}
	o, err := p.store.Order(ctx, pl.Shop, pl.OrderID)
	if err != nil {
		return err
	}
	po := o.PurchaseOrder(pl.POID)
	if po == nil {
		return nil
	}
	sh := po.Shipment(pl.ShipmentID)
	if sh == nil || sh.Pushed || o.State == dropsync.StateFailed || o.State == dropsync.StateHeld {
		return nil
	}
	units, err := po.ParcelUnits(sh.ID)
	if err != nil {
		return fmt.Errorf("%v: %w", err, asynq.SkipRetry)
	}
	shop, _ := p.shop(o.Shop)
	req := dropsync.FulfillmentRequest{Shop: o.Shop, OrderID: o.ID, Lines: units, Carrier: sh.Carrier,
		TrackingNumber: sh.TrackingNumber, TrackingURL: sh.TrackingURL, NotifyCustomer: shop.NotifyCustomer}
	now := p.now()

	var f dropsync.Fulfillment
	var event, detail, unfulfillable string
	switch {
	case sh.FulfillmentID != 0:
		ids := sh.FulfillmentIDs
		if len(ids) == 0 {
			ids = []int64{sh.FulfillmentID}
		}
		for _, id := range ids {
			if err := p.storefront.UpdateTracking(ctx, req, id); err != nil {
				return fmt.Errorf("update tracking of fulfillment %d: %w", id, err)
			}
		}
		f = dropsync.Fulfillment{ID: sh.FulfillmentID, IDs: ids, TrackingNumber: req.TrackingNumber}
		event, detail = "tracking_updated", fmt.Sprintf("fulfillment %d now tracks %s %s", f.ID, req.Carrier, req.TrackingNumber)
	case len(units) == 0:
		event, detail = "parcel_recorded", fmt.Sprintf(
			"parcel %s completes no storefront unit on its own (part of a bundle); its tracking stays in dropsync", sh.ID)
	default:
		// Note the attempt before calling, so a retry knows the call may have happened.
		attempts := 0
		o, _, err = p.store.UpdateOrder(ctx, pl.Shop, pl.OrderID, func(o *dropsync.Order) error {
			attempts = 0 // this function may run again on a fresher order
			sh := parcel(o, pl)
			if sh == nil || sh.Pushed {
				return dropsync.ErrNoChange
			}
			sh.PushAttempts++
			attempts = sh.PushAttempts
			return nil
		})
		if err != nil {
			return err
		}
		if attempts == 0 {
			return nil // pushed meanwhile
		}
		f, err = p.storefront.Fulfill(ctx, req, attempts > 1)
		if dropsync.ErrorReason(err) == dropsync.ReasonNotSent {
			// Nothing reached the storefront: the next attempt need not check first.
			if _, _, uerr := p.store.UpdateOrder(ctx, pl.Shop, pl.OrderID, func(o *dropsync.Order) error {
				sh := parcel(o, pl)
				if sh == nil || sh.Pushed || sh.PushAttempts != attempts {
					return dropsync.ErrNoChange
				}
				sh.PushAttempts--
				return nil
			}); uerr != nil {
				return uerr
			}
			return fmt.Errorf("fulfill parcel %s of %s: %w", sh.ID, dropsync.OrderKey(o.Shop, o.ID), err)
		}
		switch {
		case dropsync.ErrorCode(err) == dropsync.ECONFLICT:
			// The storefront has nothing left to fulfil for these lines: the merchant
			// fulfilled them by hand, or the order was cancelled there. Nothing more can be
			// recorded; say so where an operator looks.
			unfulfillable = dropsync.ErrorMessage(err)
			event, detail = "parcel_not_recorded", fmt.Sprintf(
				"parcel %s (%s %s) could not become a storefront fulfillment: %s", sh.ID, req.Carrier, req.TrackingNumber, unfulfillable)
		case err != nil:
			return fmt.Errorf("fulfill parcel %s of %s: %w", sh.ID, dropsync.OrderKey(o.Shop, o.ID), err)
		default:
			event = "fulfilled_parcel"
			detail = fmt.Sprintf("storefront fulfillment %d for parcel %s (%s %s)", f.ID, sh.ID, req.Carrier, req.TrackingNumber)
			if f.Existing {
				detail += "; found already recorded"
			}
		}
	}
	fulfilled := false
	o, _, err = p.store.UpdateOrder(ctx, pl.Shop, pl.OrderID, func(o *dropsync.Order) error {
		fulfilled = false
		sh := parcel(o, pl)
		if sh == nil || sh.Pushed {
			return dropsync.ErrNoChange
		}
		if f.ID != 0 {
			sh.FulfillmentID, sh.FulfillmentIDs = f.ID, f.IDs
		}
		sh.PushedTracking = req.TrackingNumber
		// A correction that arrived meanwhile leaves the parcel unpushed for its own task.
		sh.Pushed = sh.TrackingNumber == req.TrackingNumber
		sh.PushedAt = &now
		switch {
		case len(units) == 0:
			sh.Note = "part of a bundle: completes no storefront unit on its own"
			o.Record(now, event, detail)
		case unfulfillable != "":
			sh.Note = "not recorded at the storefront: " + unfulfillable
			o.Notice(now, event, detail)
		default:
			o.Record(now, event, detail)
		}
		fulfilled = o.Advance(now) && o.State == dropsync.StateFulfilled
		return nil
	})
	if err != nil {
		return err
	}
	if fulfilled {
		p.obs.OrderFulfilled(o.Shop, now.Sub(o.CreatedAt))
	}
	return p.reconcile(ctx, o)
}

// parcel returns the payload's parcel in the order, or nil.
func parcel(o *dropsync.Order, pl ShipmentPayload) *dropsync.Shipment {
	po := o.PurchaseOrder(pl.POID)
	if po == nil {
		return nil
	}
	return po.Shipment(pl.ShipmentID)
}
