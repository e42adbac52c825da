package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dropsync/dropsync/connectors/shopify/shopifytest"
	"github.com/dropsync/dropsync/connectors/supplier/http/suppliertest"
	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/jobs"
)

// poll runs one reconciliation of the shop now, as the scheduler would each poll_interval.
func (w *world) poll(period int64) {
	w.t.Helper()
	task, err := jobs.NewShopPollTask(testShop, period)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.main.Client.Enqueue(task); err != nil {
		w.t.Fatal(err)
	}
}

// waitPolled waits until the reconciliation of the period has run.
func (w *world) waitPolled(period int64) {
	w.t.Helper()
	w.waitTask(jobs.QueueMaintenance, fmt.Sprintf("shoppoll:%s:%d", testShop, period))
}

func simpleOrder(id int64, opts ...shopifytest.OrderOption) shopifytest.Order {
	opts = append([]shopifytest.OrderOption{shopifytest.WithLines(
		shopifytest.LineSpec{SKU: "TSHIRT-RED-M", VariantID: 11, Quantity: 1, Price: d("19.90")},
	)}, opts...)
	return shopifytest.SampleOrder(id, opts...)
}

// Half the webhooks never arrive; the reconciler still forwards every order exactly once.
func TestReconcilerCatchesDroppedWebhooks(t *testing.T) {
	w := newWorld(t, worldOpts{})
	const n = 20
	for i := int64(1); i <= n; i++ {
		o := simpleOrder(1000+i, shopifytest.WithCreatedAt(time.Now().Add(-10*time.Minute)))
		w.shopify.AddOrder(o)
		if i%2 == 0 { // every other webhook is lost
			w.deliver("orders/create", w.shopify.OrderJSON(o.ID), "")
		}
	}
	start := time.Now()
	w.poll(1)
	w.poll(2) // a second period re-reads the overlap: nothing may happen twice
	for i := int64(1); i <= n; i++ {
		w.waitState(1000+i, "forwarded")
	}
	t.Logf("reconciliation caught %d missed orders %s after the poll", n/2, time.Since(start).Round(time.Millisecond))
	// A third period finds nothing new: once its poll and whatever it enqueued have run, no
	// order was placed twice.
	w.poll(3)
	w.waitPolled(3)
	w.waitIdle()
	if got := w.acme.Created(); got != n {
		t.Fatalf("acme created %d supplier orders, want exactly %d", got, n)
	}
	for i := int64(1); i <= n; i++ {
		po := dropsync.POID(testShop, 1000+i, "acme")
		if _, ok := w.acme.Order(po); !ok {
			t.Errorf("order %d never reached acme", 1000+i)
		}
	}
}

// Out-of-order and duplicate order events: an older orders/updated never overwrites a newer one.
func TestOutOfOrderAndDuplicateEvents(t *testing.T) {
	w := newWorld(t, worldOpts{})
	const id = 2001
	o := simpleOrder(id, shopifytest.WithFinancialStatus("pending"))
	w.shopify.AddOrder(o)
	pendingBody := w.shopify.OrderJSON(id)
	w.shopify.UpdateOrder(id, func(o *shopifytest.Order) { o.FinancialStatus = "paid" })
	paidBody := w.shopify.OrderJSON(id)

	// The newer "paid" version arrives first, then the stale "pending" one, twice.
	w.deliver("orders/paid", paidBody, "")
	w.waitState(id, "forwarded")
	w.deliver("orders/create", pendingBody, "wh-stale-1")
	w.deliver("orders/create", pendingBody, "wh-stale-2")
	w.waitDelivered("wh-stale-1")
	w.waitDelivered("wh-stale-2")
	w.waitIdle()
	v := w.order(id)
	if v.State != "forwarded" || v.FinancialState != "paid" {
		t.Fatalf("after a stale event: state %s financial %s, want forwarded/paid", v.State, v.FinancialState)
	}
	if w.acme.Created() != 1 {
		t.Fatalf("acme created %d orders, want 1", w.acme.Created())
	}
}

// An unpaid order is held; orders/paid releases it.
func TestHeldUntilPaid(t *testing.T) {
	w := newWorld(t, worldOpts{})
	const id = 2101
	o := simpleOrder(id, shopifytest.WithFinancialStatus("pending"))
	w.addOrder(o, "orders/create")
	v := w.waitState(id, "held")
	if !strings.Contains(v.HoldReason, "payment") {
		t.Fatalf("hold reason %q, want a payment hold", v.HoldReason)
	}
	if w.acme.PlaceCount() != 0 {
		t.Fatalf("a held order reached the supplier")
	}
	w.shopify.UpdateOrder(id, func(o *shopifytest.Order) { o.FinancialStatus = "paid" })
	w.deliver("orders/paid", w.shopify.OrderJSON(id), "")
	w.waitState(id, "forwarded")
}

