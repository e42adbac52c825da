package jobs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// handleForward places one purchase order at its supplier, with the purchase order id as
// the idempotency key: a retry after a lost reply gets the first order back, never a second.
// A supplier's refusal (out of stock, unknown SKU, does not ship there) excludes it and
// sends the order back to verification, which falls back to the next priority or holds.
func (p *Pipeline) handleForward(ctx context.Context, t *asynq.Task) error {
	var pl POPayload
	if err := json.Unmarshal(t.Payload(), &pl); err != nil {
		return fmt.Errorf("decode forward payload: %v: %w", err, asynq.SkipRetry)
	}
	o, err := p.store.Order(ctx, pl.Shop, pl.OrderID)
	if err != nil {
		return err
	}
	po := o.PurchaseOrder(pl.POID)
	if po == nil || po.State != dropsync.POPending || o.State != dropsync.StateForwarding || o.Round != pl.Round ||
		o.CancelledAt != nil || po.CancelRequested {
		return nil
	}
	sup, ok := p.suppliers[po.Supplier]
	if !ok {
		return fmt.Errorf("purchase order %s: supplier %q is not configured: %w", po.ID, po.Supplier, asynq.SkipRetry)
	}
	// Note the attempt before calling: from now on the supplier may hold the order even if its
	// reply is lost, which a cancellation or a re-plan must know.
	if po.PlaceAttempts == 0 {
		if _, _, err := p.store.UpdateOrder(ctx, pl.Shop, pl.OrderID, func(o *dropsync.Order) error {
			cur := o.PurchaseOrder(pl.POID)
			if cur == nil || cur.State != dropsync.POPending || cur.PlaceAttempts > 0 {
				return dropsync.ErrNoChange
			}
			cur.PlaceAttempts++
			return nil
		}); err != nil {
			return err
		}
	}
	req := p.supplierRequest(o, *po)
	so, err := sup.PlaceOrder(ctx, req)
	if err != nil {
		p.obs.POForwarded(po.Supplier, outcome(err), 0)
		if dropsync.ErrorCode(err) == dropsync.EPERMANENT {
			return p.refused(ctx, o, *po, err)
		}
		return fmt.Errorf("forward %s to %s: %w", po.ID, po.Supplier, err)
	}
	if st := dropsync.POState(so.Status); st == dropsync.POCancelled || st == dropsync.POFailed {
		// The supplier already holds this purchase order id in an end state (cancelled or
		// failed before): it will not ship it, and a new order cannot reuse the id.
		return p.refused(ctx, o, *po, &dropsync.Error{Code: dropsync.EPERMANENT, Reason: "supplier_" + so.Status,
			Message: fmt.Sprintf("%s holds purchase order %s as %s", po.Supplier, po.ID, so.Status)})
	}
	now := p.now()
	var cancel bool
	o, _, err = p.store.UpdateOrder(ctx, pl.Shop, pl.OrderID, func(o *dropsync.Order) error {
		cancel = false
		po := o.PurchaseOrder(pl.POID)
		if po == nil {
			return dropsync.ErrNoChange
		}
		if po.State == dropsync.POCancelled && po.SupplierOrderID == "" {
			// Cancelled while the request was in flight: the supplier now holds an order that
			// must be cancelled there too.
			po.State = dropsync.POAccepted
			cancel = true
		} else if po.State != dropsync.POPending {
			return dropsync.ErrNoChange
		}
		if so.Status == "" {
			so.Status = string(dropsync.POAccepted)
		}
		po.State = dropsync.POAccepted
		po.Merge(so, now)
		po.PlacedAt = &now
		o.Record(now, "forwarded", fmt.Sprintf("%s accepted purchase order %s as %s", po.Supplier, po.ID, so.ID))
		o.Advance(now)
		return nil
	})
	if err != nil {
		return err
	}
	if cancel {
		return p.cancelPurchaseOrders(ctx, pl.Shop, pl.OrderID)
	}
	p.obs.POForwarded(po.Supplier, "accepted", now.Sub(o.CreatedAt))
	return p.reconcile(ctx, o)
}

