package jobs_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/redistest"
	"github.com/dropsync/dropsync/jobs"
)

// Three schedulers (three `work` processes) over several periods enqueue each period's task
// once between them.
func TestSchedulersEnqueueEachPeriodOnce(t *testing.T) {
	opt, err := redis.ParseURL(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	client := asynq.NewClientFromRedisClient(rdb)
	var mu sync.Mutex
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	periodic := []jobs.Periodic{{Name: "poll acme", Interval: 10 * time.Second,
		Make: func(p int64) (*asynq.Task, error) { return jobs.NewSupplierPollTask("acme", p) }}}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 3 {
		s := jobs.NewScheduler(client, periodic, clock, zerolog.Nop())
		wg.Add(1)
		go func() { defer wg.Done(); s.Run(ctx) }()
	}
	for range 4 { // four periods
		time.Sleep(1500 * time.Millisecond)
		mu.Lock()
		now = now.Add(10 * time.Second)
		mu.Unlock()
	}
	time.Sleep(1500 * time.Millisecond)
	cancel()
	wg.Wait()
	insp := asynq.NewInspectorFromRedisClient(rdb)
	tasks, err := insp.ListPendingTasks(jobs.QueueMaintenance)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(tasks), 5; got != want {
		t.Fatalf("%d poll tasks for 5 periods from 3 schedulers, want %d", got, want)
	}
}

func TestRetryPolicy(t *testing.T) {
	limited := &dropsync.Error{Code: dropsync.ERATELIMITED, RetryAfter: 4 * time.Second}
	for _, tc := range []struct {
		name      string
		err       error
		min, max  time.Duration
		isFailure bool
	}{
		{"rate limited waits as told", limited, 4 * time.Second, 4*time.Second + 250*time.Millisecond, false},
		{"worker died", asynq.ErrLeaseExpired, 2 * time.Second, 2 * time.Second, true},
		{"supplier down backs off", dropsync.Errorf(dropsync.EUNAVAILABLE, "502"), 0, 15 * time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for n := 0; n < 20; n++ {
				d := jobs.RetryDelay(n, tc.err, nil)
				if d < tc.min || d > tc.max {
					t.Fatalf("retry %d: delay %s outside [%s, %s]", n, d, tc.min, tc.max)
				}
			}
			if got := jobs.IsFailure(tc.err); got != tc.isFailure {
				t.Fatalf("IsFailure = %v, want %v", got, tc.isFailure)
			}
		})
	}
	if jobs.IsFailure(errors.New("x")) != true {
		t.Fatal("an ordinary error must count as a failure")
	}
}
