package jobs

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/internal/redistest"
)

// schedulerProbe sits between one scheduler and asynq and counts, per period, the enqueues
// the scheduler made: the test's barrier for "this scheduler has handled the period", and
// the check that it asks once per period however often it ticks.
type schedulerProbe struct {
	next Enqueuer

	mu    sync.Mutex
	ticks int           // times the scheduler read its clock: once per tick
	made  int64         // period of the task the scheduler built last
	calls map[int64]int // enqueues that returned, by period
}

func (p *schedulerProbe) tick(clock func() time.Time) func() time.Time {
	return func() time.Time {
		p.mu.Lock()
		p.ticks++
		p.mu.Unlock()
		return clock()
	}
}

func (p *schedulerProbe) tickCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.ticks
}

func (p *schedulerProbe) make(period int64) (*asynq.Task, error) {
	p.mu.Lock()
	p.made = period
	p.mu.Unlock()
	return NewSupplierPollTask("acme", period)
}

// EnqueueContext is part of Enqueuer. A scheduler builds a task and enqueues it in one
// goroutine, so the call is about the period made last.
func (p *schedulerProbe) EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	info, err := p.next.EnqueueContext(ctx, t, opts...)
	p.mu.Lock()
	p.calls[p.made]++
	p.mu.Unlock()
	return info, err
}

func (p *schedulerProbe) callsFor(period int64) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[period]
}

// Three schedulers (three `work` processes) over five periods enqueue each period's task
// once between them, and each asks once per period however often it ticks.
func TestSchedulersEnqueueEachPeriodOnce(t *testing.T) {
	opt, err := redis.ParseURL(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	client := asynq.NewClientFromRedisClient(rdb)
	const interval = 10 * time.Second
	var mu sync.Mutex
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	var probes []*schedulerProbe
	for range 3 {
		p := &schedulerProbe{next: client, calls: map[int64]int{}}
		probes = append(probes, p)
		s := NewScheduler(p, []Periodic{{Name: "poll acme", Interval: interval, Make: p.make}}, p.tick(clock), zerolog.Nop())
		s.tick = 2 * time.Millisecond // many ticks per period: each must not enqueue again
		wg.Add(1)
		go func() { defer wg.Done(); s.Run(ctx) }()
	}

	// wait polls cond until it holds; the schedulers tick every 2 ms.
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting until %s", what)
			}
			time.Sleep(time.Millisecond)
		}
	}
	var periods []int64
	for k := range 5 {
		period := clock().UnixNano() / int64(interval)
		periods = append(periods, period)
		for i, p := range probes {
			wait(fmt.Sprintf("scheduler %d enqueued period %d", i, period), func() bool { return p.callsFor(period) > 0 })
		}
		// Three more ticks of every scheduler in the same period, in which none may enqueue
		// it again.
		for i, p := range probes {
			seen := p.tickCount()
			wait(fmt.Sprintf("scheduler %d ticked again", i), func() bool { return p.tickCount() >= seen+3 })
		}
		if k < 4 {
			mu.Lock()
			now = now.Add(interval)
			mu.Unlock()
		}
	}
	cancel()
	wg.Wait()

	var want []string
	for _, period := range periods {
		want = append(want, fmt.Sprintf("poll:acme:%d", period))
		for i, p := range probes {
			if got := p.callsFor(period); got != 1 {
				t.Errorf("scheduler %d enqueued period %d %d times, want once", i, period, got)
			}
		}
	}
	tasks, err := asynq.NewInspectorFromRedisClient(rdb).ListPendingTasks(QueueMaintenance)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ti := range tasks {
		got = append(got, ti.ID)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("pending tasks %v, want one per period: %v", got, want)
	}
}
