package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/redisstore"
	"github.com/dropsync/dropsync/internal/redistest"
)

// An update starts from the document its process last read; when another process has
// written the order since, the update must notice, read again and keep both changes, and the
// state index must follow the document as stored.
func TestUpdateAfterAnotherProcessWroteKeepsBothChanges(t *testing.T) {
	rdb := redistest.Client(t)
	ctx := context.Background()
	a, b := redisstore.New(rdb, nil), redisstore.New(rdb, nil)
	create(t, a, 1)
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

	tests := []struct {
		name  string
		other func(o *dropsync.Order) error
	}{
		{"other process records an event", func(o *dropsync.Order) error {
			o.Record(now, "other", "written by b")
			return nil
		}},
		{"other process changes the state", func(o *dropsync.Order) error {
			o.Record(now, "other", "written by b")
			o.State = dropsync.StateHeld
			return nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, err := a.Order(ctx, shop, 1) // a remembers this version
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := b.UpdateOrder(ctx, shop, 1, tc.other); err != nil {
				t.Fatal(err)
			}
			got, wrote, err := a.UpdateOrder(ctx, shop, 1, func(o *dropsync.Order) error {
				o.Record(now, "mine", "written by a")
				o.State = dropsync.StateForwarding
				return nil
			})
			if err != nil || !wrote {
				t.Fatalf("update: wrote %v, err %v", wrote, err)
			}
			if got, want := got.Version, before.Version+2; got != want {
				t.Errorf("version %d, want %d (b's write, then a's)", got, want)
			}
			n := len(got.Timeline)
			if n < 2 || got.Timeline[n-2].Event != "other" || got.Timeline[n-1].Event != "mine" {
				t.Errorf("timeline ends %v, want b's event then a's", got.Timeline)
			}
			stored, err := a.Order(ctx, shop, 1)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := stored.Version, got.Version; got != want {
				t.Errorf("stored version %d, want %d", got, want)
			}
			counts, err := a.CountByState(ctx, shop)
			if err != nil {
				t.Fatal(err)
			}
			if counts[dropsync.StateForwarding] != 1 || counts[dropsync.StateHeld] != 0 || counts[dropsync.StateReceived] != 0 {
				t.Errorf("state index %v, want the order under forwarding only", counts)
			}
		})
	}
}

// A decision to change nothing is never taken on a remembered document another process has
// changed since: it is taken again on the stored one.
func TestNoChangeDecisionUsesTheStoredDocument(t *testing.T) {
	rdb := redistest.Client(t)
	ctx := context.Background()
	a, b := redisstore.New(rdb, nil), redisstore.New(rdb, nil)
	create(t, a, 1)
	if _, err := a.Order(ctx, shop, 1); err != nil { // a remembers "received"
		t.Fatal(err)
	}
	if _, _, err := b.UpdateOrder(ctx, shop, 1, func(o *dropsync.Order) error {
		o.State = dropsync.StateHeld
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	seen := dropsync.OrderState("")
	got, wrote, err := a.UpdateOrder(ctx, shop, 1, func(o *dropsync.Order) error {
		seen = o.State
		if o.State != dropsync.StateHeld {
			return dropsync.ErrNoChange // what a handler does when the order is not its business
		}
		o.State = dropsync.StateReceived
		return nil
	})
	if err != nil || !wrote || seen != dropsync.StateHeld || got.State != dropsync.StateReceived {
		t.Fatalf("update saw %s, wrote %v, got %s, err %v; want it to see held and release it", seen, wrote, got.State, err)
	}
}