func TestCancellation(t *testing.T) {
	t.Run("before forwarding", func(t *testing.T) {
		w := newWorld(t, worldOpts{})
		const id = 3001
		o := simpleOrder(id, shopifytest.WithFinancialStatus("pending"))
		w.addOrder(o, "orders/create")
		w.waitState(id, "held")
		w.shopify.CancelOrder(id, "customer")
		w.deliver("orders/cancelled", w.shopify.OrderJSON(id), "")
		w.waitState(id, "cancelled")
		if _, ok := w.acme.Order(dropsync.POID(testShop, id, "acme")); ok {
			t.Fatal("a cancelled order reached the supplier")
		}
	})
	t.Run("after forwarding", func(t *testing.T) {
		w := newWorld(t, worldOpts{})
		const id = 3002
		w.addOrder(multiSupplierOrder(id), "orders/create")
		w.waitState(id, "forwarded")
		w.shopify.CancelOrder(id, "customer")
		w.deliver("orders/cancelled", w.shopify.OrderJSON(id), "")
		v := w.waitState(id, "cancelled")
		for _, po := range v.PurchaseOrders {
			if po.State != dropsync.POCancelled {
				t.Errorf("purchase order %s is %s, want cancelled", po.ID, po.State)
			}
		}
		ao, _ := w.acme.Order(dropsync.POID(testShop, id, "acme"))
		bo, _ := w.beta.Order(dropsync.POID(testShop, id, "beta"))
		if ao.Status != "cancelled" || bo.Status != "cancelled" {
			t.Fatalf("supplier orders: acme %s, beta %s; want both cancelled", ao.Status, bo.Status)
		}
	})
	t.Run("after a parcel shipped", func(t *testing.T) {
		w := newWorld(t, worldOpts{})
		const id = 3003
		w.addOrder(multiSupplierOrder(id), "orders/create")
		w.waitState(id, "forwarded")
		if err := w.acme.Ship(dropsync.POID(testShop, id, "acme")); err != nil {
			t.Fatal(err)
		}
		w.waitState(id, "partially_shipped")
		w.shopify.CancelOrder(id, "customer")
		w.deliver("orders/cancelled", w.shopify.OrderJSON(id), "")
		var v = w.order(id)
		w.eventually("cancel notice", func() bool { v = w.order(id); return v.CancelNotice != "" },
			func() string { return fmt.Sprintf("state %s, timeline %v", v.State, v.Timeline) })
		if v.State == "cancelled" {
			t.Fatalf("order with a shipped parcel became cancelled")
		}
		bo, _ := w.beta.Order(dropsync.POID(testShop, id, "beta"))
		if bo.Status != "cancelled" {
			t.Errorf("unshipped beta purchase order is %s, want cancelled", bo.Status)
		}
		if len(v.Notices) == 0 {
			t.Errorf("cancellation after shipping is not surfaced in notices")
		}
		// The shipped parcel is recorded: as a fulfillment when it was pushed before the
		// storefront closed the order, else with a note saying why it could not be.
		w.eventually("shipped parcel recorded", func() bool {
			v = w.order(id)
			for _, po := range v.PurchaseOrders {
				for _, sh := range po.Shipments {
					if sh.Pushed && (sh.FulfillmentID != 0 || sh.Note != "") {
						return true
					}
				}
			}
			return false
		}, func() string { return fmt.Sprintf("%+v", v.PurchaseOrders) })
	})
}

// Three parcels from two suppliers: one fulfillment each, states follow, a tracking
// correction updates the existing fulfillment.
func TestThreeParcelOrderAndTrackingUpdate(t *testing.T) {
	w := newWorld(t, worldOpts{})
	const id = 4001
	w.addOrder(multiSupplierOrder(id), "orders/create")
	w.waitState(id, "forwarded")
	acmeID, betaID := dropsync.POID(testShop, id, "acme"), dropsync.POID(testShop, id, "beta")
	must(t, w.acme.Ship(acmeID, suppliertest.Parcel{Items: []suppliertest.ItemQty{{SKU: "ACME-TS-R-M", Quantity: 1}}}))
	w.waitState(id, "partially_shipped")
	must(t, w.acme.Ship(acmeID))
	must(t, w.beta.Ship(betaID))
	v := w.waitState(id, "fulfilled")
	if n := len(w.shopify.Fulfillments(id)); n != 3 {
		t.Fatalf("%d fulfillments, want 3", n)
	}
	sh := v.PurchaseOrders[0].Shipments[0]
	must(t, w.acme.SetTracking(acmeID, sh.ID, "DHL", "JD0001234567", "https://www.dhl.com/track?id=JD0001234567"))
	w.eventually("tracking updated at Shopify", func() bool {
		for _, f := range w.shopify.Fulfillments(id) {
			if f.TrackingNumber == "JD0001234567" {
				return true
			}
		}
		return false
	}, nil)
	if n := len(w.shopify.Fulfillments(id)); n != 3 {
		t.Fatalf("a tracking correction made a new fulfillment: %d", n)
	}
	w.waitState(id, "fulfilled")
}

