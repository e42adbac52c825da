package jobs

import (
	"context"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// Intake turns verified webhook deliveries into queued tasks. It answers only once the task
// is durably in Redis; a duplicate delivery (same webhook id) is accepted and ignored.
type Intake struct {
	enq Enqueuer
}

// NewIntake returns an intake that enqueues with enq.
func NewIntake(enq Enqueuer) *Intake { return &Intake{enq: enq} }

// AcceptStorefrontEvent queues a storefront event. EUNAVAILABLE means it was not queued and
// the sender must retry.
func (in *Intake) AcceptStorefrontEvent(ctx context.Context, ev dropsync.StorefrontEvent) error {
	t, err := NewIngestTask(ev)
	return enqueue(ctx, in.enq, t, err)
}

// AcceptSupplierEvent queues a supplier's event.
func (in *Intake) AcceptSupplierEvent(ctx context.Context, ev dropsync.SupplierEvent) error {
	t, err := NewTrackingTask(ev)
	return enqueue(ctx, in.enq, t, err)
}
