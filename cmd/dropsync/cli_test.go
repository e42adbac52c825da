package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/connectors/shopify/shopifytest"
	"github.com/dropsync/dropsync/internal/config"
	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/redisstore"
	"github.com/dropsync/dropsync/internal/redistest"
	"github.com/dropsync/dropsync/jobs"
)

// When a supplier's events never arrive, the tracking poll finds the parcels.
func TestSupplierPollFindsParcelsWithoutWebhooks(t *testing.T) {
	w := newWorld(t, worldOpts{noSupplierWebhooks: true})
	const id = 9201
	w.addOrder(simpleOrder(id), "orders/create")
	w.waitState(id, "forwarded")
	// Ship would have delivered an event before returning; with none sent, nothing is queued
	// that could move the order, and whatever was queued before has run once dropsync is idle.
	must(t, w.acme.Ship(dropsync.POID(testShop, id, "acme")))
	w.waitIdle()
	if v := w.order(id); v.State != "forwarded" {
		t.Fatalf("state %s before any poll, want forwarded", v.State)
	}
	task, err := jobs.NewSupplierPollTask("acme", 1)
	must(t, err)
	if _, err := w.main.Client.Enqueue(task); err != nil {
		t.Fatal(err)
	}
	w.waitState(id, "fulfilled")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// `dropsync run` serves until its context ends (SIGINT/SIGTERM in main) and then stops
// cleanly; `check-config` lists every problem by key.
func TestRunStopsGracefullyAndCheckConfig(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := fmt.Sprintf(`redis: {url: %s}
http: {addr: %s}
admin: {token: cli-test-admin-token-0123}
log: {format: json, level: warn}
shops:
  - domain: cli-test.myshopify.com
    access_token: ${CLI_TEST_TOKEN:-shpat_x}
    webhook_secret: secret
    poll_interval: 0
`, redistest.URL(t), addr)
	path := filepath.Join(dir, "dropsync.yaml")
	must(t, os.WriteFile(path, []byte(cfg), 0o600))

	var out, errb bytes.Buffer
	if err := runCommand(context.Background(), []string{"check-config", "--config", path}, &out, &errb); err != nil {
		t.Fatalf("check-config: %v", err)
	}
	if !strings.Contains(out.String(), "is valid") || strings.Contains(out.String(), "shpat_x") {
		t.Fatalf("check-config output:\n%s", out.String())
	}
	bad := filepath.Join(dir, "bad.yaml")
	must(t, os.WriteFile(bad, []byte("redis: {url: http://x}\nadmin: {token: short}\nshops:\n  - domain: nope\n    access_token: sekrit-value\n"), 0o600))
	err := runCommand(context.Background(), []string{"check-config", "--config", bad}, &out, &errb)
	if err == nil {
		t.Fatal("a bad config passed check-config")
	}
	for _, key := range []string{"redis.url", "admin.token", "shops[0].domain", "shops[0].webhook_secret"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("check-config does not name %s:\n%v", key, err)
		}
	}
	if strings.Contains(err.Error(), "sekrit-value") {
		t.Errorf("check-config printed a secret")
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runCommand(ctx, []string{"run", "--config", path}, &out, &errb) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dropsync run never answered /healthz: %v\n%s", err, errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel() // what SIGTERM does
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run returned %v after a stop signal", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop after a stop signal")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Fatal("still serving after it stopped")
	}
}

