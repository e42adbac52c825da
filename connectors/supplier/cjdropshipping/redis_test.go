package cjdropshipping

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dropsync/dropsync/internal/redistest"
)

func clientFor(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// stores runs a test against both TokenStores.
func stores(t *testing.T, test func(t *testing.T, st TokenStore)) {
	t.Run("memory", func(t *testing.T) { test(t, NewMemoryTokenStore()) })
	t.Run("redis", func(t *testing.T) { test(t, NewRedisTokenStore(redistest.Client(t), "cj")) })
}

func TestStoreToken(t *testing.T) {
	stores(t, func(t *testing.T, st TokenStore) {
		ctx := context.Background()
		got, err := st.Load(ctx)
		if err != nil || got != (Token{}) {
			t.Fatalf("load of an empty store: got %+v, %v, want the zero token", got, err)
		}
		want := Token{OpenID: "123456789", AccessToken: "a1", AccessExpiry: shipTime.Add(15 * 24 * time.Hour),
			RefreshToken: "r1", RefreshExpiry: shipTime.Add(180 * 24 * time.Hour), RequestedAt: shipTime, KeyRefused: true}
		if err := st.Save(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err = st.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.OpenID != want.OpenID || got.AccessToken != want.AccessToken || !got.AccessExpiry.Equal(want.AccessExpiry) ||
			got.RefreshToken != want.RefreshToken || !got.RefreshExpiry.Equal(want.RefreshExpiry) ||
			!got.RequestedAt.Equal(want.RequestedAt) || got.KeyRefused != want.KeyRefused {
			t.Errorf("load: got %+v, want %+v", got, want)
		}
	})
}

func TestStoreLock(t *testing.T) {
	stores(t, func(t *testing.T, st TokenStore) {
		ctx := context.Background()
		unlock, ok, err := st.Lock(ctx, "token", time.Minute)
		if err != nil || !ok {
			t.Fatalf("first lock: %v, %v", ok, err)
		}
		if _, ok, _ := st.Lock(ctx, "token", time.Minute); ok {
			t.Error("second lock while held: got it, want refused")
		}
		if _, ok, _ := st.Lock(ctx, "place:x", time.Minute); !ok {
			t.Error("lock of another name: refused, want it")
		}
		unlock()
		unlock2, ok, _ := st.Lock(ctx, "token", 50*time.Millisecond)
		if !ok {
			t.Fatal("lock after unlock: refused")
		}
		// The first holder's late unlock must not release the second holder's lock.
		unlock()
		if _, ok, _ := st.Lock(ctx, "token", time.Minute); ok {
			t.Error("lock after a stale unlock: got it, want refused")
		}
		unlock2()
	})
}

func TestStoreLockExpires(t *testing.T) {
	stores(t, func(t *testing.T, st TokenStore) {
		ctx := context.Background()
		if _, ok, _ := st.Lock(ctx, "token", 30*time.Millisecond); !ok {
			t.Fatal("lock: refused")
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, ok, _ := st.Lock(ctx, "token", time.Minute); ok {
				return
			}
			if time.Now().After(deadline) {
				t.Fatal("an abandoned lock never expired")
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func TestStorePace(t *testing.T) {
	stores(t, func(t *testing.T, st TokenStore) {
		p, ok := st.(Pacer)
		if !ok {
			t.Fatal("the store does not pace")
		}
		ctx := context.Background()
		interval := time.Hour // long enough that the test's own time does not count
		first, ok, err := p.Reserve(ctx, interval, 2*time.Hour)
		if err != nil || !ok || first != 0 {
			t.Fatalf("first slot: got %v, %v, %v, want now", first, ok, err)
		}
		second, ok, _ := p.Reserve(ctx, interval, 2*time.Hour)
		if !ok || second <= interval-time.Minute || second > interval {
			t.Errorf("second slot: got %v, %v, want about an hour", second, ok)
		}
		third, ok, _ := p.Reserve(ctx, interval, 90*time.Minute)
		if ok || third <= interval {
			t.Errorf("third slot past the longest wait: got %v, %v, want refused with about two hours", third, ok)
		}
		// The refused slot was not booked.
		if again, ok, _ := p.Reserve(ctx, interval, 3*time.Hour); !ok || again > 2*interval {
			t.Errorf("slot after a refusal: got %v, %v, want about two hours", again, ok)
		}
	})
}
