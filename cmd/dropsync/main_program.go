package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/connectors/shopify"
	supplierhttp "github.com/dropsync/dropsync/connectors/supplier/http"
	"github.com/dropsync/dropsync/internal/config"
	"github.com/dropsync/dropsync/internal/httpapi"
	"github.com/dropsync/dropsync/internal/metrics"
	"github.com/dropsync/dropsync/internal/redisstore"
	"github.com/dropsync/dropsync/jobs"
)

// Mode says which parts a process runs.
type Mode string

// Modes of `dropsync run|serve|work`.
const (
	ModeRun   Mode = "run"   // HTTP, workers and scheduler in one process
	ModeServe Mode = "serve" // HTTP only
	ModeWork  Mode = "work"  // workers and scheduler only
)

// Main is the dropsync program: it wires config, Redis, the store, the connectors, the
// pipeline, the HTTP listener, the asynq server and the scheduler. Run starts it and returns;
// Close stops it gracefully. Tests start the real program through it.
type Main struct {
	Config *config.Config
	Mode   Mode
	Log    zerolog.Logger

	// Optional hooks for tests, the demo and benchmarks.
	Now               func() time.Time
	HTTPClient        *http.Client // for supplier connectors; nil = each connector's default
	ShopifyTransport  http.RoundTripper
	Listener          net.Listener // nil = listen on Config.HTTP.Addr
	ShutdownTimeout   time.Duration
	Observer          *metrics.Metrics
	DisableScheduler  bool
	LimiterMaxWait    time.Duration
	TaskCheckInterval time.Duration
	DelayedTaskCheck  time.Duration

	rdb        redis.UniversalClient
	Store      *redisstore.Store
	Client     *asynq.Client
	Pipeline   *jobs.Pipeline
	Shopify    *shopify.Client
	Suppliers  map[string]jobs.Supplier
	server     *asynq.Server
	httpServer *http.Server
	addr       string
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	errc       chan error
}

// NewMain returns a program for the config.
func NewMain(cfg *config.Config, mode Mode, log zerolog.Logger) *Main {
	return &Main{Config: cfg, Mode: mode, Log: log, errc: make(chan error, 4)}
}

// Addr is the HTTP listener's address once Run has started it.
func (m *Main) Addr() string { return m.addr }

// Errors reports a component that stopped on its own (the listener failing, the worker
// server dying); the caller should then Close.
func (m *Main) Errors() <-chan error { return m.errc }

