package jobs

import "time"

// Observer receives the pipeline's measurements (Prometheus in production). Methods must be
// cheap and safe for concurrent use.
type Observer interface {
	// POForwarded counts one attempt to place a purchase order; sinceCreated is the time from
	// the storefront order's creation to the supplier's acceptance (zero when not accepted).
	POForwarded(supplier, outcome string, sinceCreated time.Duration)
	// OrderFulfilled records the time from order creation to its last fulfillment.
	OrderFulfilled(shop string, sinceCreated time.Duration)
}

type nopObserver struct{}

func (nopObserver) POForwarded(string, string, time.Duration) {}
func (nopObserver) OrderFulfilled(string, time.Duration)      {}
