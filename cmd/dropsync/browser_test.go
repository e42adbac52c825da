package main

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/hibiken/asynq"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/jobs"
)

var dashboardScreenshot = flag.String("dashboard-screenshot", "",
	"write PNGs of the dashboard as TestDashboardInBrowser renders it: the queues to this file, a task list beside it (-tasks.png)")

// chromium finds a Chromium or Chrome binary; "" when none is installed.
func chromium() string {
	if p := os.Getenv("DROPSYNC_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// busyWorld starts dropsync and puts work in all of its queues: an order through the whole
// pipeline leaves tasks in intake (ingest), fulfilment (verify, forward, push) and tracking
// (the suppliers' shipping events); the world polls nothing on a schedule, so a
// reconciliation of the shop stands in for the periodic work of maintenance. It returns once
// every queue has seen its tasks.
func busyWorld(t *testing.T) *world {
	t.Helper()
	w := newWorld(t, worldOpts{})
	const id = 450789470
	if st := w.addOrder(multiSupplierOrder(id), "orders/create"); st != 200 {
		t.Fatalf("webhook status %d, want 200", st)
	}
	w.waitState(id, "forwarded")
	for _, s := range []struct {
		ship func(string) error
		po   string
	}{
		{func(po string) error { return w.acme.Ship(po) }, dropsync.POID(testShop, id, "acme")},
		{func(po string) error { return w.beta.Ship(po) }, dropsync.POID(testShop, id, "beta")},
	} {
		if err := s.ship(s.po); err != nil {
			t.Fatalf("ship %s: %v", s.po, err)
		}
	}
	w.waitState(id, "fulfilled")
	poll, err := jobs.NewShopPollTask(testShop, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.main.Client.Enqueue(poll); err != nil {
		t.Fatalf("enqueue %s: %v", poll.Type(), err)
	}
	inspector := asynq.NewInspectorFromRedisClient(w.main.rdb)
	var last string
	w.eventually("every queue's tasks done", func() bool {
		var b strings.Builder
		done := true
		for _, q := range dropsyncQueues {
			qi, err := inspector.GetQueueInfo(q)
			if err != nil {
				fmt.Fprintf(&b, "%s: %v; ", q, err)
				done = false
				continue
			}
			fmt.Fprintf(&b, "%s: %d completed, %d pending, %d active; ", q, qi.Completed, qi.Pending, qi.Active)
			if qi.Completed == 0 || qi.Pending+qi.Active+qi.Scheduled+qi.Retry > 0 {
				done = false
			}
		}
		last = b.String()
		return done
	}, func() string { return last })
	return w
}

// dropsyncQueues are the queues the dashboard must show.
var dropsyncQueues = []string{jobs.QueueIntake, jobs.QueueFulfilment, jobs.QueueTracking, jobs.QueueMaintenance}

// TestOperationsEndpoints checks what an operator's tools read besides the browser: /metrics
// carries asynq's queue metrics (with the values asynq itself reports) and dropsync's own,
// and /monitoring leads to the dashboard.
func TestOperationsEndpoints(t *testing.T) {
	w := busyWorld(t)
	inspector := asynq.NewInspectorFromRedisClient(w.main.rdb)
	resp, err := httpClient.Get(w.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics status %d: %s", resp.StatusCode, body)
	}
	metrics := string(body)
	var want []string
	for _, q := range dropsyncQueues {
		qi, err := inspector.GetQueueInfo(q)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want,
			fmt.Sprintf(`asynq_queue_size{queue=%q} %d`, q, qi.Size),
			fmt.Sprintf(`asynq_tasks_enqueued_total{queue=%q,state="completed"} %d`, q, qi.Completed),
			fmt.Sprintf(`asynq_queue_paused_total{queue=%q} 0`, q),
			fmt.Sprintf(`asynq_tasks_processed_total{queue=%q} %d`, q, qi.ProcessedTotal),
		)
	}
	want = append(want,
		`dropsync_webhooks_received_total{outcome="queued",topic="orders/create"} 1`,
		`dropsync_purchase_orders_forwarded_total{outcome="accepted",supplier="acme"} 1`,
		`dropsync_purchase_orders_forwarded_total{outcome="accepted",supplier="beta"} 1`,
		fmt.Sprintf(`dropsync_orders{shop=%q,state="fulfilled"} 1`, testShop),
		"dropsync_order_to_fulfillment_seconds_count 1",
	)
	for _, line := range want {
		if !strings.Contains(metrics, "\n"+line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", grepLines(metrics, "asynq_", "dropsync_"))
	}

	// /monitoring (no slash) leads to the dashboard, which still wants the token.
	noFollow := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err = noFollow.Get(w.base + "/monitoring")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got, want := resp.StatusCode, http.StatusMovedPermanently; got != want {
		t.Errorf("GET /monitoring status %d, want %d", got, want)
	}
	if got, want := resp.Header.Get("Location"), "/monitoring/"; got != want {
		t.Errorf("GET /monitoring Location %q, want %q", got, want)
	}
}

// grepLines keeps the lines of s that start with one of the prefixes.
func grepLines(s string, prefixes ...string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "\n")
}

// TestDashboardInBrowser loads the dashboard in headless Chromium the way an operator would:
// with the admin token as the basic-auth password. The page must render dropsync's queues
// and must not show the customer's data in the task payloads.
func TestDashboardInBrowser(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("no Chromium to run the dashboard browser test: install Debian's chromium package (apt-get install -y chromium) or set DROPSYNC_CHROMIUM")
	}
	w := busyWorld(t)
	queues := dropsyncQueues

	// Without the token the dashboard shows nothing, page or API.
	for _, path := range []string{"/monitoring/", "/monitoring/api/queues", "/monitoring/static/js/main.5adda2da.chunk.js"} {
		resp, err := httpClient.Get(w.base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: status %d, want 401", path, resp.StatusCode)
		}
		if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic") {
			t.Errorf("GET %s without the token: WWW-Authenticate %q, want Basic", path, got)
		}
		if !strings.Contains(string(body), `"unauthorized"`) {
			t.Errorf("GET %s without the token: body %q, want the JSON error", path, body)
		}
	}

	ctx := browser(t, bin)
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("operator:"+testAdminToken))
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("start Chromium (%s): %v", bin, err)
	}
	if _, err := chromedp.Call(ctx, network.SetExtraHTTPHeaders,
		network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": auth}}); err != nil {
		t.Fatal(err)
	}

	// The home page lists the queues once the UI has read them from its API.
	if err := chromedp.Do(ctx, chromedp.Navigate(w.base+"/monitoring/")); err != nil {
		t.Fatalf("open /monitoring/: %v", err)
	}
	text := waitText(t, ctx, "the queue list", func(text string) bool {
		for _, q := range queues {
			if !strings.Contains(text, q) {
				return false
			}
		}
		return true
	})
	if strings.Contains(text, "unauthorized") {
		t.Errorf("the dashboard shows an auth error:\n%s", text)
	}
	screenshot(t, ctx, *dashboardScreenshot)

	// A task list shows payloads: structure and ids, never the customer.
	if err := chromedp.Do(ctx, chromedp.Navigate(w.base+"/monitoring/queues/intake?status=completed")); err != nil {
		t.Fatalf("open the intake queue: %v", err)
	}
	text = waitText(t, ctx, "the completed ingest tasks", func(text string) bool {
		return strings.Contains(text, jobs.TypeOrderIngest) && strings.Contains(text, "[redacted]")
	})
	for _, pii := range []string{"Zoë", "Müller", "zoe.mueller@example.com", "5550123", "Königsallee", "Düsseldorf", "40212"} {
		if strings.Contains(text, pii) {
			t.Errorf("the dashboard shows customer data %q:\n%s", pii, text)
		}
	}
	if !strings.Contains(text, testShop) {
		t.Errorf("the intake task list does not show the shop %s:\n%s", testShop, text)
	}
	if *dashboardScreenshot != "" {
		screenshot(t, ctx, strings.TrimSuffix(*dashboardScreenshot, ".png")+"-tasks.png")
	}
}

// screenshot writes a PNG of the page to path; "" writes nothing.
func screenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	if path == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// browser starts a headless Chromium that lives until the test ends. The machine may have no
// network: everything Chromium would fetch on its own (updates, sync, field trials) is off.
func browser(t *testing.T, bin string) context.Context {
	t.Helper()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	return ctx
}

// waitText waits until the page's visible text satisfies ok and returns it.
func waitText(t *testing.T, ctx context.Context, what string, ok func(string) bool) string {
	t.Helper()
	var text string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var err error
		text, err = chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		if err == nil && ok(text) {
			return text
		}
		time.Sleep(100 * time.Millisecond)
	}
	html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML.slice(0, 4000)`))
	t.Fatalf("timed out waiting for %s; page text:\n%s\nhtml:\n%s", what, text, html)
	return ""
}