// A crash between Shopify creating a fulfillment and dropsync recording it does not create
// a second one.
func TestFulfillmentCrashWindow(t *testing.T) {
	w := newWorld(t, worldOpts{})
	const id = 4101
	w.addOrder(simpleOrder(id), "orders/create")
	w.waitState(id, "forwarded")
	w.shopify.FailAfterCreate(1) // Shopify creates it, the reply is lost
	must(t, w.acme.Ship(dropsync.POID(testShop, id, "acme")))
	w.waitState(id, "fulfilled")
	if n := len(w.shopify.Fulfillments(id)); n != 1 {
		t.Fatalf("%d fulfillments after a lost reply, want 1", n)
	}
}

// A burst of work for one shop stays within the shared budget: no 429 storm.
func TestShopifyBudgetUnderBurst(t *testing.T) {
	w := newWorld(t, worldOpts{rules: "rules:\n  require_paid: true\n  hold_risk: none\n",
		shopLimit: "{bucket_size: 20, leak_rate: 10}"})
	w.shopify.SetBucket(20, 10) // Shopify's bucket for this shop, as configured
	const n = 30
	for i := int64(1); i <= n; i++ {
		w.addOrder(simpleOrder(5000+i), "orders/create")
	}
	for i := int64(1); i <= n; i++ {
		w.waitState(5000+i, "forwarded")
	}
	before := len(w.shopify.Calls())
	start := time.Now()
	for i := int64(1); i <= n; i++ {
		must(t, w.acme.Ship(dropsync.POID(testShop, 5000+i, "acme")))
	}
	for i := int64(1); i <= n; i++ {
		w.waitState(5000+i, "fulfilled")
	}
	took := time.Since(start)
	calls := len(w.shopify.Calls()) - before
	t.Logf("%d orders fulfilled with %d Shopify calls (%.2f per order) in %s: %.1f calls/s against a 10/s budget; %d answered 429",
		n, calls, float64(calls)/n, took.Round(time.Millisecond), float64(calls)/took.Seconds(), w.shopify.RateLimited())
	if got := w.shopify.RateLimited(); got != 0 {
		t.Errorf("%d calls were answered 429; the shared limiter must keep within Shopify's bucket", got)
	}
	if perOrder := float64(calls) / n; perOrder > 3 {
		t.Errorf("%.2f Shopify calls per order on the happy path, want at most 3", perOrder)
	}
}

// app/uninstalled stops all work for the shop: no Admin API call after it.
func TestAppUninstalledStopsWork(t *testing.T) {
	w := newWorld(t, worldOpts{})
	const id = 6001
	w.addOrder(simpleOrder(id), "orders/create")
	w.waitState(id, "forwarded")
	if st := w.deliver("app/uninstalled", []byte(`{"id":1,"name":"E2E","domain":"e2e-store.myshopify.com"}`), "wh-uninstall"); st != 200 {
		t.Fatalf("uninstall webhook: %d", st)
	}
	w.eventually("shop flagged uninstalled", func() bool {
		v, err := w.main.Store.ShopFlag(context.Background(), testShop, jobs.FlagUninstalled)
		return err == nil && v != ""
	}, nil)
	// Whatever the order's own steps still had queued has run before the count is taken.
	w.waitDelivered("wh-uninstall")
	w.waitIdle()
	before := len(w.shopify.Calls())
	po := dropsync.POID(testShop, id, "acme")
	tracked := w.trackingRuns(po)
	// Ship returns once dropsync has taken the supplier's event, so its tracking task is
	// queued by then; the task's push (the call that must not happen) is queued before the
	// task completes, and waitIdle sees it through.
	must(t, w.acme.Ship(po))
	w.eventually("the parcel's tracking task run", func() bool { return w.trackingRuns(po) > tracked }, nil)
	w.poll(1)
	w.waitPolled(1)
	w.waitIdle()
	if after := len(w.shopify.Calls()); after != before {
		t.Fatalf("%d Shopify calls after app/uninstalled", after-before)
	}
	if v := w.order(id); v.State == "fulfilled" {
		t.Fatal("a parcel was pushed to an uninstalled shop")
	}
}

