package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// SweepInterval is how often each shop's orders are swept.
const SweepInterval = 10 * time.Minute

// sweepStates are the states in which an order still waits on dropsync's pipeline.
var sweepStates = []dropsync.OrderState{dropsync.StateReceived, dropsync.StateForwarding,
	dropsync.StateForwarded, dropsync.StatePartiallyShipped, dropsync.StateShipped}

// expiringStates are the states of finished orders the retention deletes.
var expiringStates = []dropsync.OrderState{dropsync.StateFulfilled, dropsync.StateCancelled, dropsync.StateIgnored}

// sweepBatch bounds the orders one sweep drives or deletes per state; the next one goes on.
const sweepBatch = 5000

// handleShopSweep makes every unfinished order's next step queued again (a task deleted from
// the dashboard, or skipped while the app was uninstalled, would otherwise strand it; task
// ids make this a no-op for orders whose steps are queued) and deletes finished orders older
// than retention.orders_days.
func (p *Pipeline) handleShopSweep(ctx context.Context, t *asynq.Task) error {
	var pl ShopPollPayload
	if err := json.Unmarshal(t.Payload(), &pl); err != nil {
		return fmt.Errorf("decode sweep payload: %v: %w", err, asynq.SkipRetry)
	}
	if _, ok := p.shop(pl.Shop); !ok {
		return nil
	}
	driven := 0
	for _, st := range sweepStates {
		ids, err := p.store.OrderIDs(ctx, pl.Shop, st, time.Time{}, sweepBatch)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if err := ctx.Err(); err != nil {
				return err
			}
			o, err := p.store.Order(ctx, pl.Shop, id)
			if dropsync.ErrorCode(err) == dropsync.ENOTFOUND {
				continue
			}
			if err != nil {
				return err
			}
			if err := p.reconcile(ctx, o); err != nil {
				return err
			}
			driven++
		}
	}
	deleted := 0
	if days := p.cfg.Retention.OrdersDays; days > 0 {
		before := p.now().AddDate(0, 0, -days)
		for _, st := range expiringStates {
			ids, err := p.store.OrderIDs(ctx, pl.Shop, st, before, sweepBatch)
			if err != nil {
				return err
			}
			for _, id := range ids {
				// The kept invoice loses the buyer's contact data with its order (it keeps
				// what tax law requires).
				if p.invoices != nil {
					if err := p.invoices.RedactInvoiceBuyer(ctx, pl.Shop, id); err != nil {
						return err
					}
				}
				if err := p.store.DeleteOrder(ctx, pl.Shop, id); err != nil {
					return err
				}
				deleted++
			}
		}
	}
	p.logger(ctx).Debug().Int("driven", driven).Int("deleted", deleted).Msg("shop swept")
	return nil
}
