package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/dropsync/dropsync/internal/redistest"
)

// The bench runs every phase on a tiny load and prints each figure beside its baseline; the
// happy path's call counts are exact whatever the machine, so they are checked.
func TestBenchPrintsFiguresWithBaselines(t *testing.T) {
	url := redistest.URL(t)
	var out, errs bytes.Buffer
	err := cmdBench(context.Background(), []string{"--redis", url, "--orders", "2", "--intake", "8",
		"--concurrency", "2", "--workers", "2"}, &out, &errs)
	if err != nil {
		t.Fatalf("bench: %v\nstderr:\n%s\nstdout:\n%s", err, errs.String(), out.String())
	}
	got := out.String()
	t.Log(got)
	for _, want := range []string{
		"bare handler (HMAC + one enqueue)", "dropsync receiver", "ratio (target ≥ 80%)",
		"no-op asynq chain", "dropsync, to fulfilled", "dropsync, to invoiced (all steps)", "ratio (target ≥ 50%)",
		"queued webhook", "in flight at the supplier", "completed (what retention keeps)", "dropsync order documents",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, tc := range []struct{ name, line, want string }{
		{"Shopify calls per order", `Shopify Admin API \(target ≤ 3\)\s+(\S+)`, "3.00"},
		{"fulfillment creates per order", `POST fulfillments\.json\s+(\S+)`, "1.00"},
		{"supplier orders placed per order", `place_order\s+(\S+)`, "1.00"},
		// Counted by asynq, not derived: the chain runs exactly its steps.
		{"tasks per order of the no-op chain", `per order: chain (\S+),`, "6.00"},
	} {
		m := regexp.MustCompile(tc.line).FindStringSubmatch(got)
		if m == nil {
			t.Errorf("%s: no line matching %q", tc.name, tc.line)
			continue
		}
		if m[1] != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, m[1], tc.want)
		}
	}
	// dropsync runs at least the chain's steps; more when a step is retried or periodic work
	// ran during the round.
	if m := regexp.MustCompile(`, dropsync (\S+) \(the pipeline's`).FindStringSubmatch(got); m == nil {
		t.Errorf("no measured tasks per order for dropsync")
	} else if v, err := strconv.ParseFloat(m[1], 64); err != nil || v < 6 {
		t.Errorf("dropsync ran %s tasks per order, want at least 6", m[1])
	}
	if n := dbSize(t, url); n != 0 {
		t.Errorf("the bench left %d keys in its database, want it flushed", n)
	}
}

// The bench flushes its database, so it refuses one that holds keys unless told to.
func TestBenchRefusesADatabaseInUse(t *testing.T) {
	url := redistest.URL(t)
	rdb := redis.NewClient(mustParseURL(t, url))
	defer rdb.Close()
	if err := rdb.Set(context.Background(), "someone:else", "precious", 0).Err(); err != nil {
		t.Fatal(err)
	}
	err := cmdBench(context.Background(), []string{"--redis", url, "--orders", "1"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("bench on a database with keys: err %v, want a refusal that names --force", err)
	}
	if v, err := rdb.Get(context.Background(), "someone:else").Result(); err != nil || v != "precious" {
		t.Errorf("key after the refusal: %q, %v; want it untouched", v, err)
	}
}

func TestBenchFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"no orders", []string{"--orders", "0"}},
		{"no senders", []string{"--concurrency", "0"}},
		{"no workers", []string{"--workers", "0"}},
		{"an argument", []string{"extra"}},
		{"bad url", []string{"--redis", "http://localhost"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := cmdBench(context.Background(), tc.args, io.Discard, io.Discard)
			var ue usageError
			if !errors.As(err, &ue) {
				t.Errorf("bench %v: err %v, want a usage error", tc.args, err)
			}
		})
	}
}

func TestBenchKeyClasses(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{"asynq:{intake}:t:ingest:shop:wh:1", "asynq tasks, queue intake"},
		{"asynq:{fulfilment}:completed", "asynq queue indexes, queue fulfilment"},
		{"asynq:servers:{host:1:abc}", "asynq servers and workers"},
		{"dropsync:order:bench-store.myshopify.com:7", "dropsync order documents"},
		{"dropsync:orders:bench-store.myshopify.com:state:fulfilled", "dropsync order indexes"},
		{"dropsync:{invoices}:docs", "dropsync invoices"},
		{"dropsync:customer-invoices:bench-store.myshopify.com:5000000001", "dropsync customer invoice index"},
		{"dropsync:mappings:bench-store.myshopify.com", "dropsync other (mappings, rate limit)"},
		{"unrelated", "other"},
	} {
		if got := keyClass(tc.key); got != tc.want {
			t.Errorf("keyClass(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func dbSize(t *testing.T, url string) int64 {
	t.Helper()
	rdb := redis.NewClient(mustParseURL(t, url))
	defer rdb.Close()
	n, err := rdb.DBSize(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n
}
