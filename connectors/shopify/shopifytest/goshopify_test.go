package shopifytest

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	goshopify "github.com/bold-commerce/go-shopify/v4"
)

// rewrite sends go-shopify's https://<shop>.myshopify.com requests to the
// fake, as dropsync's connector does with api_base_url.
type rewrite struct{ target *url.URL }

func (rw rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host = rw.target.Scheme, rw.target.Host
	return http.DefaultTransport.RoundTrip(r)
}

// TestGoShopifyReadsTheFake checks the wire format against the client
// dropsync uses: if go-shopify cannot page, decode or act through the fake,
// the fake is not Shopify enough.
func TestGoShopifyReadsTheFake(t *testing.T) {
	s := NewServer(Options{Unlimited: true})
	defer s.Close()
	for i := range 7 {
		s.AddOrder(SampleOrder(int64(100+i), WithUpdatedAt(sampleTime().Add(time.Duration(i)*time.Minute))))
	}
	s.SetRisk(100, "investigate")
	target, _ := url.Parse(s.URL())
	c, err := goshopify.NewClient(goshopify.App{}, "demo-store", DefaultAccessToken,
		goshopify.WithVersion(DefaultVersion),
		goshopify.WithHTTPClient(&http.Client{Transport: rewrite{target}}))
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	ctx := t.Context()

	// Pages of 3 through the Link header, as the poller walks them.
	var ids []uint64
	opts := &goshopify.OrderListOptions{Status: "any", ListOptions: goshopify.ListOptions{Limit: 3, UpdatedAtMin: sampleTime()}}
	var next *goshopify.ListOptions
	for page := 0; ; page++ {
		var list []goshopify.Order
		var pg *goshopify.Pagination
		if next == nil {
			list, pg, err = c.Order.ListWithPagination(ctx, opts)
		} else {
			list, pg, err = c.Order.ListWithPagination(ctx, next)
		}
		if err != nil {
			t.Fatalf("list page %d: %v", page, err)
		}
		for _, o := range list {
			ids = append(ids, o.Id)
			if o.TotalPrice == nil || o.TotalPrice.IsZero() || len(o.LineItems) != 2 || o.ShippingAddress == nil {
				t.Errorf("order %d decoded incompletely: %+v", o.Id, o)
			}
		}
		if pg.NextPageOptions == nil {
			break
		}
		next = pg.NextPageOptions
	}
	if got, want := len(ids), 7; got != want || ids[0] != 100 || ids[6] != 106 {
		t.Errorf("walked ids: got %v, want 100..106", ids)
	}

	// A filter next to page_info is refused, as on Shopify.
	_, pg, err := c.Order.ListWithPagination(ctx, &goshopify.OrderListOptions{Status: "any", ListOptions: goshopify.ListOptions{Limit: 3}})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	bad := &goshopify.OrderListOptions{Status: "any", ListOptions: *pg.NextPageOptions}
	var rerr goshopify.ResponseError
	if _, _, err := c.Order.ListWithPagination(ctx, bad); !errors.As(err, &rerr) || rerr.Status != http.StatusBadRequest {
		t.Errorf("page_info with status: got %v, want a 400 ResponseError", err)
	}

	fos, err := c.FulfillmentOrder.List(ctx, 100, nil)
	if err != nil || len(fos) != 1 || len(fos[0].LineItems) != 2 {
		t.Fatalf("fulfillment orders: got %+v, %v", fos, err)
	}
	f, err := c.Fulfillment.Create(ctx, goshopify.Fulfillment{
		LineItemsByFulfillmentOrder: []goshopify.LineItemByFulfillmentOrder{{FulfillmentOrderId: fos[0].Id}},
		TrackingInfo:                goshopify.FulfillmentTrackingInfo{Company: "USPS", Number: "9400100000000000000000"},
		NotifyCustomer:              true,
	})
	if err != nil {
		t.Fatalf("create fulfillment: %v", err)
	}
	if f.Id == 0 || f.OrderId != 100 || f.TrackingNumber != "9400100000000000000000" || len(f.LineItems) != 2 {
		t.Errorf("fulfillment: got %+v", f)
	}
	// Again: nothing is left, and go-shopify surfaces the 422.
	_, err = c.Fulfillment.Create(ctx, goshopify.Fulfillment{
		LineItemsByFulfillmentOrder: []goshopify.LineItemByFulfillmentOrder{{FulfillmentOrderId: fos[0].Id}},
	})
	if !errors.As(err, &rerr) || rerr.Status != http.StatusUnprocessableEntity || rerr.Message == "" {
		t.Errorf("second fulfillment: got %v, want a 422 with a message", err)
	}

	risks, err := c.OrderRisk.List(ctx, 100, nil)
	if err != nil || len(risks) != 1 || risks[0].Recommendation != goshopify.OrderRecommendationInvestigate {
		t.Errorf("risks: got %+v, %v", risks, err)
	}

	if _, err := c.Webhook.Create(ctx, goshopify.Webhook{Topic: "orders/updated", Address: "https://dropsync.example.com/webhooks/shopify", Format: "json"}); err != nil {
		t.Fatalf("create webhook: %v", err)
	}
	_, err = c.Webhook.Create(ctx, goshopify.Webhook{Topic: "orders/updated", Address: "https://dropsync.example.com/webhooks/shopify", Format: "json"})
	if !errors.As(err, &rerr) || rerr.Status != http.StatusUnprocessableEntity || rerr.Message != "address: for this topic has already been taken" {
		t.Errorf("duplicate webhook: got %v, want 422 address: for this topic has already been taken", err)
	}

	shop, err := c.Shop.Get(ctx, nil)
	if err != nil || shop.MyshopifyDomain != DefaultShop {
		t.Errorf("shop: got %+v, %v", shop, err)
	}

	// Every call went to the pinned version.
	for _, call := range s.Calls() {
		if call.Version != DefaultVersion {
			t.Errorf("call %s %s used version %q, want %q", call.Method, call.Path, call.Version, DefaultVersion)
		}
	}
}

func TestGoShopifySeesRateLimit(t *testing.T) {
	s := NewServer(Options{BucketSize: 1, LeakRate: 0.001})
	defer s.Close()
	target, _ := url.Parse(s.URL())
	c, err := goshopify.NewClient(goshopify.App{}, "demo-store", DefaultAccessToken,
		goshopify.WithVersion(DefaultVersion),
		goshopify.WithHTTPClient(&http.Client{Transport: rewrite{target}}))
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	if _, err := c.Shop.Get(t.Context(), nil); err != nil {
		t.Fatalf("first call: %v", err)
	}
	_, err = c.Shop.Get(t.Context(), nil)
	var rl goshopify.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 2 {
		t.Errorf("second call: got %v, want a RateLimitError with RetryAfter 2", err)
	}
}
