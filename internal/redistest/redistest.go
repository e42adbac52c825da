// Package redistest gives each test a Redis database of its own on a real Redis server, so
// that packages can run their tests in parallel (`go test ./...`) against one server, the
// way asynq's own tests use a dedicated database.
package redistest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvURL names the environment variable that points tests at a Redis server; the default is
// redis://127.0.0.1:6379.
const EnvURL = "DROPSYNC_TEST_REDIS"

const (
	// Tests take databases 1 to 13; 14 and 15 stay free for `dropsync bench` (which flushes
	// its own) and for a developer's experiments.
	firstDB  = 1
	lastDB   = 13
	lockTTL  = 20 * time.Minute
	maxWait  = 3 * time.Minute
	lockName = "dropsync:test:db:"
)

// URL returns a redis:// URL for a database that belongs to t alone until t ends. The
// database is flushed before it is handed out. Redis must be running: a test that needs it
// fails, it is never skipped.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		base = "redis://127.0.0.1:6379"
	}
	opt, err := redis.ParseURL(base)
	if err != nil {
		t.Fatalf("redistest: %s=%q: %v", EnvURL, base, err)
	}
	opt.DB = 0
	ctl := redis.NewClient(opt)
	defer ctl.Close()
	ctx := context.Background()
	if err := ctl.Ping(ctx).Err(); err != nil {
		t.Fatalf("redistest: Redis at %s is not reachable (start one, e.g. `redis-server --daemonize yes`, or set %s): %v",
			opt.Addr, EnvURL, err)
	}
	owner := fmt.Sprintf("%d-%s-%d", os.Getpid(), t.Name(), time.Now().UnixNano())
	deadline := time.Now().Add(maxWait)
	for {
		for db := firstDB; db <= lastDB; db++ {
			ok, err := ctl.SetNX(ctx, lockName+strconv.Itoa(db), owner, lockTTL).Result()
			if err != nil {
				t.Fatalf("redistest: lock database %d: %v", db, err)
			}
			if !ok {
				continue
			}
			dbOpt := *opt
			dbOpt.DB = db
			c := redis.NewClient(&dbOpt)
			err = c.FlushDB(ctx).Err()
			c.Close()
			if err != nil {
				t.Fatalf("redistest: flush database %d: %v", db, err)
			}
			t.Cleanup(func() { release(opt, db, owner) })
			u := *opt
			return urlFor(&u, db)
		}
		if time.Now().After(deadline) {
			t.Fatalf("redistest: no free test database on %s after %s", opt.Addr, maxWait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Client returns a client on a database of t's own (see URL), closed when t ends.
func Client(t testing.TB) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(URL(t))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

var releaseScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0`)

func release(opt *redis.Options, db int, owner string) {
	ctl := redis.NewClient(opt)
	defer ctl.Close()
	releaseScript.Run(context.Background(), ctl, []string{lockName + strconv.Itoa(db)}, owner)
}

func urlFor(opt *redis.Options, db int) string {
	scheme := "redis"
	if opt.TLSConfig != nil {
		scheme = "rediss"
	}
	u := url.URL{Scheme: scheme, Host: opt.Addr, Path: "/" + strconv.Itoa(db)}
	if opt.Username != "" || opt.Password != "" {
		u.User = url.UserPassword(opt.Username, opt.Password)
	}
	return u.String()
}
