package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runDemo runs `dropsync demo` in-process with args and returns what it printed. The demo
// must stop by itself within the bound.
func runDemo(t *testing.T, bound time.Duration, args ...string) (string, error) {
	t.Helper()
	// The demo's directory (mappings, dropsync's log) goes where the test can clean it up.
	t.Setenv("TMPDIR", t.TempDir())
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- cmdDemo(context.Background(), args, &out, io.Discard) }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(bound):
		t.Fatalf("demo %v did not stop by itself within %s", args, bound)
		return "", nil
	}
}

// summaryNumber reads a count from the summary the demo prints when it stops.
func summaryNumber(t *testing.T, summary, label string) int {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(label) + `\s+(\d+)`).FindStringSubmatch(summary)
	if m == nil {
		t.Fatalf("summary has no %q line:\n%s", label, summary)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// A finite run: every order placed comes to an end, and the summary's counts add up. Nothing
// here depends on how fast the machine is, only on what the demo reports.
func TestDemoRunsAStoreThroughThePipeline(t *testing.T) {
	const orders = 20
	// --duration only bounds a run that never finishes; a slow machine takes longer, not
	// fewer orders.
	out, err := runDemo(t, 90*time.Second, "--orders", strconv.Itoa(orders), "--rate", "10", "--duration", "60s",
		"--addr", "127.0.0.1:0", "--seed", "42")
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	t.Log(out)

	if !strings.Contains(out, "embedded in-memory Redis") {
		t.Errorf("output does not say the embedded Redis is used")
	}
	dash := regexp.MustCompile(`Dashboard  http://127\.0\.0\.1:\d+/monitoring/ +user: any +password: (demo-\S+)`).FindStringSubmatch(out)
	if dash == nil {
		t.Fatalf("output has no dashboard URL with its credentials")
	}
	if !strings.Contains(out, "Authorization: Bearer "+dash[1]) {
		t.Errorf("the admin API example does not use the dashboard's token %s", dash[1])
	}

	progress := regexp.MustCompile(`(?m)^ *\d+:\d\d  received \d+  held \d+  forwarding \d+  forwarded \d+  partially_shipped \d+  shipped \d+  fulfilled \d+  failed \d+.* │ POs acme \d+ beta \d+ │ [\d.]+ orders/s in, [\d.]+ fulfilled/s │ Shopify \d+ calls, \d+ × 429$`).FindAllString(out, -1)
	// Orders ship at least two seconds after they are forwarded, so a run lasts past the
	// first progress line.
	if len(progress) == 0 {
		t.Errorf("no progress line")
	}
	if want := fmt.Sprintf("all %d orders are fulfilled, cancelled or failed", orders); !strings.Contains(out, want) {
		t.Fatalf("the run did not end with its orders done (%q):\n%s", want, out)
	}

	_, summary, ok := strings.Cut(out, "dropsync demo stopped after")
	if !ok {
		t.Fatalf("output has no summary")
	}
	created := summaryNumber(t, summary, "orders created")
	if created != orders {
		t.Errorf("orders created %d, want %d", created, orders)
	}
	fulfilled := summaryNumber(t, summary, "fulfilled")
	held := summaryNumber(t, summary, "held")
	failed := summaryNumber(t, summary, "failed")
	inFlight := summaryNumber(t, summary, "in flight")
	other := 0
	for _, label := range []string{"cancelled/ignored", "never received"} {
		if strings.Contains(summary, label) {
			other += summaryNumber(t, summary, label)
		}
	}
	if got := fulfilled + held + failed + inFlight + other; got != created {
		t.Errorf("fulfilled %d + held %d + failed %d + in flight %d + other %d = %d, want the %d created",
			fulfilled, held, failed, inFlight, other, got, created)
	}
	// The demo simulates holds, a stock fallback and supplier errors, none of which may end an
	// order as failed or leave it unfinished.
	if failed != 0 || held != 0 || inFlight != 0 {
		t.Errorf("failed %d, held %d, in flight %d after every order was done; want 0 each", failed, held, inFlight)
	}
	// Every order placed unpaid was held and, once paid, released.
	m := regexp.MustCompile(`\((\d+) placed unpaid, (\d+) of them released after their orders/paid webhook\)`).FindStringSubmatch(summary)
	if m == nil {
		t.Fatalf("summary has no held line with its releases:\n%s", summary)
	}
	if m[1] != m[2] {
		t.Errorf("%s orders placed unpaid but %s released, want all released", m[1], m[2])
	}
	calls := summaryNumber(t, summary, "Shopify API")
	m = regexp.MustCompile(`calls, ([\d.]+) per fulfilled order`).FindStringSubmatch(summary)
	if calls <= 0 || m == nil {
		t.Fatalf("Shopify API calls %d, per fulfilled order %v; want some calls and their rate", calls, m)
	}
	if got, want := m[1], strconv.FormatFloat(float64(calls)/float64(fulfilled), 'f', 1, 64); got != want {
		t.Errorf("Shopify calls per fulfilled order %s, want %d/%d = %s", got, calls, fulfilled, want)
	}
	if !strings.Contains(summary, "dropsync log") {
		t.Errorf("summary does not say where dropsync's log is")
	}

	// Nothing of a customer reaches the terminal.
	var pii []string
	for _, c := range demoCustomers() {
		pii = append(pii, c.last, c.phone, strings.ToLower(c.first)+".")
	}
	pii = append(pii, "Bardstown Road", "Königsallee", "Deansgate", "Queen Street", "rue de la Paix",
		"Piotrkowska", "Marunouchi", "George Street", "@example.com")
	for _, s := range pii {
		if strings.Contains(out, s) {
			t.Errorf("output contains customer data %q", s)
		}
	}
}

func TestDemoFallsBackToEmbeddedRedis(t *testing.T) {
	// Nothing listens on a port that was just closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	cfg := filepath.Join(t.TempDir(), "dropsync.yaml")
	if err := os.WriteFile(cfg, []byte("redis:\n  url: redis://"+dead+"/3\nshops:\n  - domain: ${UNSET_IN_THIS_TEST}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"redis flag", []string{"--redis", "redis://" + dead + "/0"}},
		{"config flag", []string{"--config", cfg}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runDemo(t, 30*time.Second, append(tc.args, "--duration", "1s", "--addr", "127.0.0.1:0")...)
			if err != nil {
				t.Fatalf("demo: %v\n%s", err, out)
			}
			want := fmt.Sprintf("the Redis at %s", dead)
			if !strings.Contains(out, want) || !strings.Contains(out, "does not answer") || !strings.Contains(out, "using an embedded Redis") {
				t.Errorf("output does not explain the fallback from %s:\n%s", dead, out)
			}
			if !strings.Contains(out, "dropsync demo stopped after") {
				t.Errorf("no summary:\n%s", out)
			}
		})
	}
}

func TestDemoRefusesBadFlags(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		name  string
		args  []string
		usage bool   // a usage error (exit status 2)
		want  string // in the message
	}{
		{"zero rate", []string{"--rate", "0"}, true, "--rate"},
		{"negative rate", []string{"--rate", "-2"}, true, "--rate"},
		{"negative duration", []string{"--duration", "-1s"}, true, "--duration"},
		{"negative order count", []string{"--orders", "-1"}, true, "--orders"},
		{"no Shopify budget", []string{"--shopify-rate", "0"}, true, "--shopify-rate"},
		{"stray argument", []string{"now"}, true, "no arguments"},
		{"unknown flag", []string{"--speed", "3"}, true, "speed"},
		{"address in use", []string{"--addr", busy.Addr().String()}, false, "--addr"},
		{"missing config", []string{"--config", filepath.Join(t.TempDir(), "none.yaml"), "--addr", "127.0.0.1:0"}, false, "none.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("TMPDIR", t.TempDir())
			err := cmdDemo(context.Background(), tc.args, io.Discard, io.Discard)
			if err == nil {
				t.Fatalf("demo %v started, want an error", tc.args)
			}
			var ue usageError
			if got := errors.As(err, &ue); got != tc.usage {
				t.Errorf("usage error %v, want %v (%v)", got, tc.usage, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestRedisURLFromConfig(t *testing.T) {
	t.Setenv("DEMO_TEST_REDIS_HOST", "10.0.0.7")
	for _, tc := range []struct {
		name, yaml, want, wantErr string
	}{
		{"plain", "redis:\n  url: redis://127.0.0.1:6380/2\n", "redis://127.0.0.1:6380/2", ""},
		{"from the environment", "redis:\n  url: redis://${DEMO_TEST_REDIS_HOST}:6379/0\n", "redis://10.0.0.7:6379/0", ""},
		{"default", "redis:\n  url: ${DEMO_TEST_UNSET:-redis://127.0.0.1:6390/1}\n", "redis://127.0.0.1:6390/1", ""},
		{"no redis section", "http:\n  addr: 127.0.0.1:9000\n", "redis://127.0.0.1:6379/0", ""},
		{"rest of the config is not the demo's business", "redis:\n  url: redis://127.0.0.1:6379/4\nshops:\n  - domain: ${NOT_SET}\nadmin: {token: short}\n",
			"redis://127.0.0.1:6379/4", ""},
		{"bad url", "redis:\n  url: http://127.0.0.1:6379\n", "", "redis.url"},
		{"not yaml", "redis: [\n", "", "not valid YAML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "dropsync.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := redisURLFromConfig(path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %q, %v; want an error mentioning %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDemoOrdersFollowTheSeed(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	stream := func(seed uint64) string {
		g := newDemoGenerator(rand.New(rand.NewPCG(seed, 1)))
		var b strings.Builder
		for n := range 50 {
			o, plan := g.order(n, now)
			fmt.Fprintf(&b, "%d %s %s %v %v %s|", o.ID, o.Name, o.ShippingAddress.CountryCode, plan.wants, plan.unpaid, o.TotalPrice)
			for _, li := range o.LineItems {
				fmt.Fprintf(&b, " %s×%d", li.SKU, li.Quantity)
			}
			b.WriteString("\n")
		}
		return b.String()
	}
	if a, b := stream(7), stream(7); a != b {
		t.Errorf("seed 7 gave two different order streams:\n%s\n---\n%s", a, b)
	}
	if a, b := stream(7), stream(8); a == b {
		t.Errorf("seeds 7 and 8 gave the same order stream")
	}
}

func TestDemoOrdersKnowTheirSuppliers(t *testing.T) {
	g := newDemoGenerator(rand.New(rand.NewPCG(3, 1)))
	supplierOf := map[string]string{}
	for _, p := range demoProducts() {
		supplierOf[p.sku] = p.supplier
	}
	var lamps, unpaid, notes int
	for n := range 400 {
		o, plan := g.order(n, time.Now())
		want := map[string]bool{}
		hasLamp := false
		for _, li := range o.LineItems {
			switch {
			case li.SKU == demoLampSKU:
				hasLamp = true
			case li.SKU == demoGiftNoteSKU:
				notes++
			default:
				want[supplierOf[li.SKU]] = true
			}
		}
		got := map[string]bool{}
		for _, s := range plan.wants {
			got[s] = true
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || plan.lamp != hasLamp {
			t.Errorf("order %s: wants %v lamp %v, want %v lamp %v", o.Name, plan.wants, plan.lamp, want, hasLamp)
		}
		// A lamp order's other lines come from the lamp's primary supplier, so its fallback
		// never meets a purchase order of the fallback supplier.
		if hasLamp && want["acme"] {
			t.Errorf("order %s has the lamp with acme lines", o.Name)
		}
		if got, want := o.FinancialStatus == "pending", plan.unpaid; got != want {
			t.Errorf("order %s: pending %v, unpaid %v", o.Name, got, want)
		}
		if hasLamp {
			lamps++
		}
		if plan.unpaid {
			unpaid++
		}
	}
	// Every kind of trouble the header promises shows up in a few hundred orders.
	if lamps == 0 || unpaid == 0 || notes == 0 {
		t.Errorf("in 400 orders: %d lamps, %d unpaid, %d gift notes; want some of each", lamps, unpaid, notes)
	}
}
