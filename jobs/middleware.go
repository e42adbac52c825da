package jobs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// Middleware returns the handler wrapper every task runs through: a logger with the task's
// id, type, shop and order id in ctx; one log line per outcome; permanent errors turned into
// SkipRetry; and, when a task gives up for good, the order marked failed in dropsync's own
// state (asynq's archive is capped and pruned, so it cannot be the record).
func (p *Pipeline) Middleware(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		retried, _ := asynq.GetRetryCount(ctx)
		maxRetry, _ := asynq.GetMaxRetry(ctx)
		h := t.Headers()
		lc := p.log.With().Str("task_id", id).Str("task", t.Type())
		if shop := h[HeaderShop]; shop != "" {
			lc = lc.Str("shop", shop)
		}
		if oid := h[HeaderOrderID]; oid != "" && oid != "0" {
			lc = lc.Str("order_id", oid)
		}
		if retried > 0 {
			lc = lc.Int("retry", retried)
		}
		log := lc.Logger()
		ctx = log.WithContext(ctx)
		start := time.Now()
		err := next.ProcessTask(ctx, t)
		elapsed := time.Since(start)
		if err == nil {
			log.Debug().Dur("took", elapsed).Msg("task done")
			return nil
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			log.Info().Dur("took", elapsed).Msg("task interrupted by shutdown; it will run again")
			return err
		}
		if !dropsync.IsRetryable(err) && !errors.Is(err, asynq.SkipRetry) {
			err = fmt.Errorf("%w (%w)", err, asynq.SkipRetry)
		}
		final := errors.Is(err, asynq.SkipRetry) || (retried >= maxRetry && IsFailure(err))
		ev := log.Warn()
		if final {
			ev = log.Error()
		}
		ev.Str("error", dropsync.ErrorMessage(err)).Str("code", dropsync.ErrorCode(err)).
			Bool("final", final).Dur("took", elapsed).Msg("task failed")
		if final {
			p.markFailed(ctx, t, err)
		}
		return err
	})
}

// markFailed records a task's final failure on its order.
func (p *Pipeline) markFailed(ctx context.Context, t *asynq.Task, cause error) {
	h := t.Headers()
	shop := h[HeaderShop]
	id, _ := strconv.ParseInt(h[HeaderOrderID], 10, 64)
	if shop == "" || id == 0 {
		return
	}
	now := p.now()
	reason := t.Type() + ": " + dropsync.ErrorMessage(cause)
	// Steps beside the order's path (its invoice, a supplier's tracking news, which the
	// tracking poll reads again, a storefront update the poller reads again) must not stop
	// its fulfilment: they are surfaced instead.
	sideStep := t.Type() == TypeInvoiceIssue || t.Type() == TypePOTracking || t.Type() == TypeOrderIngest
	_, _, err := p.store.UpdateOrder(context.WithoutCancel(ctx), shop, id, func(o *dropsync.Order) error {
		if sideStep {
			o.Notice(now, "step_failed", reason)
			return nil
		}
		if o.Terminal() || o.State == dropsync.StateFailed {
			return dropsync.ErrNoChange
		}
		o.Fail(now, reason)
		return nil
	})
	if err != nil && dropsync.ErrorCode(err) != dropsync.ENOTFOUND {
		zerolog.Ctx(ctx).Error().Err(err).Msg("could not mark the order failed")
	}
}

// RetryDelay is the asynq retry delay: what a rate-limited dependency asked for, a short
// pause after a lease expired (the worker died; the task did not fail), else exponential
// backoff with jitter capped at 15 minutes.
func RetryDelay(n int, err error, _ *asynq.Task) time.Duration {
	if d, ok := dropsync.RetryAfter(err); ok {
		return d + time.Duration(rand.Int64N(int64(250*time.Millisecond)))
	}
	if errors.Is(err, asynq.ErrLeaseExpired) {
		return 2 * time.Second
	}
	d := time.Second << min(n, 10)
	d = min(d, 15*time.Minute)
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// IsFailure tells asynq which errors count against a task's retries: being asked to slow
// down is not a failure.
func IsFailure(err error) bool {
	return dropsync.ErrorCode(err) != dropsync.ERATELIMITED
}

// outcome is a metrics label for an error.
func outcome(err error) string {
	switch dropsync.ErrorCode(err) {
	case "":
		return "ok"
	case dropsync.EPERMANENT:
		return "refused"
	case dropsync.ERATELIMITED:
		return "rate_limited"
	case dropsync.EUNAVAILABLE:
		return "unavailable"
	}
	return "error"
}

func (p *Pipeline) logger(ctx context.Context) *zerolog.Logger {
	if l := zerolog.Ctx(ctx); l.GetLevel() != zerolog.Disabled {
		return l
	}
	return &p.log
}
