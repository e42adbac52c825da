package jobs

import (
	"context"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/internal/config"
)

// Periodic is one piece of periodic work: every Interval, the task Make builds for the
// current period number.
type Periodic struct {
	Name     string
	Interval time.Duration
	Make     func(period int64) (*asynq.Task, error)
}

// Scheduler enqueues periodic work. Each task's id names its period, so any number of
// schedulers (one per `work` process) enqueue each period's task once between them, and a
// scheduler that was down simply enqueues the current period when it comes back.
type Scheduler struct {
	enq   Enqueuer
	tasks []Periodic
	now   func() time.Time
	tick  time.Duration
	log   zerolog.Logger
}

// NewScheduler returns a scheduler for the tasks; now may be nil.
func NewScheduler(enq Enqueuer, tasks []Periodic, now func() time.Time, log zerolog.Logger) *Scheduler {
	if now == nil {
		now = time.Now
	}
	return &Scheduler{enq: enq, tasks: tasks, now: now, tick: time.Second, log: log}
}

// PeriodicTasks lists the periodic work a config asks for: a tracking poll per supplier and
// an order reconciliation per shop, each at its poll_interval (0 disables), and a sweep of
// each shop's orders every SweepInterval.
func PeriodicTasks(cfg *config.Config) []Periodic {
	var out []Periodic
	for _, s := range cfg.Suppliers {
		if s.PollInterval > 0 {
			id := s.ID
			out = append(out, Periodic{Name: "poll supplier " + id, Interval: s.PollInterval,
				Make: func(period int64) (*asynq.Task, error) { return NewSupplierPollTask(id, period) }})
		}
	}
	for _, sh := range cfg.Shops {
		domain := sh.Domain
		out = append(out, Periodic{Name: "sweep shop " + domain, Interval: SweepInterval,
			Make: func(period int64) (*asynq.Task, error) { return NewShopSweepTask(domain, period) }})
		if sh.PollInterval > 0 {
			domain := sh.Domain
			out = append(out, Periodic{Name: "reconcile shop " + domain, Interval: sh.PollInterval,
				Make: func(period int64) (*asynq.Task, error) { return NewShopPollTask(domain, period) }})
		}
	}
	return out
}

// Run enqueues each task once per period until ctx ends.
func (s *Scheduler) Run(ctx context.Context) error {
	last := make([]int64, len(s.tasks))
	for i := range last {
		last[i] = -1
	}
	t := time.NewTicker(s.tick)
	defer t.Stop()
	for {
		now := s.now()
		for i, p := range s.tasks {
			period := now.UnixNano() / int64(p.Interval)
			if period == last[i] {
				continue
			}
			task, err := p.Make(period)
			if err = enqueue(ctx, s.enq, task, err); err != nil {
				s.log.Warn().Err(err).Str("periodic", p.Name).Msg("could not enqueue periodic work; next tick retries")
				continue
			}
			last[i] = period
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
