package jobs_test

import (
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/jobs"
)

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

// A dependency that stays down is retried later and later, up to a cap. The delays are
// jittered, so each retry count is sampled many times and compared by its extremes.
func TestRetryBackoffGrowsAndIsCapped(t *testing.T) {
	const ceiling = 15 * time.Minute
	down := dropsync.Errorf(dropsync.EUNAVAILABLE, "502")
	sample := func(n int) (lo, hi time.Duration) {
		lo = time.Duration(1<<63 - 1)
		for range 500 {
			d := jobs.RetryDelay(n, down, nil)
			lo, hi = min(lo, d), max(hi, d)
		}
		return lo, hi
	}
	lo0, hi0 := sample(0)
	lo4, hi4 := sample(4)
	lo10, hi10 := sample(10)
	lo20, hi20 := sample(20)
	t.Logf("retry 0: %s–%s, 4: %s–%s, 10: %s–%s, 20: %s–%s", lo0, hi0, lo4, hi4, lo10, hi10, lo20, hi20)
	if lo0 <= 0 || hi0 > 2*time.Second {
		t.Errorf("first retry after %s–%s, want a prompt retry within 2s but not at once", lo0, hi0)
	}
	if hi0 >= lo4 || hi4 >= lo10 {
		t.Errorf("delays do not grow with the retry count: 0: ≤%s, 4: %s–%s, 10: ≥%s", hi0, lo4, hi4, lo10)
	}
	for _, r := range []struct {
		n      int
		lo, hi time.Duration
	}{{10, lo10, hi10}, {20, lo20, hi20}} {
		if r.hi > ceiling {
			t.Errorf("retry %d: delay up to %s, want at most %s", r.n, r.hi, ceiling)
		}
		// Capped, not reset: a long outage keeps being retried at the cap's scale.
		if r.lo < ceiling/2 {
			t.Errorf("retry %d: delay down to %s, want at least %s once capped", r.n, r.lo, ceiling/2)
		}
	}
	if lo20 == hi20 {
		t.Errorf("retry 20: every delay is %s; want jitter so that retries of many tasks spread out", lo20)
	}
}
