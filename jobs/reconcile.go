package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// Shop flags the reconciler keeps.
const (
	// FlagPollCursor is the updated_at up to which every order of the shop is queued.
	FlagPollCursor = "poll_cursor"
)

// pollOverlap re-reads a margin before the cursor: Shopify's updated_at filter and clocks are
// not exact to the second, and an order updated in the same second as the cursor must not be
// missed. Re-read orders are duplicates by (id, updated_at) and cost nothing downstream.
const pollOverlap = 2 * time.Minute

// maxPollPages bounds one run; the next period goes on from the cursor.
const maxPollPages = 40

// handleShopPoll reconciles a shop: it reads every order updated since the cursor (minus an
// overlap; the first run looks back shops[].backfill), queues each as an ingest task whose id
// is (order id, updated_at) — so an order a webhook already delivered, or a page read twice,
// changes nothing — and advances the cursor only after a page is durably queued. A lost
// webhook therefore costs latency (one poll interval), never an order.
func (p *Pipeline) handleShopPoll(ctx context.Context, t *asynq.Task) error {
	var pl ShopPollPayload
	if err := json.Unmarshal(t.Payload(), &pl); err != nil {
		return fmt.Errorf("decode shop poll payload: %v: %w", err, asynq.SkipRetry)
	}
	cfg, ok := p.shop(pl.Shop)
	if !ok {
		return nil
	}
	if gone, err := p.shopGone(ctx, pl.Shop); err != nil || gone {
		return err
	}
	now := p.now()
	since := now.Add(-cfg.Backfill)
	cursorText, err := p.store.ShopFlag(ctx, pl.Shop, FlagPollCursor)
	if err != nil {
		return err
	}
	if cursorText != "" {
		c, err := time.Parse(time.RFC3339Nano, cursorText)
		if err != nil {
			return fmt.Errorf("shop %s poll cursor %q: %v: %w", pl.Shop, cursorText, err, asynq.SkipRetry)
		}
		since = c.Add(-pollOverlap)
	}
	var (
		page    string
		queued  int
		newest  time.Time
		pages   int
		started = time.Now()
	)
	for {
		sales, next, err := p.storefront.UpdatedOrders(ctx, pl.Shop, since, page)
		if err != nil {
			return fmt.Errorf("reconcile %s: %w", pl.Shop, err)
		}
		for i := range sales {
			ev := dropsync.StorefrontEvent{Shop: pl.Shop, Topic: dropsync.TopicOrdersUpdated,
				Source: dropsync.SourcePoll, ReceivedAt: now, Sale: &sales[i]}
			t, err := NewIngestTask(ev)
			if err := p.enqueue(ctx, t, err); err != nil {
				return err
			}
			if sales[i].UpdatedAt.After(newest) {
				newest = sales[i].UpdatedAt
			}
			queued++
		}
		// The page is queued: the cursor may move past it.
		if !newest.IsZero() {
			if err := p.store.SetShopFlag(ctx, pl.Shop, FlagPollCursor, newest.UTC().Format(time.RFC3339Nano)); err != nil {
				return err
			}
		}
		pages++
		if next == "" || pages >= maxPollPages {
			break
		}
		page = next
	}
	if cursorText == "" && newest.IsZero() {
		// Nothing updated in the backfill window: start the cursor at this run.
		if err := p.store.SetShopFlag(ctx, pl.Shop, FlagPollCursor, since.UTC().Format(time.RFC3339Nano)); err != nil {
			return err
		}
	}
	p.logger(ctx).Debug().Int("orders", queued).Int("pages", pages).
		Dur("took", time.Since(started)).Msg("shop reconciled")
	return nil
}
