package shopify_test

import (
	"context"
	"github.com/rs/zerolog"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/connectors/shopify"
	"github.com/dropsync/dropsync/connectors/shopify/shopifytest"
	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/redistest"
)

const token = "shpat_client_test"

func newClient(t *testing.T, fake *shopifytest.Server, limit shopify.BucketLimit, maxWait time.Duration) *shopify.Client {
	t.Helper()
	lim := shopify.NewLimiter(redistest.Client(t), map[string]shopify.BucketLimit{shop: limit}, maxWait)
	c, err := shopify.NewClient([]shopify.ShopConfig{{Domain: shop, AccessToken: token, APIVersion: "2026-01",
		APIBaseURL: fake.URL()}}, lim, nil, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newFake(t *testing.T) *shopifytest.Server {
	fake := shopifytest.NewServer(shopifytest.Options{Shop: shop, AccessToken: token})
	t.Cleanup(fake.Close)
	return fake
}

func TestFulfillCreatesOnceAndFindsExisting(t *testing.T) {
	fake := newFake(t)
	c := newClient(t, fake, shopify.BucketLimit{}, time.Second)
	o := shopifytest.SampleOrder(42, shopifytest.WithLines(
		shopifytest.LineSpec{SKU: "A", VariantID: 1, Quantity: 3, Price: decimal.RequireFromString("5")},
		shopifytest.LineSpec{SKU: "B", VariantID: 2, Quantity: 1, Price: decimal.RequireFromString("5")},
	))
	fake.AddOrder(o)
	ctx := context.Background()
	req := dropsync.FulfillmentRequest{Shop: shop, OrderID: 42, Carrier: "UPS", TrackingNumber: "1Z1",
		TrackingURL: "https://ups.example/1Z1", NotifyCustomer: true,
		Lines: []dropsync.LineUnits{{LineID: o.LineItems[0].ID, Quantity: 2}}}
	f, err := c.Fulfill(ctx, req, false)
	if err != nil || f.ID == 0 || f.Existing {
		t.Fatalf("Fulfill = %+v, %v", f, err)
	}
	again, err := c.Fulfill(ctx, req, true)
	if err != nil || !again.Existing || again.ID != f.ID {
		t.Fatalf("retry with check = %+v, %v; want the existing fulfillment %d", again, err, f.ID)
	}
	if n := len(fake.Fulfillments(42)); n != 1 {
		t.Fatalf("%d fulfillments, want 1", n)
	}
	fos := fake.FulfillmentOrders(42)
	if got := fos[0].LineItems[0].FulfillableQuantity; got != 1 {
		t.Fatalf("line A fulfillable %d after fulfilling 2 of 3, want 1", got)
	}
	// Lines the merchant already fulfilled by hand: a conflict, not a second fulfillment.
	req.TrackingNumber = "1Z2"
	req.Lines = []dropsync.LineUnits{{LineID: o.LineItems[0].ID, Quantity: 1}}
	if _, err := c.Fulfill(ctx, req, false); err != nil {
		t.Fatal(err)
	}
	req.TrackingNumber = "1Z3"
	_, err = c.Fulfill(ctx, req, false)
	if dropsync.ErrorCode(err) != dropsync.ECONFLICT || dropsync.ErrorReason(err) != shopify.ReasonAlreadyFulfilled {
		t.Fatalf("fulfilling past the quantity: %v, want conflict already_fulfilled", err)
	}
	for _, call := range fake.Calls() {
		if call.Version != "2026-01" {
			t.Fatalf("call %s %s used API version %q, want the pinned 2026-01", call.Method, call.Path, call.Version)
		}
	}
}

func TestUpdateTrackingAndRisk(t *testing.T) {
	fake := newFake(t)
	c := newClient(t, fake, shopify.BucketLimit{}, time.Second)
	o := shopifytest.SampleOrder(43)
	fake.AddOrder(o)
	ctx := context.Background()
	req := dropsync.FulfillmentRequest{Shop: shop, OrderID: 43, Carrier: "UPS", TrackingNumber: "1Z1",
		Lines: []dropsync.LineUnits{{LineID: o.LineItems[0].ID, Quantity: 1}}}
	f, err := c.Fulfill(ctx, req, false)
	if err != nil {
		t.Fatal(err)
	}
	req.Carrier, req.TrackingNumber = "DHL", "JD1"
	if err := c.UpdateTracking(ctx, req, f.ID); err != nil {
		t.Fatal(err)
	}
	if got := fake.Fulfillments(43)[0].TrackingNumber; got != "JD1" {
		t.Fatalf("tracking %q after update, want JD1", got)
	}
	if risk, err := c.Risk(ctx, shop, 43); err != nil || risk != "" {
		t.Fatalf("Risk = %q, %v; want none", risk, err)
	}
	fake.SetRisk(43, "cancel")
	if risk, err := c.Risk(ctx, shop, 43); err != nil || risk != "cancel" {
		t.Fatalf("Risk = %q, %v; want cancel", risk, err)
	}
}

func TestUpdatedOrdersPagesThroughEverything(t *testing.T) {
	fake := newFake(t)
	c := newClient(t, fake, shopify.BucketLimit{Size: 40, LeakRate: 20}, 2*time.Second)
	base := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	for i := int64(1); i <= 600; i++ {
		fake.AddOrder(shopifytest.SampleOrder(i, shopifytest.WithUpdatedAt(base.Add(time.Duration(i)*time.Second))))
	}
	seen := map[int64]bool{}
	cursor, pages := "", 0
	for {
		sales, next, err := c.UpdatedOrders(context.Background(), shop, base.Add(101*time.Second), cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, s := range sales {
			seen[s.ID] = true
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 500 || pages != 2 {
		t.Fatalf("read %d orders in %d pages, want 500 in 2", len(seen), pages)
	}
}

func TestSubscribeIsIdempotent(t *testing.T) {
	fake := newFake(t)
	c := newClient(t, fake, shopify.BucketLimit{}, time.Second)
	addr := "http://127.0.0.1:8080/webhooks/shopify"
	subs, created, err := c.Subscribe(context.Background(), shop, addr, shopify.APITopics)
	if err != nil || len(created) != len(shopify.APITopics) || len(subs) != len(shopify.APITopics) {
		t.Fatalf("first subscribe: %d created, %d subs, %v", len(created), len(subs), err)
	}
	subs, created, err = c.Subscribe(context.Background(), shop, addr, shopify.APITopics)
	if err != nil || len(created) != 0 || len(subs) != len(shopify.APITopics) {
		t.Fatalf("second subscribe: %d created, %d subs, %v", len(created), len(subs), err)
	}
}

func TestRateLimitedCallBecomesRetryAfter(t *testing.T) {
	fake := newFake(t)
	c := newClient(t, fake, shopify.BucketLimit{}, time.Second)
	fake.FailNext("GET", "orders/", 429, 1)
	_, err := c.Risk(context.Background(), shop, 1)
	d, ok := dropsync.RetryAfter(err)
	if dropsync.ErrorCode(err) != dropsync.ERATELIMITED || !ok || d < time.Second {
		t.Fatalf("429: %v (retry after %v), want rate_limited with Shopify's delay", err, d)
	}
}

// Several processes share one budget: concurrent callers through two clients on one Redis
// stay at the bucket size plus the leak rate, and nothing reaches Shopify's 429.
func TestLimiterSharedBudget(t *testing.T) {
	fake := newFake(t)
	fake.SetBucket(10, 10)
	rdb := redistest.Client(t)
	limit := map[string]shopify.BucketLimit{shop: {Size: 10, LeakRate: 10}}
	var clients []*shopify.Client
	for range 2 {
		c, err := shopify.NewClient([]shopify.ShopConfig{{Domain: shop, AccessToken: token, APIVersion: "2026-01",
			APIBaseURL: fake.URL()}}, shopify.NewLimiter(rdb, limit, 5*time.Second), nil, nil, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	o := shopifytest.SampleOrder(9)
	fake.AddOrder(o)
	const calls = 40
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, calls)
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := clients[i%2].Risk(context.Background(), shop, 9)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("call failed: %v", err)
		}
	}
	took := time.Since(start)
	// The fake enforces the same bucket: had the clients not shared one budget, 40
	// concurrent calls against a bucket of 10 would have drawn 429s.
	if n := fake.RateLimited(); n != 0 {
		t.Errorf("%d calls were answered 429", n)
	}
	t.Logf("%d calls through two clients in %s (%.1f/s against 10/s)", calls, took, float64(calls)/took.Seconds())
}

// Shopify's reported bucket size wins over the configured one: a Plus shop (400) left on the
// default 40 gets its whole budget once a reply has told its size.
func TestLimiterLearnsTheReportedBucket(t *testing.T) {
	rdb := redistest.Client(t)
	ctx := context.Background()
	lim := shopify.NewLimiter(rdb, nil, 0)
	granted := func() int {
		n := 0
		for range 100 {
			if lim.Acquire(ctx, shop, 1) == nil {
				n++
			}
		}
		return n
	}
	if got := granted(); got > 40 {
		t.Fatalf("%d calls granted at once on the configured bucket of 40", got)
	}
	lim.Observe(ctx, shop, 60, 400)
	if got := granted(); got < 100 {
		t.Fatalf("%d of 100 calls granted after Shopify reported a bucket of 400", got)
	}
	lim.Throttled(ctx, shop) // a 429: the 400 bucket is full
	if got := granted(); got > 5 {
		t.Fatalf("%d calls granted right after a 429", got)
	}
}
