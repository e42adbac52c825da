package shopifytest

import (
	"math"
	"time"
)

// bucket is Shopify's leaky bucket for REST calls: every call pours one unit
// in, the bucket drains at a fixed rate, and a call that finds it full is
// refused. It is not safe for concurrent use; the Server's mutex guards it.
type bucket struct {
	size      int
	leak      float64 // units per second
	unlimited bool
	level     float64
	last      time.Time
}

// drain lets the bucket leak for the time since the last call. A clock that
// goes backwards drains nothing rather than refilling the bucket.
func (b *bucket) drain(now time.Time) {
	if !b.last.IsZero() && now.After(b.last) {
		b.level = math.Max(0, b.level-now.Sub(b.last).Seconds()*b.leak)
	}
	if b.last.IsZero() || now.After(b.last) {
		b.last = now
	}
}

// take pours one call into the bucket and reports whether it fitted.
func (b *bucket) take(now time.Time) bool {
	b.drain(now)
	if b.unlimited {
		return true
	}
	// A small epsilon so that float drift (38.0000001) does not refuse a
	// call the arithmetic says fits.
	if b.level+1 > float64(b.size)+1e-9 {
		return false
	}
	b.level++
	return true
}

// used is the fill level to report in X-Shopify-Shop-Api-Call-Limit. An
// unlimited bucket reports one call used so that a client pacing itself on
// the header never backs off.
func (b *bucket) used() int {
	if b.unlimited {
		return 1
	}
	n := int(math.Ceil(b.level - 1e-9))
	return min(max(n, 0), b.size)
}

// set changes size and leak rate, keeping what is in the bucket (drained at
// the old rate up to now). size <= 0 disables the limit.
func (b *bucket) set(now time.Time, size int, leak float64) {
	b.drain(now)
	b.unlimited = size <= 0
	if !b.unlimited {
		b.size = size
		b.level = math.Min(b.level, float64(size))
	}
	b.leak = math.Max(leak, 0)
}
