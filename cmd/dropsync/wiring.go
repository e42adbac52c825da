package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/connectors/supplier/cjdropshipping"
	"github.com/dropsync/dropsync/connectors/supplier/printful"
	"github.com/dropsync/dropsync/internal/config"
	"github.com/dropsync/dropsync/internal/dashboard"
	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/httpapi"
	"github.com/dropsync/dropsync/internal/metrics"
	"github.com/dropsync/dropsync/jobs"
)

// observedSupplier counts every supplier call for /metrics.
type observedSupplier struct {
	jobs.Supplier
	id  string
	obs *metrics.Metrics
}

func (s observedSupplier) PlaceOrder(ctx context.Context, req dropsync.SupplierOrderRequest) (dropsync.SupplierOrder, error) {
	so, err := s.Supplier.PlaceOrder(ctx, req)
	s.obs.SupplierCall(s.id, "place_order", err)
	return so, err
}

func (s observedSupplier) GetOrder(ctx context.Context, ref dropsync.SupplierOrderRef) (dropsync.SupplierOrder, error) {
	so, err := s.Supplier.GetOrder(ctx, ref)
	s.obs.SupplierCall(s.id, "get_order", err)
	return so, err
}

func (s observedSupplier) CancelOrder(ctx context.Context, ref dropsync.SupplierOrderRef) (dropsync.SupplierOrder, error) {
	so, err := s.Supplier.CancelOrder(ctx, ref)
	s.obs.SupplierCall(s.id, "cancel_order", err)
	return so, err
}

func (s observedSupplier) Inventory(ctx context.Context, skus []string) ([]dropsync.Stock, error) {
	st, err := s.Supplier.Inventory(ctx, skus)
	s.obs.SupplierCall(s.id, "inventory", err)
	return st, err
}

// newKindSupplier builds the connectors of the suppliers' own APIs.
func (m *Main) newKindSupplier(s config.Supplier, log zerolog.Logger) (jobs.Supplier, httpapi.EventParser, error) {
	switch s.Kind {
	case config.KindPrintful:
		sup := printful.New(printful.Config{ID: s.ID, BaseURL: s.BaseURL, Token: s.Token, WebhookSecret: s.WebhookSecret,
			StoreID: s.StoreID, ShippingMethod: s.ShippingMethod, Confirm: s.Confirm, Timeout: s.Timeout},
			m.HTTPClient, m.Now, log)
		return sup, sup, nil
	case config.KindCJDropshipping:
		sup := cjdropshipping.New(cjdropshipping.Config{ID: s.ID, BaseURL: s.BaseURL, Email: s.Email, APIKey: s.APIKey,
			WebhookSecret: s.WebhookSecret, LogisticName: s.LogisticName, FromCountry: s.FromCountry,
			Timeout: s.Timeout},
			m.HTTPClient, cjdropshipping.NewRedisTokenStore(m.rdb, s.ID+":"+accountFingerprint(s.Email, s.APIKey)), m.Now, log)
		return sup, sup, nil
	}
	return nil, nil, fmt.Errorf("suppliers[%s].kind: %q is not a supplier kind this build knows", s.ID, s.Kind)
}

// accountFingerprint names a supplier account without revealing its key, so a stored access
// token is never reused after the supplier id is pointed at another account.
func accountFingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:6])
}

// mountOperations adds /metrics and the dashboard.
func (m *Main) mountOperations(api *httpapi.Server) {
	shops := make([]string, 0, len(m.Config.Shops))
	for _, s := range m.Config.Shops {
		shops = append(shops, s.Domain)
	}
	m.Observer.WatchOrders(m.Store, shops)
	// asynq's queue sizes, latencies and failure counts, read from Redis at scrape time.
	queues := asynqmetrics.NewQueueMetricsCollector(asynq.NewInspectorFromRedisClient(m.rdb))
	if err := m.Observer.Registry.Register(queues); err != nil {
		m.Log.Warn().Err(err).Msg("asynq queue metrics are not exported")
	}
	api.Handle("/metrics", metricsHandler(m.Observer))
	api.Handle("/monitoring/", dashboard.New(dashboard.Options{
		RootPath:      "/monitoring",
		Redis:         m.rdb,
		Token:         m.Config.Admin.Token,
		ReadOnly:      m.Config.Admin.DashboardReadOnly,
		PrometheusURL: m.Config.Admin.PrometheusURL,
	}))
	api.Handle("/monitoring", http.RedirectHandler("/monitoring/", http.StatusMovedPermanently))
}

// asynqLogger sends asynq's own log lines through zerolog.
type asynqLogger struct{ log zerolog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug().Msg(fmt.Sprint(args...)) }
func (l asynqLogger) Info(args ...any)  { l.log.Info().Msg(fmt.Sprint(args...)) }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn().Msg(fmt.Sprint(args...)) }
func (l asynqLogger) Error(args ...any) { l.log.Error().Msg(fmt.Sprint(args...)) }
func (l asynqLogger) Fatal(args ...any) { l.log.Fatal().Msg(fmt.Sprint(args...)) }

// metricsHandler serves /metrics. A collector that fails (the order counts while Redis is
// down) leaves its own metrics out; the rest, the counters most wanted in an outage, are
// still served.
func metricsHandler(m *metrics.Metrics) http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}
