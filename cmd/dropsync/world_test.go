package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/connectors/shopify/shopifytest"
	"github.com/dropsync/dropsync/connectors/supplier/http/suppliertest"
	"github.com/dropsync/dropsync/internal/config"
	"github.com/dropsync/dropsync/internal/httpapi"
	"github.com/dropsync/dropsync/internal/redistest"
	"github.com/dropsync/dropsync/jobs"
)

const (
	testShop          = "e2e-store.myshopify.com"
	testWebhookSecret = "shpss_e2e_webhook_secret"
	testAdminToken    = "e2e-admin-token-0123456789"
	acmeSecret        = "acme-webhook-secret"
	betaSecret        = "beta-webhook-secret"
)

// world is a running dropsync against real Redis, a fake Shopify and two fake suppliers.
type world struct {
	t       *testing.T
	main    *Main
	shopify *shopifytest.Server
	acme    *suppliertest.Server
	beta    *suppliertest.Server
	base    string
	logs    *bytes.Buffer
	// configPath is the config as a file, for CLI commands.
	configPath string
	// offset moves dropsync's clock (not the fakes'): see later.
	mu     sync.Mutex
	offset time.Duration
}

// now is dropsync's clock in the world.
func (w *world) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return time.Now().Add(w.offset)
}

// later moves dropsync's clock forward by d.
func (w *world) later(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.offset += d
}

type worldOpts struct {
	mappings  string // CSV rows after the header
	extraYAML string
	rules     string
	shopLimit string // e.g. "{bucket_size: 20, leak_rate: 10}"
	// noSupplierWebhooks makes the suppliers' events never arrive (only polling finds parcels).
	noSupplierWebhooks bool
	// extraSuppliers are more entries of the suppliers list (YAML, indented as list items).
	extraSuppliers string
	// retentionDays is retention.orders_days; 0 keeps orders forever, so fixtures with fixed
	// dates stay valid whatever day the tests run.
	retentionDays int
	acmeItems     map[string]suppliertest.Item
	betaItems     map[string]suppliertest.Item
}

const defaultMappings = `e2e-store.myshopify.com,TSHIRT-RED-M,acme,ACME-TS-R-M,4.20,USD,1,1,
e2e-store.myshopify.com,MUG-SET,beta,BETA-MUG,3.10,USD,1,1,
e2e-store.myshopify.com,MUG-SET,beta,BETA-LID,0.90,USD,1,1,
e2e-store.myshopify.com,SOCKS-3PK,acme,ACME-SOCK,1.00,USD,3,1,
`

func newWorld(t *testing.T, o worldOpts) *world {
	t.Helper()
	return newWorldAt(t, "127.0.0.1:0", o)
}