// Run connects to Redis and starts the parts of the mode. It returns once they run.
func (m *Main) Run(ctx context.Context) error {
	cfg := m.Config
	if m.Now == nil {
		m.Now = time.Now
	}
	if m.Observer == nil {
		m.Observer = metrics.New()
	}
	opt, err := redis.ParseURL(cfg.Redis.URL)
	if err != nil {
		return fmt.Errorf("redis.url: %w", err)
	}
	m.rdb = redis.NewClient(opt)
	pingCtx, cancelPing := context.WithTimeout(ctx, 5*time.Second)
	err = m.rdb.Ping(pingCtx).Err()
	cancelPing()
	if err != nil {
		return fmt.Errorf("redis at %s is not reachable: %w", opt.Addr, err)
	}
	if err := checkRedis(ctx, m.rdb, m.Log); err != nil {
		return err
	}
	m.Store = redisstore.New(m.rdb, m.Now)
	m.Client = asynq.NewClientFromRedisClient(m.rdb)
	if cfg.MappingsFile != "" {
		if err := loadMappingsFile(ctx, m.Store, cfg, cfg.MappingsFile, m.Log); err != nil {
			return err
		}
	}

	limits := map[string]shopify.BucketLimit{}
	var shopCfgs []shopify.ShopConfig
	secrets := map[string]string{}
	for _, s := range cfg.Shops {
		limits[s.Domain] = shopify.BucketLimit{Size: s.RateLimit.BucketSize, LeakRate: s.RateLimit.LeakRate}
		shopCfgs = append(shopCfgs, shopify.ShopConfig{Domain: s.Domain, AccessToken: s.AccessToken,
			APIVersion: s.APIVersion, APIBaseURL: s.APIBaseURL})
		secrets[s.Domain] = s.WebhookSecret
	}
	maxWait := m.LimiterMaxWait
	if maxWait == 0 {
		maxWait = 500 * time.Millisecond
	}
	lim := shopify.NewLimiter(m.rdb, limits, maxWait)
	m.Shopify, err = shopify.NewClient(shopCfgs, lim, m.ShopifyTransport, m.Observer, m.Log.With().Str("component", "shopify").Logger())
	if err != nil {
		return err
	}
	m.Suppliers = map[string]jobs.Supplier{}
	parsers := map[string]httpapi.EventParser{}
	for _, s := range cfg.Suppliers {
		sup, parser, err := m.supplier(s)
		if err != nil {
			return err
		}
		m.Suppliers[s.ID] = observedSupplier{Supplier: sup, id: s.ID, obs: m.Observer}
		parsers[s.ID] = parser
	}
	m.Pipeline = jobs.NewPipeline(cfg, jobs.Deps{
		Store: m.Store, Enqueuer: m.Client, Storefront: m.Shopify, Suppliers: m.Suppliers,
		Invoices: m.Store, Compliance: m.Store,
		Janitor: jobs.NewJanitor(asynq.NewInspectorFromRedisClient(m.rdb)), Observer: m.Observer, Now: m.Now,
	}, m.Log.With().Str("component", "pipeline").Logger())

	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	if m.Mode != ModeWork {
		if err := m.startHTTP(runCtx, secrets, parsers); err != nil {
			cancel()
			return err
		}
	}
	if m.Mode != ModeServe {
		if err := m.startWorkers(runCtx); err != nil {
			cancel()
			return err
		}
	}
	if m.Mode == ModeWork && cfg.Workers.MetricsAddr != "" {
		if err := m.startWorkerProbe(runCtx, cfg.Workers.MetricsAddr); err != nil {
			cancel()
			return err
		}
	}
	m.Log.Info().Str("mode", string(m.Mode)).Str("addr", m.addr).Int("shops", len(cfg.Shops)).
		Int("suppliers", len(cfg.Suppliers)).Msg("dropsync started")
	return nil
}

func (m *Main) supplier(s config.Supplier) (jobs.Supplier, httpapi.EventParser, error) {
	log := m.Log.With().Str("component", "supplier").Str("supplier", s.ID).Logger()
	switch s.Kind {
	case config.KindHTTP:
		sup := supplierhttp.New(supplierhttp.Config{ID: s.ID, BaseURL: s.BaseURL, Token: s.Token,
			WebhookSecret: s.WebhookSecret, Timeout: s.Timeout, ShippingMethod: s.ShippingMethod}, m.HTTPClient, log)
		return sup, sup, nil
	}
	return m.newKindSupplier(s, log)
}

func (m *Main) startHTTP(ctx context.Context, secrets map[string]string, parsers map[string]httpapi.EventParser) error {
	cfg := m.Config
	intake := jobs.NewIntake(m.Client)
	api := httpapi.New(cfg, httpapi.Deps{
		Orders: m.Store, Mappings: m.Store, Releaser: m.Pipeline, Invoices: m.Store,
		Intake: intake, Suppliers: parsers, Redis: m.Store, Exports: m.Store,
	}, m.Log.With().Str("component", "http").Logger())
	api.Handle("/webhooks/shopify", shopify.NewReceiver(secrets, intake, cfg.HTTP.MaxBodyBytes, m.Observer))
	m.mountOperations(api)
	ln := m.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", cfg.HTTP.Addr); err != nil {
			return fmt.Errorf("http.addr %s: %w", cfg.HTTP.Addr, err)
		}
	}
	m.serve(ctx, ln, api, cfg.HTTP.ReadTimeout)
	return nil
}

// serve runs the process's one HTTP server on ln until Close.
func (m *Main) serve(ctx context.Context, ln net.Listener, h http.Handler, readTimeout time.Duration) {
	m.addr = ln.Addr().String()
	m.httpServer = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       readTimeout,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := m.httpServer.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.errc <- fmt.Errorf("http: %w", err)
		}
	}()
}

