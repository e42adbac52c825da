package shopify

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// Limiter is one Shopify REST budget per shop, shared by every dropsync process through
// Redis: a leaky bucket of the shop's size draining at its rate, mirrored from Shopify's own
// (which counts per app and store). A call reserves a slot; when the slot is due soon the
// caller waits that long, otherwise it gets ERATELIMITED with the delay so the task is
// retried later instead of holding a worker. Shopify's X-Shopify-Shop-Api-Call-Limit header
// and 429 replies correct the bucket when they disagree.
type Limiter struct {
	rdb     redis.UniversalClient
	maxWait time.Duration
	limits  map[string]BucketLimit
}

// BucketLimit is a shop's REST budget: calls the bucket holds and calls per second it drains
// (40 and 2 by default; 400 and 20 on Shopify Plus).
type BucketLimit struct {
	Size     int
	LeakRate int
}

// headroom keeps a few calls free for other clients of the same app (and for retries of
// requests in flight), so dropsync does not run the bucket dry.
const headroom = 2

// NewLimiter returns a limiter with the shops' limits. Calls due within maxWait wait for it.
func NewLimiter(rdb redis.UniversalClient, limits map[string]BucketLimit, maxWait time.Duration) *Limiter {
	return &Limiter{rdb: rdb, maxWait: maxWait, limits: limits}
}

func bucketKey(shop string) string { return "dropsync:shopify:bucket:" + shop }

// acquireScript reserves n calls (one operation's worth, so an operation never stops half
// way for lack of budget). It uses Redis' clock so processes with skewed clocks
// share one bucket. It returns the milliseconds to wait before calling, or minus the
// milliseconds until a slot could be reserved when that is over the maximum wait.
var acquireScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local size, rate, headroom, maxwait, n = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local reported = tonumber(redis.call('HGET', KEYS[1], 'size') or '0')
if reported > 0 and reported ~= size then size, rate = reported, math.max(1, reported / 20) end
local level = tonumber(redis.call('HGET', KEYS[1], 'level') or '0')
local at = tonumber(redis.call('HGET', KEYS[1], 'at') or now)
level = math.max(0, level - (now - at) / 1000 * rate)
local cap = math.max(n, size - headroom)
local wait = 0
if level + n > cap then wait = (level + n - cap) / rate * 1000 end
if wait > maxwait then
  redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', now)
  redis.call('PEXPIRE', KEYS[1], 3600000)
  return -math.ceil(wait - maxwait)
end
redis.call('HSET', KEYS[1], 'level', tostring(level + n), 'at', now)
redis.call('PEXPIRE', KEYS[1], 3600000)
return math.ceil(wait)
`)

// observeScript raises the bucket to what Shopify reports (never lowers it: reservations
// made by other processes are not in Shopify's count yet), and keeps the bucket size Shopify
// reports, which wins over the configured one when they differ (a Plus shop left on the
// default 40, or a shop configured above its plan); such a bucket leaks as Shopify's REST
// buckets do, a twentieth of their size per second (40 at 2/s, 400 at 20/s).
var observeScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[2])
local reported = tonumber(ARGV[3])
if reported > 0 and reported ~= tonumber(ARGV[4]) then rate = math.max(1, reported / 20) end
local size = reported
if size <= 0 then size = tonumber(redis.call('HGET', KEYS[1], 'size') or ARGV[4]) end
local level = tonumber(redis.call('HGET', KEYS[1], 'level') or '0')
local at = tonumber(redis.call('HGET', KEYS[1], 'at') or now)
level = math.max(0, level - (now - at) / 1000 * rate)
local used = tonumber(ARGV[1])
if used < 0 then used = size end -- a 429: Shopify's bucket is full
if used > level then level = used end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', now)
if reported > 0 then redis.call('HSET', KEYS[1], 'size', reported) end
redis.call('PEXPIRE', KEYS[1], 3600000)
return 0
`)

func (l *Limiter) limit(shop string) BucketLimit {
	lim := l.limits[shop]
	if lim.Size <= 0 {
		lim.Size = 40
	}
	if lim.LeakRate <= 0 {
		lim.LeakRate = 2
	}
	return lim
}

// Acquire reserves calls for the shop, waiting when they are due within the maximum wait;
// otherwise it returns ERATELIMITED with RetryAfter. The delay is spread over up to twice
// the wait, so tasks refused together do not all come back at the same moment.
func (l *Limiter) Acquire(ctx context.Context, shop string, calls int) error {
	lim := l.limit(shop)
	calls = max(1, min(calls, lim.Size))
	ms, err := acquireScript.Run(ctx, l.rdb, []string{bucketKey(shop)},
		lim.Size, lim.LeakRate, headroom, l.maxWait.Milliseconds(), calls).Int64()
	if err != nil {
		return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "shopify limiter")
	}
	if ms < 0 {
		wait := time.Duration(-ms)*time.Millisecond + l.maxWait
		wait += time.Duration(rand.Int64N(int64(wait)))
		return &dropsync.Error{Code: dropsync.ERATELIMITED, Reason: dropsync.ReasonNotSent, RetryAfter: wait,
			Message: "shopify API budget of " + shop + " is used up for now"}
	}
	if ms == 0 {
		return nil
	}
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Observe corrects the bucket with Shopify's own count from X-Shopify-Shop-Api-Call-Limit.
func (l *Limiter) Observe(ctx context.Context, shop string, used, size int) {
	lim := l.limit(shop)
	_ = observeScript.Run(context.WithoutCancel(ctx), l.rdb, []string{bucketKey(shop)}, used, lim.LeakRate, size, lim.Size).Err()
}

// Throttled records a 429: Shopify's bucket is full.
func (l *Limiter) Throttled(ctx context.Context, shop string) {
	l.Observe(ctx, shop, -1, 0)
}

// Configured is the bucket size configured for the shop (Shopify's own count may differ).
func (l *Limiter) Configured(shop string) int { return l.limit(shop).Size }
