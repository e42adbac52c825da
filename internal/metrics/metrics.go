// Package metrics is dropsync's Prometheus instrumentation: counters and histograms named
// dropsync_… after Prometheus' naming conventions, and a collector that reads orders per
// state from the store at scrape time. One Metrics value satisfies every observer interface
// the pipeline and the connectors declare.
package metrics

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// Metrics holds dropsync's own metrics.
type Metrics struct {
	Registry        *prometheus.Registry
	webhooks        *prometheus.CounterVec
	forwarded       *prometheus.CounterVec
	acceptance      prometheus.Histogram
	fulfillment     prometheus.Histogram
	shopifyCalls    *prometheus.CounterVec
	shopifyThrottle *prometheus.CounterVec
	supplierCalls   *prometheus.CounterVec
}

// latencyBuckets span seconds to days: an order can wait on a supplier for a week.
var latencyBuckets = []float64{0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400, 3 * 86400, 7 * 86400}

// New registers dropsync's metrics in a fresh registry (plus Go and process collectors).
func New() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry()}
	m.webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dropsync_webhooks_received_total",
		Help: "Storefront webhook deliveries by topic and outcome (queued, unauthorized, too_large, bad_body, unavailable, ignored).",
	}, []string{"topic", "outcome"})
	m.forwarded = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dropsync_purchase_orders_forwarded_total",
		Help: "Attempts to place purchase orders at suppliers by supplier and outcome.",
	}, []string{"supplier", "outcome"})
	m.acceptance = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "dropsync_order_to_supplier_acceptance_seconds",
		Help:    "Time from the storefront order's creation to a supplier accepting its purchase order.",
		Buckets: latencyBuckets,
	})
	m.fulfillment = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "dropsync_order_to_fulfillment_seconds",
		Help:    "Time from the storefront order's creation to its last parcel recorded as a fulfillment.",
		Buckets: latencyBuckets,
	})
	m.shopifyCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dropsync_shopify_api_calls_total",
		Help: "Shopify Admin API calls by shop, method and HTTP status class (2xx, 4xx, 429, 5xx, error).",
	}, []string{"shop", "method", "status"})
	m.shopifyThrottle = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dropsync_shopify_api_throttled_total",
		Help: "Shopify Admin API calls answered 429 Too Many Requests, by shop.",
	}, []string{"shop"})
	m.supplierCalls = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dropsync_supplier_calls_total",
		Help: "Supplier API calls by supplier, operation and outcome (ok, refused, rate_limited, unavailable, error).",
	}, []string{"supplier", "operation", "outcome"})
	m.Registry.MustRegister(m.webhooks, m.forwarded, m.acceptance, m.fulfillment, m.shopifyCalls,
		m.shopifyThrottle, m.supplierCalls,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// Webhook counts one storefront delivery.
func (m *Metrics) Webhook(topic, outcome string) {
	if topic == "" {
		topic = "none"
	}
	m.webhooks.WithLabelValues(topic, outcome).Inc()
}

// POForwarded counts one attempt to place a purchase order.
func (m *Metrics) POForwarded(supplier, outcome string, sinceCreated time.Duration) {
	m.forwarded.WithLabelValues(supplier, outcome).Inc()
	if outcome == "accepted" && sinceCreated > 0 {
		m.acceptance.Observe(sinceCreated.Seconds())
	}
}

// OrderFulfilled observes an order's time to fulfillment.
func (m *Metrics) OrderFulfilled(shop string, sinceCreated time.Duration) {
	if sinceCreated > 0 {
		m.fulfillment.Observe(sinceCreated.Seconds())
	}
}

// ShopifyCall counts one Admin API call.
func (m *Metrics) ShopifyCall(shop, method string, status int) {
	class := "error"
	switch {
	case status == 429:
		class = "429"
		m.shopifyThrottle.WithLabelValues(shop).Inc()
	case status >= 200 && status < 600:
		class = strconv.Itoa(status/100) + "xx"
	}
	m.shopifyCalls.WithLabelValues(shop, method, class).Inc()
}

// SupplierCall counts one supplier call by its error's outcome.
func (m *Metrics) SupplierCall(supplier, operation string, err error) {
	outcome := "ok"
	switch dropsync.ErrorCode(err) {
	case "":
	case dropsync.EPERMANENT:
		outcome = "refused"
	case dropsync.ERATELIMITED:
		outcome = "rate_limited"
	case dropsync.EUNAVAILABLE:
		outcome = "unavailable"
	default:
		outcome = "error"
	}
	m.supplierCalls.WithLabelValues(supplier, operation, outcome).Inc()
}

// OrderCounter counts a shop's orders per state.
type OrderCounter interface {
	CountByState(ctx context.Context, shop string) (map[dropsync.OrderState]int64, error)
}

// WatchOrders registers dropsync_orders{shop,state}, read from the store at scrape time.
func (m *Metrics) WatchOrders(store OrderCounter, shops []string) {
	m.Registry.MustRegister(&orderCollector{store: store, shops: shops,
		desc: prometheus.NewDesc("dropsync_orders", "Orders dropsync holds, by shop and state.", []string{"shop", "state"}, nil)})
}

type orderCollector struct {
	store OrderCounter
	shops []string
	desc  *prometheus.Desc
}

func (c *orderCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *orderCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for _, shop := range c.shops {
		counts, err := c.store.CountByState(ctx, shop)
		if err != nil {
			ch <- prometheus.NewInvalidMetric(c.desc, err)
			continue
		}
		for _, st := range dropsync.OrderStates {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[st]), shop, string(st))
		}
	}
}
