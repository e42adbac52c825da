package jobs

import (
	"context"
	"fmt"
	"slices"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// Release resumes a held or failed order. Without override it verifies the order again (an
// order still unpaid stays held); with override it goes on despite the current holds that an
// operator may override, recorded in the timeline with the note. A failed order resumes
// where it stopped. Other states are a conflict.
func (p *Pipeline) Release(ctx context.Context, shop string, id int64, override bool, note string) (dropsync.Order, error) {
	now := p.now()
	o, _, err := p.store.UpdateOrder(ctx, shop, id, func(o *dropsync.Order) error {
		switch o.State {
		case dropsync.StateHeld, dropsync.StateFailed:
		default:
			return dropsync.Errorf(dropsync.ECONFLICT, "order %d is %s; only held or failed orders can be released", id, o.State)
		}
		detail := "re-verifying"
		if override {
			var overridden []string
			for _, h := range o.Holds {
				if !slices.Contains(o.Overrides, h.Rule) {
					o.Overrides = append(o.Overrides, h.Rule)
				}
				overridden = append(overridden, h.Rule)
			}
			detail = "override of " + fmt.Sprint(overridden)
			if note != "" {
				detail += ": " + note
			}
		} else if note != "" {
			detail += ": " + note
		}
		// Verification runs again: purchase orders that stand are kept, lines without one are
		// planned (a refusal's fallback included), and the order goes on from there.
		if o.State == dropsync.StateFailed {
			detail = "resuming after failure"
			if note != "" {
				detail += ": " + note
			}
		}
		o.Round++
		o.HoldReason, o.Holds = "", nil
		o.State = dropsync.StateReceived
		o.Record(now, "released", detail)
		return nil
	})
	if err != nil {
		return dropsync.Order{}, err
	}
	return o, p.reconcile(ctx, o)
}