// customers/redact leaves no trace of the customer's name, email, phone or street in Redis;
// customers/data_request exports what dropsync held beforehand.
func TestPrivacyRequests(t *testing.T) {
	w := newWorld(t, worldOpts{})
	const id = 7001
	o := multiSupplierOrder(id, shopifytest.WithLines(
		shopifytest.LineSpec{SKU: "TSHIRT-RED-M", VariantID: 11, Quantity: 1, Price: d("19.90"),
			Properties: []shopifytest.Property{{Name: "Engraving", Value: "Für Zoë, alles Liebe"}}},
	))
	w.addOrder(o, "orders/create")
	w.waitState(id, "forwarded")
	sh := o.ShippingAddress
	secrets := []string{o.Email, o.Phone, sh.FirstName + " " + sh.LastName, sh.Address1, sh.Zip, "Für Zoë"}
	if o.Customer != nil {
		secrets = append(secrets, o.Customer.FirstName+" "+o.Customer.LastName)
	}
	rdb := redis.NewClient(mustParseURL(t, w.main.Config.Redis.URL))
	defer rdb.Close()
	if found := scanRedis(t, rdb, secrets); len(found) == 0 {
		t.Fatalf("before redaction the customer's data should be in Redis; the scan is broken")
	}

	cust := int64(0)
	if o.Customer != nil {
		cust = o.Customer.ID
	}
	w.deliver("customers/data_request", []byte(fmt.Sprintf(
		`{"shop_id":1,"shop_domain":%q,"orders_requested":[%d],"customer":{"id":%d,"email":%q,"phone":%q},"data_request":{"id":9901}}`,
		testShop, id, cust, o.Email, o.Phone)), "")
	var exp struct {
		Orders []struct {
			ID    int64  `json:"id"`
			Email string `json:"email"`
		} `json:"orders"`
	}
	w.eventually("data export", func() bool {
		return w.api("GET", "/api/v1/shops/"+testShop+"/data-requests/9901", nil, &exp) == 200
	}, nil)
	if len(exp.Orders) != 1 || exp.Orders[0].Email != o.Email {
		t.Fatalf("export = %+v, want the order with the customer's email", exp)
	}

	w.deliver("customers/redact", []byte(fmt.Sprintf(
		`{"shop_id":1,"shop_domain":%q,"customer":{"id":%d,"email":%q,"phone":%q},"orders_to_redact":[%d]}`,
		testShop, cust, o.Email, o.Phone, id)), "")
	w.eventually("no trace of the customer in Redis", func() bool { return len(scanRedis(t, rdb, secrets)) == 0 },
		func() string { return fmt.Sprint(scanRedis(t, rdb, secrets)) })
	if v := w.order(id); v.State != "forwarded" {
		t.Errorf("redaction changed the order's state to %s", v.State)
	}
	// A later version of the order (the poller reads it again) does not bring the data back,
	// neither in the order nor, once it has run, in the task that delivered it.
	w.shopify.UpdateOrder(id, func(o *shopifytest.Order) { o.Tags = "vip" })
	w.deliver("orders/updated", w.shopify.OrderJSON(id), "")
	w.eventually("the update's data erased again", func() bool {
		return hasEvent(w.order(id), "updated") && len(scanRedis(t, rdb, secrets)) == 0
	}, func() string { return fmt.Sprint(scanRedis(t, rdb, secrets)) })
	if st := w.api("GET", "/api/v1/shops/"+testShop+"/data-requests/9901", nil, nil); st != 404 {
		t.Errorf("the export of a redacted customer is still there: %d", st)
	}
}

// scanRedis returns keys whose value holds any of the strings (in any type of value).
func scanRedis(t *testing.T, rdb *redis.Client, needles []string) []string {
	t.Helper()
	ctx := context.Background()
	var found []string
	iter := rdb.Scan(ctx, 0, "*", 500).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		typ, _ := rdb.Type(ctx, key).Result()
		var vals []string
		switch typ {
		case "string":
			vals = []string{rdb.Get(ctx, key).Val()}
		case "hash":
			for k, v := range rdb.HGetAll(ctx, key).Val() {
				vals = append(vals, k, v)
			}
		case "list":
			vals = rdb.LRange(ctx, key, 0, -1).Val()
		case "set":
			vals = rdb.SMembers(ctx, key).Val()
		case "zset":
			vals = rdb.ZRange(ctx, key, 0, -1).Val()
		}
		for _, v := range vals {
			for _, n := range needles {
				if n != "" && (strings.Contains(v, n) || strings.Contains(v, jsonEscaped(n))) {
					found = append(found, key+" holds "+fmt.Sprintf("%.12q…", n))
				}
			}
		}
	}
	return found
}

func jsonEscaped(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r > 127 {
			fmt.Fprintf(&b, `\u%04x`, r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
