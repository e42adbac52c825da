package jobs

import (
	"context"
	"encoding/json"
	"fmt"

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
	}
	return fmt.Errorf("ingest event %s of %s carries no order: %w", ev.Topic, ev.Shop, asynq.SkipRetry)
}

func (p *Pipeline) ingestSale(ctx context.Context, ev dropsync.StorefrontEvent) error {
	sale := *ev.Sale
	if err := sale.Validate(); err != nil {
		return fmt.Errorf("ingest %s: %v: %w", ev.Topic, err, asynq.SkipRetry)
	}
	if _, ok := p.shop(sale.Shop); !ok {
		p.logger(ctx).Warn().Str("shop", sale.Shop).Int64("order_id", sale.ID).Msg("order event for a shop that is not configured; dropped")
		return nil
	}
	if gone, err := p.shopGone(ctx, sale.Shop); err != nil || gone {
		return err
	}
	now := p.now()
	o, wrote, err := p.store.Upsert(ctx, sale.Shop, sale.ID, func(o *dropsync.Order, exists bool) error {
		if !exists {
			*o = dropsync.Order{Sale: sale, State: dropsync.StateReceived, ReceivedAt: now}
			o.Record(now, "received", ev.Topic+" via "+ev.Source)
			return nil
		}
		if !sale.UpdatedAt.After(o.UpdatedAt) {
			return dropsync.ErrNoChange
		}
		o.Sale = sale
		o.Record(now, "updated", ev.Topic+" via "+ev.Source)
		if o.State == dropsync.StateHeld {
			// The order changed (paid, address fixed, …): verify it again.
			o.State, o.HoldReason, o.Holds = dropsync.StateReceived, "", nil
			o.Round++
			o.Record(now, "reverify", "the order changed while held")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store order %s: %w", orderRef(sale.Shop, sale.ID), err)
	}
	if wrote {
		p.logger(ctx).Debug().Str("shop", o.Shop).Int64("order_id", o.ID).Str("topic", ev.Topic).
			Str("state", string(o.State)).Msg("order stored")
	}
	return p.reconcile(ctx, o)
}