func (m *Main) startWorkers(ctx context.Context) error {
	cfg := m.Config
	check := m.TaskCheckInterval
	if check == 0 {
		check = 200 * time.Millisecond
	}
	delayed := m.DelayedTaskCheck
	if delayed == 0 {
		delayed = time.Second
	}
	shutdown := m.ShutdownTimeout
	if shutdown == 0 {
		shutdown = cfg.HTTP.ShutdownTimeout
	}
	m.server = asynq.NewServerFromRedisClient(m.rdb, asynq.Config{
		Concurrency:              cfg.Workers.Concurrency,
		Queues:                   jobs.Queues,
		RetryDelayFunc:           jobs.RetryDelay,
		IsFailure:                jobs.IsFailure,
		ShutdownTimeout:          shutdown,
		TaskCheckInterval:        check,
		DelayedTaskCheckInterval: delayed,
		Logger:                   asynqLogger{m.Log.With().Str("component", "asynq").Logger()},
		LogLevel:                 asynq.WarnLevel,
		BaseContext:              func() context.Context { return ctx },
	})
	mux := asynq.NewServeMux()
	mux.Use(m.Pipeline.Middleware)
	m.Pipeline.Register(mux)
	if err := m.server.Start(mux); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	if !m.DisableScheduler {
		sched := jobs.NewScheduler(m.Client, jobs.PeriodicTasks(cfg), m.Now,
			m.Log.With().Str("component", "scheduler").Logger())
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			_ = sched.Run(ctx)
		}()
	}
	return nil
}

// startWorkerProbe serves /healthz, /readyz and /metrics for a `work` process, which has no
// other listener: its counters (supplier calls, purchase orders forwarded) live in it.
func (m *Main) startWorkerProbe(ctx context.Context, addr string) error {
	api := httpapi.New(m.Config, httpapi.Deps{Redis: m.Store}, m.Log.With().Str("component", "http").Logger())
	api.Handle("/metrics", metricsHandler(m.Observer))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("workers.metrics_addr %s: %w", addr, err)
	}
	m.serve(ctx, ln, probeOnly(api), m.Config.HTTP.ReadTimeout)
	return nil
}

// probeOnly lets through the health, readiness and metrics paths and nothing else.
func probeOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz", "/readyz", "/metrics":
			h.ServeHTTP(w, r)
		default:
			httpapi.NotFound(w, r)
		}
	})
}

// Close stops accepting webhooks and lets running requests and tasks finish, both within
// one shutdown timeout (unfinished tasks return to the queue), then closes Redis.
func (m *Main) Close() error {
	timeout := m.Config.HTTP.ShutdownTimeout
	if m.ShutdownTimeout > 0 {
		timeout = m.ShutdownTimeout
	}
	var (
		wg      sync.WaitGroup
		httpErr error
	)
	if m.httpServer != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			httpErr = m.httpServer.Shutdown(ctx)
		}()
	}
	if m.server != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.server.Shutdown() // waits up to the same timeout (asynq's ShutdownTimeout)
		}()
	}
	wg.Wait()
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
	errs := []error{httpErr}
	// m.Client shares m.rdb, which asynq leaves for us to close.
	if m.rdb != nil {
		errs = append(errs, m.rdb.Close())
	}
	return errors.Join(errs...)
}

// checkRedis warns when Redis is set up in a way that can lose dropsync's state.
func checkRedis(ctx context.Context, rdb redis.UniversalClient, log zerolog.Logger) error {
	info, err := rdb.Info(ctx, "server", "persistence", "memory").Result()
	if err != nil {
		return nil // some managed Redis services restrict INFO
	}
	get := func(key string) string {
		for _, line := range strings.Split(info, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	if v := get("redis_version"); v != "" && versionBelow(v, 6, 2) {
		return fmt.Errorf("redis %s is too old: dropsync needs Redis 6.2 or newer", v)
	}
	if get("aof_enabled") == "0" {
		log.Warn().Msg("redis runs without AOF (appendonly no): a Redis restart loses queued work; production needs appendonly yes")
	}
	if p := get("maxmemory_policy"); p != "" && p != "noeviction" {
		log.Warn().Str("maxmemory_policy", p).Msg("redis may evict keys: production needs maxmemory-policy noeviction")
	}
	return nil
}

func versionBelow(v string, major, minor int) bool {
	var a, b int
	fmt.Sscanf(v, "%d.%d", &a, &b)
	return a < major || (a == major && b < minor)
}