// newWorldAt is newWorld listening on addr (for fakes that must know it beforehand).
func newWorldAt(t *testing.T, addr string, o worldOpts) *world {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	w := &world{t: t, base: base, logs: &bytes.Buffer{}}
	w.shopify = shopifytest.NewServer(shopifytest.Options{Shop: testShop, AccessToken: "shpat_e2e"})
	t.Cleanup(w.shopify.Close)
	if o.acmeItems == nil {
		o.acmeItems = map[string]suppliertest.Item{
			"ACME-TS-R-M": {Available: 100, UnitCost: "4.20", Currency: "USD"},
			"ACME-SOCK":   {Available: 100, UnitCost: "1.00", Currency: "USD"},
		}
	}
	if o.betaItems == nil {
		o.betaItems = map[string]suppliertest.Item{
			"BETA-MUG": {Available: 100, UnitCost: "3.10", Currency: "USD"},
			"BETA-LID": {Available: 100, UnitCost: "0.90", Currency: "USD"},
		}
	}
	hook := func(id string) string {
		if o.noSupplierWebhooks {
			return ""
		}
		return base + "/webhooks/suppliers/" + id
	}
	w.acme = suppliertest.NewServer(suppliertest.Options{Token: "acme-token", Catalog: o.acmeItems,
		WebhookURL: hook("acme"), WebhookSecret: acmeSecret, Prefix: "ACME"})
	t.Cleanup(w.acme.Close)
	w.beta = suppliertest.NewServer(suppliertest.Options{Token: "beta-token", Catalog: o.betaItems,
		WebhookURL: hook("beta"), WebhookSecret: betaSecret, Prefix: "BETA"})
	t.Cleanup(w.beta.Close)

	dir := t.TempDir()
	mappings := o.mappings
	if mappings == "" {
		mappings = defaultMappings
	}
	csvPath := filepath.Join(dir, "mappings.csv")
	if err := os.WriteFile(csvPath, []byte("shop,sku,supplier,supplier_sku,unit_cost,currency,quantity,priority,countries\n"+mappings), 0o600); err != nil {
		t.Fatal(err)
	}
	rules := o.rules
	if rules == "" {
		rules = "rules:\n  require_paid: true\n  hold_risk: high\n"
	}
	shopLimit := o.shopLimit
	if shopLimit == "" {
		shopLimit = "{bucket_size: 40, leak_rate: 2}"
	}
	yaml := fmt.Sprintf(`redis:
  url: %s
http:
  addr: 127.0.0.1:0
admin:
  token: %s
log:
  level: debug
  format: json
shops:
  - domain: %s
    access_token: shpat_e2e
    webhook_secret: %s
    api_version: "2026-01"
    api_base_url: %s
    poll_interval: 0
    store_name: E2E Store
    rate_limit: %s
suppliers:
  - id: acme
    kind: http
    base_url: %s
    token: acme-token
    webhook_secret: %s
    poll_interval: 0
  - id: beta
    kind: http
    base_url: %s
    token: beta-token
    webhook_secret: %s
    poll_interval: 0
%smappings_file: %s
retention: {orders_days: %d}
%s%s`, redistest.URL(t), testAdminToken, testShop, testWebhookSecret, w.shopify.URL(), shopLimit,
		w.acme.URL(), acmeSecret, w.beta.URL(), betaSecret, o.extraSuppliers, csvPath, o.retentionDays, rules, o.extraYAML)
	cfg, err := config.Parse([]byte(yaml), nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	w.configPath = filepath.Join(dir, "dropsync.yaml")
	if err := os.WriteFile(w.configPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	// Workers log from many goroutines: the writers are serialised.
	log := zerolog.New(zerolog.SyncWriter(zerolog.MultiLevelWriter(w.logs, zerolog.ConsoleWriter{Out: testWriter{t}, NoColor: true}))).
		Level(zerolog.DebugLevel).With().Timestamp().Logger()
	m := NewMain(cfg, ModeRun, log)
	m.Now = w.now
	m.Listener = ln
	m.ShutdownTimeout = 5 * time.Second
	m.TaskCheckInterval = 20 * time.Millisecond
	m.DelayedTaskCheck = 200 * time.Millisecond
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("start dropsync: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	w.main = m
	return w
}

// testWriter sends log lines to t.Log so they show only for failing tests.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// addOrder creates an order at the fake Shopify and delivers topic for it; it returns the
// delivery's status.
func (w *world) addOrder(o shopifytest.Order, topic string) int {
	w.t.Helper()
	w.shopify.AddOrder(o)
	return w.deliver(topic, w.shopify.OrderJSON(o.ID), "")
}

// deliver posts a signed webhook; webhookID "" makes a fresh one.
func (w *world) deliver(topic string, body []byte, webhookID string) int {
	w.t.Helper()
	var resp *http.Response
	var err error
	if webhookID == "" {
		resp, err = w.shopify.Deliver(context.Background(), w.base+"/webhooks/shopify", topic, testWebhookSecret, body)
	} else {
		resp, err = w.shopify.DeliverWithID(context.Background(), w.base+"/webhooks/shopify", topic, testWebhookSecret, webhookID, body)
	}
	if err != nil {
		w.t.Fatalf("deliver %s: %v", topic, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// waitDelivered waits until dropsync has handled the Shopify webhook delivered with the id:
// its ingest task has completed.
func (w *world) waitDelivered(webhookID string) {
	w.t.Helper()
	w.waitTask(jobs.QueueIntake, "ingest:"+testShop+":wh:"+webhookID)
}

// api calls the admin API and decodes the JSON reply into out (when not nil).
func (w *world) api(method, path string, body io.Reader, out any) int {
	w.t.Helper()
	req, _ := http.NewRequest(method, w.base+path, body)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			w.t.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

func (w *world) order(id int64) httpapi.OrderView {
	w.t.Helper()
	var v httpapi.OrderView
	if st := w.api("GET", fmt.Sprintf("/api/v1/shops/%s/orders/%d", testShop, id), nil, &v); st != 200 {
		w.t.Fatalf("GET order %d: status %d", id, st)
	}
	return v
}

// waitState waits until the order reaches the state.
func (w *world) waitState(id int64, state string) httpapi.OrderView {
	w.t.Helper()
	var v httpapi.OrderView
	w.eventually(fmt.Sprintf("order %d in state %s", id, state), func() bool {
		st := w.api("GET", fmt.Sprintf("/api/v1/shops/%s/orders/%d", testShop, id), nil, &v)
		return st == 200 && string(v.State) == state
	}, func() string {
		return fmt.Sprintf("last state %s (%s), timeline %v", v.State, v.HoldReason, v.Timeline)
	})
	return v
}

func (w *world) eventually(what string, cond func() bool, last func() string) {
	w.t.Helper()
	// Generous: a loaded CI machine runs other packages' tests beside these.
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	msg := ""
	if last != nil {
		msg = last()
	}
	w.t.Fatalf("timed out waiting for %s; %s", what, msg)
}

// waitTask waits until dropsync has run the asynq task with the id in the queue: finished
// tasks stay in the queue's completed set for their retention, so a task that ran before the
// wait began is seen too. It is the barrier for "dropsync has handled this delivery", which
// a sleep only guesses at.
func (w *world) waitTask(queue, id string) {
	w.t.Helper()
	insp := asynq.NewInspectorFromRedisClient(w.main.Store.Client())
	last := "not enqueued"
	w.eventually(fmt.Sprintf("task %s in queue %s completed", id, queue), func() bool {
		info, err := insp.GetTaskInfo(queue, id)
		if err != nil {
			last = err.Error()
			return false
		}
		last = info.State.String()
		if info.LastErr != "" {
			last += " (last error: " + info.LastErr + ")"
		}
		if info.State == asynq.TaskStateArchived {
			w.t.Fatalf("task %s in queue %s was archived: %s", id, queue, last)
		}
		return info.State == asynq.TaskStateCompleted
	}, func() string { return "last seen " + last })
}

// waitIdle waits until no queue holds a task that is pending, running, scheduled or due for
// a retry. Every task enqueues its follow-ups before it completes, so once what a test set
// off (a delivery answered, a task completed) has been enqueued, an idle dropsync has
// finished everything it led to.
func (w *world) waitIdle() {
	w.t.Helper()
	insp := asynq.NewInspectorFromRedisClient(w.main.Store.Client())
	busy := ""
	w.eventually("every queue idle", func() bool {
		queues, err := insp.Queues()
		if err != nil {
			busy = err.Error()
			return false
		}
		for _, q := range queues {
			info, err := insp.GetQueueInfo(q)
			if err != nil {
				busy = err.Error()
				return false
			}
			if n := info.Pending + info.Active + info.Scheduled + info.Retry; n > 0 {
				busy = fmt.Sprintf("queue %s: %d pending, %d active, %d scheduled, %d retry",
					q, info.Pending, info.Active, info.Scheduled, info.Retry)
				return false
			}
		}
		return true
	}, func() string { return busy })
}

// trackingRuns counts the po:tracking tasks about the purchase order that have completed
// (they keep no fixed id, since a supplier's events may repeat, so the queue's completed
// tasks are read; they stay there for their one-minute retention).
func (w *world) trackingRuns(poID string) int {
	w.t.Helper()
	insp := asynq.NewInspectorFromRedisClient(w.main.Store.Client())
	tasks, err := insp.ListCompletedTasks(jobs.QueueTracking, asynq.PageSize(1000))
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		w.t.Fatalf("list completed tracking tasks: %v", err)
	}
	n := 0
	for _, ti := range tasks {
		var pl jobs.TrackingPayload
		if ti.Type != jobs.TypePOTracking || json.Unmarshal(ti.Payload, &pl) != nil {
			continue
		}
		ev := pl.Event
		if ev.Ref.ExternalID == poID || (ev.Order != nil && ev.Order.ExternalID == poID) {
			n++
		}
	}
	return n
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

func newWebhookRequest(base, topic, shop, hmac string, body []byte) (*http.Request, error) {
	req, err := http.NewRequest("POST", base+"/webhooks/shopify", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Topic", topic)
	req.Header.Set("X-Shopify-Shop-Domain", shop)
	req.Header.Set("X-Shopify-Webhook-Id", fmt.Sprintf("wh-%d", time.Now().UnixNano()))
	if hmac != "" {
		req.Header.Set("X-Shopify-Hmac-Sha256", hmac)
	}
	return req, nil
}

func mustParseURL(t *testing.T, u string) *redis.Options {
	t.Helper()
	o, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// raw returns an admin API reply's body as text (failing on a non-200 status).
func (w *world) raw(method, path string) string {
	w.t.Helper()
	return w.rawAccept(method, path, "")
}

// rawAccept is raw with an Accept header.
func (w *world) rawAccept(method, path, accept string) string {
	w.t.Helper()
	req, _ := http.NewRequest(method, w.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		w.t.Fatalf("%s %s: status %d: %s", method, path, resp.StatusCode, b)
	}
	return string(b)
}