// A `work` process serves only its probe: health, readiness and its own metrics.
func TestWorkProcessServesItsProbe(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := fmt.Sprintf(`redis: {url: %s}
admin: {token: cli-test-admin-token-0123}
log: {format: json, level: warn}
workers: {metrics_addr: %s}
`, redistest.URL(t), addr)
	path := filepath.Join(dir, "dropsync.yaml")
	must(t, os.WriteFile(path, []byte(cfg), 0o600))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out, errb bytes.Buffer
	go func() { done <- runCommand(ctx, []string{"work", "--config", path}, &out, &errb) }()
	defer func() { cancel(); <-done }()
	var status = func(p string) int {
		resp, err := http.Get("http://" + addr + p)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(10 * time.Second)
	for status("/readyz") != 200 {
		if time.Now().After(deadline) {
			t.Fatalf("work probe never ready: %s", errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st := status("/metrics"); st != 200 {
		t.Errorf("/metrics: %d", st)
	}
	if st := status("/api/v1/shops/x.myshopify.com/orders"); st != 404 {
		t.Errorf("admin API on a work process: %d, want 404", st)
	}
}

// The mappings file is loaded at start when it changed; an unchanged file leaves what the
// API changed since; a bad file changes nothing.
func TestMappingsFileLoadedWhenChanged(t *testing.T) {
	cfg, err := config.Parse([]byte(`admin: {token: cli-test-admin-token-0123}
shops:
  - {domain: a.myshopify.com, access_token: x, webhook_secret: y}
  - {domain: b.myshopify.com, access_token: x, webhook_secret: y}
suppliers:
  - {id: acme, kind: http, base_url: "http://127.0.0.1:1", token: t, webhook_secret: s}
`), nil)
	must(t, err)
	store := redisstore.New(redistest.Client(t), nil)
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "m.csv")
	header := "shop,sku,supplier,supplier_sku,unit_cost,currency,quantity,priority,countries\n"
	write := func(body string) { must(t, os.WriteFile(file, []byte(header+body), 0o600)) }
	count := func(shop string) int {
		rows, err := store.Mappings(ctx, shop)
		must(t, err)
		return len(rows)
	}
	log := zerolog.Nop()
	must(t, func() error {
		_, err := store.ReplaceMappings(ctx, "b.myshopify.com", []dropsync.Mapping{{Shop: "b.myshopify.com", SKU: "KEEP", Supplier: "acme", SupplierSKU: "K", Quantity: 1, Priority: 1, Currency: "USD"}})
		return err
	}())

	write("a.myshopify.com,A,acme,ACME-A,1.00,USD,1,1,\n")
	must(t, loadMappingsFile(ctx, store, cfg, file, log))
	if count("a.myshopify.com") != 1 || count("b.myshopify.com") != 1 {
		t.Fatalf("after the first load: a %d rows, b %d rows; want 1 and b untouched", count("a.myshopify.com"), count("b.myshopify.com"))
	}
	// The merchant changes shop a through the API; a restart with the same file keeps that.
	_, err = store.ReplaceMappings(ctx, "a.myshopify.com", nil)
	must(t, err)
	must(t, loadMappingsFile(ctx, store, cfg, file, log))
	if count("a.myshopify.com") != 0 {
		t.Fatalf("an unchanged file undid the API's change")
	}
	// A bad file stops the start and changes nothing.
	write("a.myshopify.com,A,acme,ACME-A,1.00,USD,-1,1,\n")
	if err := loadMappingsFile(ctx, store, cfg, file, log); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("bad file: %v, want an error naming line 2", err)
	}
	// An edited file is loaded again.
	write("a.myshopify.com,A,acme,ACME-A,1.00,USD,1,1,\na.myshopify.com,B,acme,ACME-B,1.00,USD,2,1,\n")
	must(t, loadMappingsFile(ctx, store, cfg, file, log))
	if count("a.myshopify.com") != 2 {
		t.Fatalf("an edited file was not loaded: %d rows", count("a.myshopify.com"))
	}
}

// The sweep deletes finished orders older than retention.orders_days; their invoices stay.
func TestSweepDeletesExpiredOrders(t *testing.T) {
	w := newWorld(t, worldOpts{retentionDays: 1})
	const old, fresh = 9401, 9402
	w.addOrder(simpleOrder(old, shopifytest.WithCreatedAt(time.Now())), "orders/create")
	w.waitState(old, "forwarded")
	must(t, w.acme.Ship(dropsync.POID(testShop, old, "acme")))
	w.waitState(old, "fulfilled")
	var number string
	w.eventually("invoice", func() bool {
		if n := w.order(old).InvoiceNumber; n != nil {
			number = *n
		}
		return number != ""
	}, nil)

	w.later(72 * time.Hour) // three days on
	w.addOrder(simpleOrder(fresh, shopifytest.WithCreatedAt(time.Now().Add(72*time.Hour))), "orders/create")
	w.waitState(fresh, "forwarded")
	task, err := jobs.NewShopSweepTask(testShop, 1)
	must(t, err)
	if _, err := w.main.Client.Enqueue(task); err != nil {
		t.Fatal(err)
	}
	w.eventually("expired order deleted", func() bool {
		return w.api("GET", fmt.Sprintf("/api/v1/shops/%s/orders/%d", testShop, old), nil, nil) == 404
	}, nil)
	if st := w.api("GET", fmt.Sprintf("/api/v1/shops/%s/orders/%d", testShop, fresh), nil, nil); st != 200 {
		t.Fatalf("a recent order was deleted: %d", st)
	}
	if st := w.api("GET", "/api/v1/invoices/"+number, nil, nil); st != 200 {
		t.Fatalf("the deleted order's invoice is gone: %d", st)
	}
	// An update of the deleted order does not bring it back (nor forward it again).
	w.deliver("orders/updated", w.shopify.OrderJSON(old), "wh-after-sweep")
	w.waitDelivered("wh-after-sweep")
	w.waitIdle()
	if st := w.api("GET", fmt.Sprintf("/api/v1/shops/%s/orders/%d", testShop, old), nil, nil); st != 404 {
		t.Fatalf("an update brought the deleted order back: %d", st)
	}
	if w.acme.Created() != 2 {
		t.Fatalf("acme has %d orders, want 2", w.acme.Created())
	}
	// A data request still finds the invoice of the deleted order, whose email is gone.
	so, _ := w.shopify.Order(old)
	w.deliver("customers/data_request", []byte(fmt.Sprintf(
		`{"customer":{"id":%d,"email":%q},"orders_requested":[],"data_request":{"id":4242}}`, so.Customer.ID, so.Email)), "")
	var exp struct {
		Invoices []string `json:"invoice_numbers"`
	}
	w.eventually("data export", func() bool {
		return w.api("GET", "/api/v1/shops/"+testShop+"/data-requests/4242", nil, &exp) == 200
	}, nil)
	if len(exp.Invoices) != 1 || exp.Invoices[0] != number {
		t.Fatalf("export lists invoices %v, want [%s]", exp.Invoices, number)
	}
	if inv := w.raw("GET", "/api/v1/invoices/"+number); strings.Contains(inv, so.Email) {
		t.Fatalf("the invoice of a deleted order still holds the buyer's email")
	}
}