// refused handles a supplier's permanent refusal of a purchase order.
func (p *Pipeline) refused(ctx context.Context, o dropsync.Order, po dropsync.PurchaseOrder, cause error) error {
	reason := dropsync.ErrorReason(cause)
	now := p.now()
	for _, it := range po.Items {
		p.stock.forget(po.Supplier, it.SupplierSKU)
	}
	o, _, err := p.store.UpdateOrder(ctx, o.Shop, o.ID, func(o *dropsync.Order) error {
		cur := o.PurchaseOrder(po.ID)
		if cur == nil || cur.State != dropsync.POPending {
			return dropsync.ErrNoChange
		}
		cur.State = dropsync.PORejected
		cur.Error = dropsync.ErrorMessage(cause)
		cur.UpdatedAt = now
		o.Record(now, "refused", fmt.Sprintf("%s refused purchase order %s: %s", po.Supplier, po.ID, cur.Error))
		switch reason {
		case dropsync.ReasonInvalidAddress:
			// No other supplier will take an address this one found invalid.
			o.Hold(now, dropsync.Hold{Rule: "address", Reason: fmt.Sprintf("supplier %s rejected the shipping address", po.Supplier)})
			return nil
		case dropsync.ReasonOutOfStock, dropsync.ReasonUnknownSKU:
			sku := dropsync.RefusedSKU(cause)
			added := 0
			for _, it := range po.Items {
				if sku == "" || it.SupplierSKU == sku {
					o.Exclusions = append(o.Exclusions, dropsync.Exclusion{Supplier: po.Supplier, SupplierSKU: it.SupplierSKU, Reason: reason})
					added++
				}
			}
			if added == 0 { // it named a SKU we did not send: do not offer it the same items again
				o.Exclusions = append(o.Exclusions, dropsync.Exclusion{Supplier: po.Supplier, Reason: reason})
			}
		default:
			if reason == "" {
				reason = "refused"
			}
			o.Exclusions = append(o.Exclusions, dropsync.Exclusion{Supplier: po.Supplier, Reason: reason})
		}
		// Plan the refused lines again: the next priority, or a hold naming every reason.
		o.State = dropsync.StateReceived
		o.Round++
		return nil
	})
	if err != nil {
		return err
	}
	return p.reconcile(ctx, o)
}

// supplierRequest builds what the supplier receives for one purchase order. The address and
// contact come from the latest stored sale, so an address edit before forwarding is used.
func (p *Pipeline) supplierRequest(o dropsync.Order, po dropsync.PurchaseOrder) dropsync.SupplierOrderRequest {
	req := dropsync.SupplierOrderRequest{
		ExternalID: po.ID,
		OrderName:  o.Name,
		Email:      o.Email,
		Note:       o.Note,
	}
	if o.ShippingAddress != nil {
		req.ShippingAddress = *o.ShippingAddress
		if req.ShippingAddress.Name == "" {
			req.ShippingAddress.Name = req.ShippingAddress.FullName()
		}
		if req.ShippingAddress.Phone == "" {
			req.ShippingAddress.Phone = o.Phone
		}
	}
	for _, it := range po.Items {
		if req.Currency == "" {
			req.Currency = it.UnitCost.Currency
		}
		title := ""
		if l, ok := o.Line(it.LineID); ok {
			title = l.Title
		}
		req.Items = append(req.Items, dropsync.SupplierItem{SKU: it.SupplierSKU, Quantity: it.Quantity,
			UnitCost: it.UnitCost.Amount, Properties: it.Properties, Title: title})
	}
	if req.Currency == "" {
		req.Currency = o.Currency
	}
	if shop, ok := p.shop(o.Shop); ok && (shop.StoreName != "" || shop.PackingSlipMessage != "") {
		req.PackingSlip = &dropsync.PackingSlip{StoreName: shop.StoreName, Message: shop.PackingSlipMessage}
	}
	return req
}
