package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/connectors/shopify"
	"github.com/dropsync/dropsync/connectors/shopify/shopifytest"
	"github.com/dropsync/dropsync/connectors/supplier/http/suppliertest"
	"github.com/dropsync/dropsync/internal/config"
	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/redisstore"
	"github.com/dropsync/dropsync/jobs"
)

const benchUsage = `Usage:
  dropsync bench [--orders N] [--intake N] [--concurrency C] [--workers W] [--redis URL] [--force]
                 [--cpuprofile FILE] [--intake-cpuprofile FILE]

Runs the real pipeline (webhook receiver, asynq workers, Redis store, Shopify and supplier
connectors) against a real Redis and in-process fakes of Shopify and a supplier, with no
artificial delays, each figure beside a baseline measured in the same run:

  intake      signed orders/create deliveries to dropsync's receiver, against a bare handler
              that only checks the HMAC and enqueues one asynq task
  end to end  orders from webhook to fulfillment and invoice, against a chain of no-op asynq
              tasks with as many steps per order as the pipeline runs (6)
  calls       Shopify Admin API and supplier calls per order on the happy path
  memory      Redis memory per order queued, in flight at the supplier, and completed
  process     CPU seconds per 1,000 orders and RSS

The Redis database is flushed before and after: give the bench a database of its own.
`

// The simulated shop and supplier the bench measures with. The secrets only ever protect
// fakes inside this process.
const (
	benchShop           = "bench-store.myshopify.com"
	benchShopifyToken   = "shpat_dropsync_bench_token"
	benchShopifySecret  = "shpss_dropsync_bench_webhook_secret"
	benchSupplier       = "acme"
	benchSupplierToken  = "bench-acme-token"
	benchSupplierSecret = "bench-acme-webhook-secret"
	benchDefaultRedis   = "redis://127.0.0.1:6379/14"

	// benchSteps is how many asynq tasks one happy-path order runs through: order:ingest,
	// order:verify, po:forward, po:tracking, shipment:push and invoice:issue.
	benchSteps = 6
	// benchTaskCheck and benchDelayedCheck are asynq's polling intervals for the pipeline and
	// the baseline alike: Main's production defaults.
	benchTaskCheck    = 200 * time.Millisecond
	benchDelayedCheck = time.Second
	// benchStall fails the bench when the awaited count stops moving this long.
	benchStall = 60 * time.Second
	// benchPoll is how often the harness reads Redis while it waits: the shipper's read of
	// the forwarded orders and the progress counts. Those reads land on dropsync's side of the
	// comparison only (the baseline's progress is an in-process counter), so they are kept
	// rare enough to be a small share of the Redis and process CPU measured, and frequent
	// enough that a round's end is seen within a few percent of its length.
	benchPoll = 50 * time.Millisecond
	// benchWarmup deliveries go to each intake endpoint before it is measured, so that
	// connections, pools and caches are set up on both sides.
	benchWarmup = 200
	// benchShippers post parcel events concurrently; two keep the fake's webhook client on
	// its two idle connections.
	benchShippers = 2
	// benchRounds is how many times the end-to-end runs alternate, each with its share of the
	// orders; benchIntakeRounds likewise for the intake.
	benchRounds       = 4
	benchIntakeRounds = 4
)

// benchMappings maps both lines of shopifytest's sample order to one supplier: the happy
// path of one purchase order and one parcel per order.
const benchMappings = `shop,sku,supplier,supplier_sku,unit_cost,currency,quantity,priority,countries
` + benchShop + `,TEE-RED-M,acme,ACME-TEE-R-M,6.10,USD,1,1,
` + benchShop + `,MUG-WHITE-11,acme,ACME-MUG-11,3.20,USD,1,1,
`

// benchFlags are `dropsync bench`'s flags.
type benchFlags struct {
	redisURL    string
	force       bool
	orders      int
	intake      int
	concurrency int
	workers     int
	cpuprofile  string
	intakeProf  string
}

// cmdBench measures dropsync against its baselines and prints the figures.
func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, benchUsage+"\nFlags:\n"); fs.PrintDefaults() }
	var f benchFlags
	fs.StringVar(&f.redisURL, "redis", benchDefaultRedis, "Redis database to measure on; flushed before and after")
	fs.BoolVar(&f.force, "force", false, "flush the database even when it already holds keys")
	fs.IntVar(&f.orders, "orders", 5000, "orders sent end to end, through the pipeline and through the no-op baseline")
	fs.IntVar(&f.intake, "intake", 20000, "webhook deliveries to each intake endpoint")
	fs.IntVar(&f.concurrency, "concurrency", 16, "concurrent webhook senders")
	fs.IntVar(&f.workers, "workers", 10, "asynq worker concurrency (workers.concurrency), for the pipeline and the baseline")
	fs.StringVar(&f.cpuprofile, "cpuprofile", "", "write a CPU profile of the pipeline's end-to-end run to FILE")
	fs.StringVar(&f.intakeProf, "intake-cpuprofile", "", "write a CPU profile of the deliveries to dropsync's receiver to FILE")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Sprintf("bench takes no arguments, got %q", fs.Args())}
	case f.orders < 1 || f.orders > 1_000_000:
		return usageError{"--orders must be between 1 and 1000000"}
	case f.intake < 1 || f.intake > 1_000_000:
		return usageError{"--intake must be between 1 and 1000000"}
	case f.concurrency < 1 || f.concurrency > 1000:
		return usageError{"--concurrency must be between 1 and 1000"}
	case f.workers < 1 || f.workers > 1000:
		return usageError{"--workers must be between 1 and 1000"}
	}
	b, err := newBench(ctx, f, stdout, stderr)
	if err != nil {
		return err
	}
	runErr := b.run(ctx)
	if err := b.close(); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}

// bench is one run of `dropsync bench`.
type bench struct {
	f      benchFlags
	out    io.Writer
	errw   io.Writer
	opt    *redis.Options
	rdb    *redis.Client // the bench's own connection: checks, flushes, counts, memory
	store  *redisstore.Store
	client *http.Client // the webhook senders'
	dir    string
	nextID atomic.Int64 // storefront order ids, unique across the run
	res    benchResults
}

// benchResults are the figures of one run.
type benchResults struct {
	machine                machineInfo
	bareIntake, realIntake loadResult
	intakeQueued           memDelta
	bareCPU, realCPU       usageDelta // over the intake rounds
	chain, pipeline        e2eResult
	shopifyCalls           map[string]int     // by method and resource, over the pipeline rounds
	supplierCalls          map[string]float64 // by operation
	inFlight, completed    memDelta
	completedKinds         map[string]classMem
}

// newBench connects to Redis, refuses a database that is in use, and flushes it.
func newBench(ctx context.Context, f benchFlags, stdout, stderr io.Writer) (*bench, error) {
	opt, err := redis.ParseURL(f.redisURL)
	if err != nil {
		return nil, usageError{fmt.Sprintf("--redis: %v", err)}
	}
	b := &bench{f: f, out: stdout, errw: stderr, opt: opt}
	b.rdb = redis.NewClient(opt)
	b.store = redisstore.New(b.rdb, nil)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err = b.rdb.Ping(pctx).Err()
	cancel()
	if err != nil {
		b.rdb.Close()
		return nil, fmt.Errorf("redis at %s is not reachable: %w", opt.Addr, err)
	}
	n, err := b.rdb.DBSize(ctx).Result()
	if err != nil {
		b.rdb.Close()
		return nil, fmt.Errorf("redis at %s: %w", opt.Addr, err)
	}
	if n > 0 && !f.force {
		b.rdb.Close()
		return nil, fmt.Errorf("database %d of the Redis at %s holds %d keys: the bench flushes its database, "+
			"so it refuses one in use; give it an empty database with --redis, or pass --force to flush this one", opt.DB, opt.Addr, n)
	}
	if err := b.flush(ctx); err != nil {
		b.rdb.Close()
		return nil, err
	}
	if b.dir, err = os.MkdirTemp("", "dropsync-bench-"); err != nil {
		b.rdb.Close()
		return nil, fmt.Errorf("bench directory: %w", err)
	}
	// Keep-alive connections for every sender, as Shopify's delivery infrastructure keeps.
	b.client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 2 * f.concurrency, MaxIdleConnsPerHost: 2 * f.concurrency, IdleConnTimeout: time.Minute}}
	b.nextID.Store(7_000_000_001)
	return b, nil
}

// close flushes the database and releases what the bench holds.
func (b *bench) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := b.flush(ctx)
	b.client.CloseIdleConnections()
	b.rdb.Close()
	os.RemoveAll(b.dir)
	return err
}

func (b *bench) flush(ctx context.Context) error {
	if err := b.rdb.FlushDB(ctx).Err(); err != nil {
		return fmt.Errorf("flush database %d of %s: %w", b.opt.DB, b.opt.Addr, err)
	}
	return nil
}

// run measures every figure, one phase at a time with a flushed database in between, and
// prints the report.
func (b *bench) run(ctx context.Context) error {
	var err error
	if b.res.machine, err = b.machine(ctx); err != nil {
		return err
	}
	b.printf("dropsync bench: %d orders end to end, %d intake deliveries per endpoint, %d senders, %d workers\n",
		b.f.orders, b.f.intake, b.f.concurrency, b.f.workers)
	b.printf("%s\n\n", b.res.machine)
	type phase struct {
		name string
		run  func(context.Context) error
	}
	phases := []phase{{"webhook intake: bare handler and dropsync's receiver", b.intakePhase}}
	// The end-to-end runs alternate, so that whatever else the machine does weighs on both.
	rounds := min(benchRounds, b.f.orders)
	for r := range rounds {
		n := b.f.orders / rounds
		if r == rounds-1 {
			n = b.f.orders - (rounds-1)*n
		}
		first := r == 0
		phases = append(phases,
			phase{fmt.Sprintf("end to end, round %d of %d: no-op asynq chain", r+1, rounds),
				func(ctx context.Context) error { return b.chainPhase(ctx, n) }},
			phase{fmt.Sprintf("end to end, round %d of %d: dropsync's pipeline", r+1, rounds),
				func(ctx context.Context) error { return b.pipelinePhase(ctx, n, first) }})
	}
	phases = append(phases, phase{"memory: orders in flight at the supplier", b.inFlightPhase})
	for _, p := range phases {
		fmt.Fprintf(b.errw, "bench: %s…\n", p.name)
		if err := b.flush(ctx); err != nil {
			return err
		}
		debug.FreeOSMemory()
		if err := p.run(ctx); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	b.report()
	return nil
}

func (b *bench) printf(format string, args ...any) { fmt.Fprintf(b.out, format, args...) }

// machineInfo describes where the figures were measured.
type machineInfo struct {
	cpus        int
	cpuModel    string
	goVersion   string
	redis       string
	redisConfig string
}

func (m machineInfo) String() string {
	return fmt.Sprintf("machine: %d CPUs (%s), GOMAXPROCS %d, %s %s/%s\nredis:   %s, %s",
		m.cpus, m.cpuModel, runtime.GOMAXPROCS(0), m.goVersion, runtime.GOOS, runtime.GOARCH, m.redis, m.redisConfig)
}

func (b *bench) machine(ctx context.Context) (machineInfo, error) {
	m := machineInfo{cpus: runtime.NumCPU(), cpuModel: "unknown CPU", goVersion: runtime.Version()}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.cpuModel = strings.TrimSpace(v)
				break
			}
		}
	}
	info, err := b.rdb.Info(ctx, "server", "persistence").Result()
	if err != nil {
		return m, fmt.Errorf("redis INFO: %w", err)
	}
	m.redis = fmt.Sprintf("Redis %s at %s, database %d", infoField(info, "redis_version"), b.opt.Addr, b.opt.DB)
	aof := "AOF off"
	if infoField(info, "aof_enabled") == "1" {
		aof = "AOF on"
		if v, err := b.rdb.ConfigGet(ctx, "appendfsync").Result(); err == nil && v["appendfsync"] != "" {
			aof += " (appendfsync " + v["appendfsync"] + ")"
		}
	}
	m.redisConfig = aof
	return m, nil
}

// infoField reads one field of a Redis INFO reply.
func infoField(info, key string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// ---- the simulated store ----

// benchStore is one dropsync under measurement with its fake Shopify shop and supplier.
type benchStore struct {
	main    *Main
	shopify *shopifytest.Server
	acme    *suppliertest.Server
	base    string
}

// startStore starts fakes and the real program in the mode. Shopify's call limit is off in
// the fake and raised far out of reach in dropsync's limiter, so the figures are dropsync's
// own and not the budget's: the limiter's Redis round trips still happen.
func (b *bench) startStore(ctx context.Context, mode Mode) (*benchStore, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	st := &benchStore{base: "http://" + ln.Addr().String()}
	st.shopify = shopifytest.NewServer(shopifytest.Options{Shop: benchShop, AccessToken: benchShopifyToken,
		// No limit, and a bucket that says so: dropsync's limiter believes the size Shopify reports.
		Unlimited: true, BucketSize: 1_000_000})
	st.acme = suppliertest.NewServer(suppliertest.Options{
		Token: benchSupplierToken, Prefix: "ACME",
		WebhookURL: st.base + "/webhooks/suppliers/" + benchSupplier, WebhookSecret: benchSupplierSecret,
		Catalog: map[string]suppliertest.Item{
			"ACME-TEE-R-M": {Available: 1 << 30, UnitCost: "6.10", Currency: "USD"},
			"ACME-MUG-11":  {Available: 1 << 30, UnitCost: "3.20", Currency: "USD"},
		},
	})
	mappings := filepath.Join(b.dir, "mappings.csv")
	if err := os.WriteFile(mappings, []byte(benchMappings), 0o600); err != nil {
		ln.Close()
		st.closeFakes()
		return nil, fmt.Errorf("write mappings: %w", err)
	}
	yaml := fmt.Sprintf(`redis:
  url: %q
http:
  addr: 127.0.0.1:0
  shutdown_timeout: 10s
admin:
  token: bench-admin-token-0123456789
log:
  level: warn
  format: json
workers:
  concurrency: %d
shops:
  - domain: %s
    access_token: %s
    webhook_secret: %s
    api_version: "2026-01"
    api_base_url: %s
    poll_interval: 0
    notify_customer: false
    store_name: Bench Store
    rate_limit: {bucket_size: 1000000, leak_rate: 1000000}
suppliers:
  - id: %s
    kind: http
    base_url: %s
    token: %s
    webhook_secret: %s
    poll_interval: 0
mappings_file: %s
invoices:
  series: BENCH
  seller: {name: Bench Store Ltd, address: 1 Example Street}
`, b.f.redisURL, b.f.workers, benchShop, benchShopifyToken, benchShopifySecret, st.shopify.URL(),
		benchSupplier, st.acme.URL(), benchSupplierToken, benchSupplierSecret, mappings)
	cfg, err := config.Parse([]byte(yaml), nil)
	if err != nil {
		ln.Close()
		st.closeFakes()
		return nil, fmt.Errorf("bench config: %w", err)
	}
	m := NewMain(cfg, mode, newLogger(cfg.Log, b.errw))
	m.Listener = ln
	m.ShutdownTimeout = 10 * time.Second
	m.TaskCheckInterval = benchTaskCheck
	m.DelayedTaskCheck = benchDelayedCheck
	if err := m.Run(ctx); err != nil {
		_ = m.Close()
		st.closeFakes()
		return nil, fmt.Errorf("start dropsync: %w", err)
	}
	st.main = m
	return st, nil
}

func (st *benchStore) closeFakes() {
	st.acme.Close()
	st.shopify.Close()
}

// close stops dropsync, then the fakes.
func (st *benchStore) close() error {
	err := st.main.Close()
	st.closeFakes()
	return err
}

// delivery is one signed orders/create webhook, ready to send.
type delivery struct {
	orderID   int64
	webhookID string
	body      []byte
	hmac      string
}

// deliveries makes n new orders and their webhooks. With a store, the orders are placed at
// its fake Shopify first (the pipeline reads their fulfillment orders there); the bodies are
// Shopify's REST order, two lines, taxes, a discount and a personalised line.
func (b *bench) deliveries(st *benchStore, n int) []delivery {
	out := make([]delivery, n)
	for i := range out {
		id := b.nextID.Add(1)
		o := shopifytest.SampleOrder(id, shopifytest.WithCreatedAt(time.Now()))
		var body []byte
		if st != nil {
			st.shopify.AddOrder(o)
			body = st.shopify.OrderJSON(id)
		} else {
			body, _ = o.MarshalJSON()
		}
		out[i] = delivery{orderID: id, webhookID: "bench-" + strconv.FormatInt(id, 10), body: body,
			hmac: shopify.Sign(benchShopifySecret, body)}
	}
	return out
}

// ---- load ----

// loadResult is what a batch of webhook deliveries measured.
type loadResult struct {
	sent     int
	failed   int
	firstErr string
	elapsed  time.Duration
	lat      []time.Duration // sorted
}

func (r *loadResult) add(o loadResult) {
	r.sent += o.sent
	r.failed += o.failed
	if r.firstErr == "" {
		r.firstErr = o.firstErr
	}
	r.elapsed += o.elapsed
	r.lat = append(r.lat, o.lat...)
	slices.Sort(r.lat)
}

func (r loadResult) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.sent) / r.elapsed.Seconds()
}

func (r loadResult) percentile(p int) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, len(r.lat)*p/100)]
}

func (r loadResult) err() error {
	if r.failed == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d deliveries failed, the first with %s", r.failed, r.sent, r.firstErr)
}

// send posts the deliveries to url from --concurrency senders, as fast as they are answered.
func (b *bench) send(ctx context.Context, url string, ds []delivery) loadResult {
	lat := make([]time.Duration, len(ds))
	var next, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range min(b.f.concurrency, len(ds)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(ds) || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				err := b.post(ctx, url, ds[i])
				lat[i] = time.Since(t0)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		}()
	}
	wg.Wait()
	r := loadResult{sent: len(ds), failed: int(failed.Load()), elapsed: time.Since(start), lat: lat}
	if s, ok := firstErr.Load().(string); ok {
		r.firstErr = s
	}
	slices.Sort(r.lat)
	return r
}

// post sends one webhook as Shopify does.
func (b *bench) post(ctx context.Context, url string, d delivery) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(d.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Topic", dropsync.TopicOrdersCreate)
	req.Header.Set("X-Shopify-Shop-Domain", benchShop)
	req.Header.Set("X-Shopify-Hmac-Sha256", d.hmac)
	req.Header.Set("X-Shopify-Webhook-Id", d.webhookID)
	req.Header.Set("X-Shopify-API-Version", "2026-01")
	resp, err := b.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// bareIntake is the intake baseline: what no webhook endpoint can do without (read the body,
// check its HMAC, enqueue one task with the delivery's id as task id) and nothing else.
type bareIntake struct {
	secret []byte
	enq    *asynq.Client
	typ    string
	opts   []asynq.Option
}

func (h *bareIntake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 2<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	got, err := base64.StdEncoding.DecodeString(r.Header.Get("X-Shopify-Hmac-Sha256"))
	mac := hmac.New(sha256.New, h.secret)
	mac.Write(body)
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	id := r.Header.Get("X-Shopify-Webhook-Id")
	// Clipped, so that concurrent requests never append into one shared array.
	t := asynq.NewTask(h.typ, body, append(slices.Clip(h.opts), asynq.TaskID(id))...)
	if _, err := h.enq.EnqueueContext(r.Context(), t); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		http.Error(w, "not queued", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// serveBare serves a bare handler the way Main serves dropsync's (same server timeouts).
func serveBare(h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	return "http://" + ln.Addr().String() + "/webhooks/shopify", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}

// ---- phase 1: intake ----

// intakePhase alternates rounds of deliveries to the bare handler and to dropsync's receiver
// (dropsync in serve mode, so no worker competes for the CPU), and measures what a queued
// order costs in Redis.
func (b *bench) intakePhase(ctx context.Context) error {
	st, err := b.startStore(ctx, ModeServe)
	if err != nil {
		return err
	}
	defer st.close()
	rdb := redis.NewClient(b.opt)
	defer rdb.Close()
	// A queue of its own, so that its tasks do not count in the receiver's memory figure.
	bare := &bareIntake{secret: []byte(benchShopifySecret), enq: asynq.NewClientFromRedisClient(rdb), typ: "bench:intake",
		opts: []asynq.Option{asynq.Queue("bench"), asynq.MaxRetry(25), asynq.Retention(48 * time.Hour)}}
	bareURL, stop, err := serveBare(bare)
	if err != nil {
		return err
	}
	defer stop()
	realURL := st.base + "/webhooks/shopify"

	for _, url := range []string{bareURL, realURL} {
		if r := b.send(ctx, url, b.deliveries(nil, benchWarmup)); r.err() != nil {
			return fmt.Errorf("warm-up of %s: %w", url, r.err())
		}
	}
	// Alternating rounds spread whatever else the machine does over both sides alike.
	const rounds = benchIntakeRounds
	var bareRes, realRes loadResult
	var bareUse, realUse usageDelta
	var queued memDelta
	for i := range rounds {
		n := b.f.intake / rounds
		if i == rounds-1 {
			n = b.f.intake - (rounds-1)*(b.f.intake/rounds)
		}
		if n == 0 {
			continue
		}
		ds := b.deliveries(nil, n)
		u0 := b.usage(ctx)
		r := b.send(ctx, bareURL, ds)
		bareUse.add(b.usage(ctx).sub(u0))
		if err := r.err(); err != nil {
			return fmt.Errorf("bare handler: %w", err)
		}
		bareRes.add(r)
		ds = b.deliveries(nil, n)
		before, err := b.memory(ctx, "asynq:{"+jobs.QueueIntake+"}:")
		if err != nil {
			return err
		}
		u0 = b.usage(ctx)
		r = b.send(ctx, realURL, ds)
		realUse.add(b.usage(ctx).sub(u0))
		if err := r.err(); err != nil {
			return fmt.Errorf("dropsync's receiver: %w", err)
		}
		realRes.add(r)
		after, err := b.memory(ctx, "asynq:{"+jobs.QueueIntake+"}:")
		if err != nil {
			return err
		}
		queued.add(after.sub(before), n)
	}
	b.res.bareIntake, b.res.realIntake, b.res.intakeQueued = bareRes, realRes, queued
	b.res.bareCPU, b.res.realCPU = bareUse, realUse
	if b.f.intakeProf != "" {
		// One more round for the profile, not counted in the figures.
		ds := b.deliveries(nil, b.f.intake/rounds+1)
		stopProfile, err := startProfile(b.f.intakeProf)
		if err != nil {
			return err
		}
		r := b.send(ctx, realURL, ds)
		stopProfile()
		if err := r.err(); err != nil {
			return fmt.Errorf("dropsync's receiver: %w", err)
		}
	}
	return nil
}

// ---- phase 2: the no-op chain ----

// e2eResult is what an end-to-end run measured.
type e2eResult struct {
	orders      int
	toFulfilled time.Duration // the pipeline only
	toDone      time.Duration
	intake      loadResult
	use         usageDelta
	trips       int64            // Redis round trips of dropsync (or the baseline) and asynq
	tripsBy     map[string]int64 // by command
	tasks       int64            // tasks asynq's workers processed, failed attempts included
}

func (r *e2eResult) add(o e2eResult) {
	r.orders += o.orders
	r.toFulfilled += o.toFulfilled
	r.toDone += o.toDone
	r.intake.add(o.intake)
	r.use.add(o.use)
	r.trips += o.trips
	r.tasks += o.tasks
	if r.tripsBy == nil {
		r.tripsBy = map[string]int64{}
	}
	for k, v := range o.tripsBy {
		r.tripsBy[k] += v
	}
}

func (r e2eResult) rate(d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(r.orders) / d.Seconds()
}

// taskRate is the tasks processed per second until the last order was done.
func (r e2eResult) taskRate() float64 {
	if r.toDone <= 0 {
		return 0
	}
	return float64(r.tasks) / r.toDone.Seconds()
}

// processed sums asynq's cumulative processed-task counters over every queue of the
// database: the tasks workers ran, successes and failures alike. The database is flushed
// between phases, so a phase's difference is its own.
func (b *bench) processed() (int64, error) {
	insp := asynq.NewInspectorFromRedisClient(b.rdb)
	queues, err := insp.Queues()
	if err != nil {
		return 0, fmt.Errorf("list asynq queues: %w", err)
	}
	var n int64
	for _, q := range queues {
		info, err := insp.GetQueueInfo(q)
		if errors.Is(err, asynq.ErrQueueNotFound) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("asynq queue %s: %w", q, err)
		}
		n += int64(info.ProcessedTotal)
	}
	return n, nil
}

// chainStep returns the options step k (1-based) of the baseline chain is enqueued with:
// the queue, retries, retention and task id of the pipeline's step k, so that the baseline
// does all the asynq work the pipeline does and nothing else.
func chainStep(k int, key string) (string, []asynq.Option) {
	typ := "bench:step" + strconv.Itoa(k)
	id := asynq.TaskID(typ + ":" + key)
	switch k {
	case 1: // order:ingest
		return typ, []asynq.Option{asynq.Queue(jobs.QueueIntake), asynq.MaxRetry(25), asynq.Retention(48 * time.Hour)}
	case 2, 3: // order:verify, po:forward
		return typ, []asynq.Option{asynq.Queue(jobs.QueueFulfilment), asynq.MaxRetry(20), asynq.Retention(2 * time.Hour), id}
	case 4: // po:tracking
		return typ, []asynq.Option{asynq.Queue(jobs.QueueTracking), asynq.MaxRetry(20), asynq.Retention(time.Minute)}
	case 5: // shipment:push
		return typ, []asynq.Option{asynq.Queue(jobs.QueueFulfilment), asynq.MaxRetry(25), asynq.Retention(2 * time.Hour), id}
	default: // invoice:issue
		return typ, []asynq.Option{asynq.Queue(jobs.QueueMaintenance), asynq.MaxRetry(20), asynq.Retention(2 * time.Hour), id}
	}
}

// noopChain runs the baseline's steps: each enqueues the next; the last counts the order.
type noopChain struct {
	enq  *asynq.Client
	done atomic.Int64
}

func (c *noopChain) register(mux *asynq.ServeMux) {
	for k := 1; k <= benchSteps; k++ {
		typ, _ := chainStep(k, "")
		mux.HandleFunc(typ, func(ctx context.Context, t *asynq.Task) error {
			key := string(t.Payload())
			if k == 1 {
				// The first step's payload is the webhook body; its task id names the order.
				id, _ := asynq.GetTaskID(ctx)
				key = id
			}
			if k == benchSteps {
				c.done.Add(1)
				return nil
			}
			typ, opts := chainStep(k+1, key)
			_, err := c.enq.EnqueueContext(ctx, asynq.NewTask(typ, []byte(key), opts...))
			if errors.Is(err, asynq.ErrTaskIDConflict) {
				return nil
			}
			return err
		})
	}
}

// chainPhase sends the orders' webhooks to the bare handler, which enqueues the first of a
// chain of benchSteps no-op tasks run by an asynq server configured as dropsync's.
func (b *bench) chainPhase(ctx context.Context, n int) error {
	rdb := redis.NewClient(b.opt)
	defer rdb.Close()
	trips := newTripCounter()
	rdb.AddHook(trips)
	client := asynq.NewClientFromRedisClient(rdb)
	chain := &noopChain{enq: client}
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:              b.f.workers,
		Queues:                   jobs.Queues,
		RetryDelayFunc:           jobs.RetryDelay,
		IsFailure:                jobs.IsFailure,
		ShutdownTimeout:          10 * time.Second,
		TaskCheckInterval:        benchTaskCheck,
		DelayedTaskCheckInterval: benchDelayedCheck,
		Logger:                   asynqLogger{zerolog.New(b.errw).Level(zerolog.WarnLevel)},
		LogLevel:                 asynq.WarnLevel,
	})
	mux := asynq.NewServeMux()
	chain.register(mux)
	if err := srv.Start(mux); err != nil {
		return fmt.Errorf("start baseline workers: %w", err)
	}
	defer srv.Shutdown()
	typ, opts := chainStep(1, "")
	url, stop, err := serveBare(&bareIntake{secret: []byte(benchShopifySecret), enq: client, typ: typ, opts: opts})
	if err != nil {
		return err
	}
	defer stop()

	ds := b.deliveries(nil, n)
	p0, err := b.processed()
	if err != nil {
		return err
	}
	u0 := b.usage(ctx)
	_, t0 := trips.snapshot()
	start := time.Now()
	var intake loadResult
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		intake = b.send(ctx, url, ds)
	}()
	err = b.waitFor(ctx, "baseline orders through all steps", func(context.Context) (int64, bool, error) {
		d := chain.done.Load()
		return d, d >= int64(n), nil
	})
	<-sent
	if err != nil {
		return err
	}
	if err := intake.err(); err != nil {
		return err
	}
	elapsed := time.Since(start)
	_, t1 := trips.snapshot()
	use := b.usage(ctx).sub(u0)
	p1, err := b.processed()
	if err != nil {
		return err
	}
	b.res.chain.add(e2eResult{orders: n, toDone: elapsed, intake: intake, use: use, trips: t1 - t0, tasks: p1 - p0})
	return nil
}

// ---- phase 3: the pipeline ----

// pipelinePhase sends n orders' webhooks to dropsync in run mode and waits until every
// order is fulfilled at Shopify and invoiced. The supplier ships each order as soon as
// dropsync has recorded its acceptance. The first round is the one --cpuprofile profiles.
func (b *bench) pipelinePhase(ctx context.Context, n int, first bool) error {
	st, err := b.startStore(ctx, ModeRun)
	if err != nil {
		return err
	}
	defer st.close()
	trips := newTripCounter()
	st.main.Store.Client().AddHook(trips)
	sctx, stopShipper := context.WithCancel(ctx)
	sh := newShipper(b.rdb, st.acme)
	sh.open.Store(true)
	shipperDone := make(chan struct{})
	go func() { defer close(shipperDone); sh.run(sctx) }()
	defer func() { stopShipper(); <-shipperDone }()

	ds := b.deliveries(st, n)
	mem0, err := b.memory(ctx, "")
	if err != nil {
		return err
	}
	callsBefore := len(st.shopify.Calls())
	p0, err := b.processed()
	if err != nil {
		return err
	}
	profile := ""
	if first {
		profile = b.f.cpuprofile
	}
	stopProfile, err := startProfile(profile)
	if err != nil {
		return err
	}
	u0 := b.usage(ctx)
	by0, t0 := trips.snapshot()
	start := time.Now()
	var intake loadResult
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		intake = b.send(ctx, st.base+"/webhooks/shopify", ds)
	}()
	var toFulfilled time.Duration
	err = b.waitFor(ctx, "orders fulfilled and invoiced", func(ctx context.Context) (int64, bool, error) {
		fulfilled, issued, err := b.progress(ctx)
		if fulfilled >= int64(n) && toFulfilled == 0 {
			toFulfilled = time.Since(start)
		}
		return fulfilled + issued, fulfilled >= int64(n) && issued >= int64(n), err
	})
	elapsed := time.Since(start)
	use := b.usage(ctx).sub(u0)
	by1, t1 := trips.snapshot()
	stopProfile()
	<-sent
	if err != nil {
		return b.diagnose(ctx, err, sh)
	}
	if err := intake.err(); err != nil {
		return err
	}
	if err := sh.err(); err != nil {
		return err
	}
	p1, err := b.processed()
	if err != nil {
		return err
	}
	mem1, err := b.memory(ctx, "")
	if err != nil {
		return err
	}
	for k, v := range by0 {
		by1[k] -= v
	}
	b.res.pipeline.add(e2eResult{orders: n, toFulfilled: toFulfilled, toDone: elapsed, intake: intake, use: use,
		trips: t1 - t0, tripsBy: by1, tasks: p1 - p0})
	d := mem1.sub(mem0)
	b.res.completed.add(d, n)
	if b.res.completedKinds == nil {
		b.res.completedKinds = map[string]classMem{}
	}
	for k, c := range d.classes {
		sum := b.res.completedKinds[k]
		sum.class, sum.bytes, sum.keys = k, sum.bytes+c.bytes, sum.keys+c.keys
		b.res.completedKinds[k] = sum
	}
	b.countCalls(st, callsBefore)
	return nil
}

// startProfile starts a CPU profile written to path, if one is asked for.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// progress counts the fulfilled orders and the issued invoices.
func (b *bench) progress(ctx context.Context) (fulfilled, issued int64, err error) {
	counts, err := b.store.CountByState(ctx, benchShop)
	if err != nil {
		return 0, 0, err
	}
	// The invoices' issue index (internal/redisstore/invoices.go): one entry per invoice.
	issued, err = b.rdb.ZCard(ctx, redisstore.Prefix+"{invoices}:issued").Result()
	if err != nil {
		return 0, 0, fmt.Errorf("count invoices: %w", err)
	}
	return counts[dropsync.StateFulfilled], issued, nil
}

// diagnose adds where the orders stand to a failed wait.
func (b *bench) diagnose(ctx context.Context, err error, sh *shipper) error {
	counts, cerr := b.store.CountByState(context.WithoutCancel(ctx), benchShop)
	if cerr != nil {
		return err
	}
	var parts []string
	for _, s := range dropsync.OrderStates {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, counts[s]))
		}
	}
	if serr := sh.err(); serr != nil {
		parts = append(parts, "shipper: "+serr.Error())
	}
	return fmt.Errorf("%w (orders: %s)", err, strings.Join(parts, ", "))
}

// countCalls adds the Shopify calls from the fake's log and the supplier calls from
// dropsync's own counters.
func (b *bench) countCalls(st *benchStore, callsBefore int) {
	if b.res.shopifyCalls == nil {
		b.res.shopifyCalls, b.res.supplierCalls = map[string]int{}, map[string]float64{}
	}
	for _, c := range st.shopify.Calls()[callsBefore:] {
		b.res.shopifyCalls[c.Method+" "+idPattern.ReplaceAllString(c.Resource, "/{id}")]++
	}
	families, err := st.main.Observer.Registry.Gather()
	if err != nil {
		return
	}
	for _, mf := range families {
		if mf.GetName() != "dropsync_supplier_calls_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "operation" {
					b.res.supplierCalls[l.GetValue()] += m.GetCounter().GetValue()
				}
			}
		}
	}
}

var idPattern = regexp.MustCompile(`/[0-9]+`)

// ---- phase 4: in flight ----

// inFlightPhase measures what an order waiting at its supplier costs in Redis: the supplier
// holds the parcels until every order is forwarded, then ships them all.
func (b *bench) inFlightPhase(ctx context.Context) error {
	st, err := b.startStore(ctx, ModeRun)
	if err != nil {
		return err
	}
	defer st.close()
	sctx, stopShipper := context.WithCancel(ctx)
	sh := newShipper(b.rdb, st.acme)
	shipperDone := make(chan struct{})
	go func() { defer close(shipperDone); sh.run(sctx) }()
	defer func() { stopShipper(); <-shipperDone }()

	n := max(1, b.f.orders/4)
	ds := b.deliveries(st, n)
	mem0, err := b.memory(ctx, "")
	if err != nil {
		return err
	}
	if r := b.send(ctx, st.base+"/webhooks/shopify", ds); r.err() != nil {
		return r.err()
	}
	err = b.waitFor(ctx, "orders forwarded", func(ctx context.Context) (int64, bool, error) {
		counts, err := b.store.CountByState(ctx, benchShop)
		return counts[dropsync.StateForwarded], counts[dropsync.StateForwarded] >= int64(n), err
	})
	if err != nil {
		return b.diagnose(ctx, err, sh)
	}
	// The last forward tasks are marked done just after their orders are stored: the snapshot
	// waits until the fulfilment queue has nothing pending or running.
	insp := asynq.NewInspectorFromRedisClient(b.rdb)
	err = b.waitFor(ctx, "the fulfilment queue idle", func(context.Context) (int64, bool, error) {
		info, err := insp.GetQueueInfo(jobs.QueueFulfilment)
		if err != nil {
			return 0, false, fmt.Errorf("asynq queue %s: %w", jobs.QueueFulfilment, err)
		}
		busy := int64(info.Pending + info.Active)
		return busy, busy == 0, nil
	})
	if err != nil {
		return b.diagnose(ctx, err, sh)
	}
	mem1, err := b.memory(ctx, "")
	if err != nil {
		return err
	}
	b.res.inFlight.add(mem1.sub(mem0), n)
	sh.open.Store(true)
	err = b.waitFor(ctx, "orders fulfilled and invoiced", func(ctx context.Context) (int64, bool, error) {
		fulfilled, issued, err := b.progress(ctx)
		return fulfilled + issued, fulfilled >= int64(n) && issued >= int64(n), err
	})
	if err != nil {
		return b.diagnose(ctx, err, sh)
	}
	return sh.err()
}

// shipper ships each order at the fake supplier as soon as dropsync has recorded the
// supplier's acceptance (the order is forwarded), which is what "the supplier ships at once"
// can mean: the fake's AutoShip may ship before the forward step has stored the acceptance,
// and dropsync leaves such an early parcel event to its next poll of the supplier.
type shipper struct {
	rdb     *redis.Client
	acme    *suppliertest.Server
	open    atomic.Bool
	failed  atomic.Int64
	lastErr atomic.Value
}

func newShipper(rdb *redis.Client, acme *suppliertest.Server) *shipper {
	return &shipper{rdb: rdb, acme: acme}
}

func (s *shipper) err() error {
	if n := s.failed.Load(); n > 0 {
		return fmt.Errorf("%d parcels could not be shipped, the last: %v", n, s.lastErr.Load())
	}
	return nil
}

// run reads the shop's forwarded orders every benchPoll until ctx ends and ships
// each once.
func (s *shipper) run(ctx context.Context) {
	// The state index of internal/redisstore/store.go: a sorted set of order ids per state.
	key := redisstore.Prefix + "orders:" + benchShop + ":state:" + string(dropsync.StateForwarded)
	work := make(chan string, 4096)
	var wg sync.WaitGroup
	for range benchShippers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				if err := s.acme.Ship(id); err != nil {
					s.failed.Add(1)
					s.lastErr.Store(err.Error())
				}
			}
		}()
	}
	defer func() {
		close(work)
		wg.Wait()
	}()
	shipped := map[string]bool{}
	t := time.NewTicker(benchPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !s.open.Load() {
			continue
		}
		ids, err := s.rdb.ZRange(ctx, key, 0, -1).Result()
		if err != nil {
			continue
		}
		for _, id := range ids {
			oid, err := strconv.ParseInt(id, 10, 64)
			if err != nil || shipped[id] {
				continue
			}
			shipped[id] = true
			select {
			case work <- dropsync.POID(benchShop, oid, benchSupplier):
			case <-ctx.Done():
				return
			}
		}
	}
}

// waitFor polls check until it reports done; it fails when the progress it reports has not
// moved for benchStall.
func (b *bench) waitFor(ctx context.Context, what string, check func(context.Context) (progress int64, done bool, err error)) error {
	last, lastAt := int64(-1), time.Now()
	t := time.NewTicker(benchPoll)
	defer t.Stop()
	for {
		p, done, err := check(ctx)
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if done {
			return nil
		}
		if p != last {
			last, lastAt = p, time.Now()
		} else if time.Since(lastAt) > benchStall {
			return fmt.Errorf("waiting for %s: no progress for %s", what, benchStall)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// ---- measurements ----

// tripCounter counts a Redis client's round trips by command: a pipeline or a MULTI…EXEC
// sent as one counts once. Scripts count as one evalsha, whatever they do inside.
type tripCounter struct {
	mu     sync.Mutex
	byName map[string]int64
	total  int64
}

func newTripCounter() *tripCounter { return &tripCounter{byName: map[string]int64{}} }

func (c *tripCounter) add(name string) {
	c.mu.Lock()
	c.byName[name]++
	c.total++
	c.mu.Unlock()
}

func (c *tripCounter) snapshot() (map[string]int64, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[string]int64, len(c.byName))
	for k, v := range c.byName {
		m[k] = v
	}
	return m, c.total
}

// DialHook is part of redis.Hook.
func (c *tripCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook is part of redis.Hook.
func (c *tripCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.add(cmd.Name())
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook is part of redis.Hook.
func (c *tripCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		name := "pipeline"
		if len(cmds) > 0 && cmds[0].Name() == "multi" {
			name = "multi…exec"
		}
		c.add(name)
		return next(ctx, cmds)
	}
}

// procUsage is the process's and Redis' resource use at one moment.
type procUsage struct {
	cpu      time.Duration // this process, user + system
	rss, hwm int64         // this process, bytes
	redisCPU time.Duration // the Redis server, user + system
	at       time.Time
}

// usageDelta is the resource use over a phase.
type usageDelta struct {
	cpu, redisCPU, wall time.Duration
	rss0, hwm           int64 // RSS at the start of the phase and its peak during it
}

func (d *usageDelta) add(o usageDelta) {
	d.cpu += o.cpu
	d.redisCPU += o.redisCPU
	d.wall += o.wall
	if d.rss0 == 0 {
		d.rss0 = o.rss0
	}
	d.hwm = max(d.hwm, o.hwm)
}

func (u procUsage) sub(o procUsage) usageDelta {
	return usageDelta{cpu: u.cpu - o.cpu, redisCPU: u.redisCPU - o.redisCPU, wall: u.at.Sub(o.at), rss0: o.rss, hwm: u.hwm}
}

// usage reads /proc/self for the process (Linux; zero elsewhere) and INFO cpu for Redis. It
// resets the peak RSS, so that each phase reports its own.
func (b *bench) usage(ctx context.Context) procUsage {
	u := procUsage{at: time.Now()}
	if data, err := os.ReadFile("/proc/self/stat"); err == nil {
		// Fields after the parenthesised command name; utime and stime are the 12th and 13th,
		// in clock ticks of 1/100 s (USER_HZ).
		if i := bytes.LastIndexByte(data, ')'); i > 0 {
			f := strings.Fields(string(data[i+1:]))
			if len(f) > 12 {
				ut, _ := strconv.ParseInt(f[11], 10, 64)
				st, _ := strconv.ParseInt(f[12], 10, 64)
				u.cpu = time.Duration(ut+st) * 10 * time.Millisecond
			}
		}
	}
	if f, err := os.Open("/proc/self/status"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), ":")
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			switch k {
			case "VmRSS":
				u.rss = kb << 10
			case "VmHWM":
				u.hwm = kb << 10
			}
		}
		f.Close()
		_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	}
	if info, err := b.rdb.Info(ctx, "cpu").Result(); err == nil {
		us, _ := strconv.ParseFloat(infoField(info, "used_cpu_user"), 64)
		sy, _ := strconv.ParseFloat(infoField(info, "used_cpu_sys"), 64)
		u.redisCPU = time.Duration((us + sy) * float64(time.Second))
	}
	return u
}

// classMem is the memory and key count of one kind of key.
type classMem struct {
	class       string
	bytes, keys int64
}

// memSnapshot is Redis' memory at one moment: INFO used_memory (the whole server) and
// MEMORY USAGE summed over this database's keys by kind (this database only).
type memSnapshot struct {
	used    int64
	keys    int64
	bytes   int64
	classes map[string]classMem
}

func (m memSnapshot) sub(o memSnapshot) memSnapshot {
	d := memSnapshot{used: m.used - o.used, keys: m.keys - o.keys, bytes: m.bytes - o.bytes, classes: map[string]classMem{}}
	for k, c := range m.classes {
		p := o.classes[k]
		d.classes[k] = classMem{class: k, bytes: c.bytes - p.bytes, keys: c.keys - p.keys}
	}
	for k, p := range o.classes {
		if _, ok := m.classes[k]; !ok {
			d.classes[k] = classMem{class: k, bytes: -p.bytes, keys: -p.keys}
		}
	}
	return d
}

// byClass lists the kinds of keys, largest first.
func (m memSnapshot) byClass() []classMem {
	var out []classMem
	for _, c := range m.classes {
		if c.bytes != 0 || c.keys != 0 {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].bytes > out[j].bytes })
	return out
}

// memDelta accumulates memory differences over a number of orders.
type memDelta struct {
	used, keys, bytes int64
	orders            int
}

func (d *memDelta) add(m memSnapshot, orders int) {
	d.used += m.used
	d.keys += m.keys
	d.bytes += m.bytes
	d.orders += orders
}

func (d memDelta) per(v int64) float64 {
	if d.orders == 0 {
		return 0
	}
	return float64(v) / float64(d.orders)
}

// memory takes a snapshot of the keys that start with prefix ("" = every key).
func (b *bench) memory(ctx context.Context, prefix string) (memSnapshot, error) {
	m := memSnapshot{classes: map[string]classMem{}}
	info, err := b.rdb.Info(ctx, "memory").Result()
	if err != nil {
		return m, fmt.Errorf("redis INFO memory: %w", err)
	}
	m.used, _ = strconv.ParseInt(infoField(info, "used_memory"), 10, 64)
	var cursor uint64
	for {
		keys, next, err := b.rdb.Scan(ctx, cursor, prefix+"*", 2000).Result()
		if err != nil {
			return m, fmt.Errorf("redis SCAN: %w", err)
		}
		cmds := make([]*redis.IntCmd, len(keys))
		_, err = b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				// SAMPLES 0: every element, so hashes and sorted sets are measured exactly.
				cmds[i] = p.MemoryUsage(ctx, k, 0)
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return m, fmt.Errorf("redis MEMORY USAGE: %w", err)
		}
		for i, k := range keys {
			n, err := cmds[i].Result()
			if err != nil {
				continue // expired between SCAN and MEMORY USAGE
			}
			c := keyClass(k)
			cm := m.classes[c]
			cm.class, cm.bytes, cm.keys = c, cm.bytes+n, cm.keys+1
			m.classes[c] = cm
			m.bytes += n
			m.keys++
		}
		if cursor = next; cursor == 0 {
			return m, nil
		}
	}
}

// keyClass names what a key holds, for the memory breakdown.
func keyClass(k string) string {
	if rest, ok := strings.CutPrefix(k, "asynq:{"); ok {
		q, sub, _ := strings.Cut(rest, "}:")
		if strings.HasPrefix(sub, "t:") {
			return "asynq tasks, queue " + q
		}
		return "asynq queue indexes, queue " + q
	}
	switch {
	case strings.HasPrefix(k, "asynq:"):
		return "asynq servers and workers"
	case strings.HasPrefix(k, redisstore.Prefix+"order:"):
		return "dropsync order documents"
	case strings.HasPrefix(k, redisstore.Prefix+"orders:"):
		return "dropsync order indexes"
	case strings.HasPrefix(k, redisstore.Prefix+"po:open:"):
		return "dropsync open purchase orders"
	case strings.HasPrefix(k, redisstore.Prefix+"customer:"):
		return "dropsync customer index"
	case strings.HasPrefix(k, redisstore.Prefix+"customer-invoices:"):
		return "dropsync customer invoice index"
	case strings.HasPrefix(k, redisstore.Prefix+"{invoices}:"):
		return "dropsync invoices"
	case strings.HasPrefix(k, redisstore.Prefix):
		return "dropsync other (mappings, rate limit)"
	}
	return "other"
}

// ---- report ----

func (b *bench) report() {
	r := b.res
	w := tabwriter.NewWriter(b.out, 0, 0, 2, ' ', 0)
	row := func(cells ...string) { fmt.Fprintln(w, strings.Join(cells, "\t")+"\t") }
	pct := func(a, b float64) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f%%", 100*a/b)
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
	us := func(d time.Duration, n int) string {
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)/float64(max(n, 1)))
	}
	kb := func(v float64) string { return fmt.Sprintf("%.1f KiB", v/1024) }
	per1k := func(d time.Duration, n int) string { return fmt.Sprintf("%.2f s", d.Seconds()*1000/float64(max(n, 1))) }
	perOrder := func(v float64, n int) string { return fmt.Sprintf("%.2f", v/float64(max(n, 1))) }

	b.printf("webhook intake: %d signed orders/create deliveries per endpoint in %d alternating rounds, %d concurrent senders\n",
		r.realIntake.sent, benchIntakeRounds, b.f.concurrency)
	row("", "req/s", "p50", "p99", "CPU/delivery", "Redis CPU/delivery")
	row("bare handler (HMAC + one enqueue)", fmt.Sprintf("%.0f", r.bareIntake.rate()), ms(r.bareIntake.percentile(50)),
		ms(r.bareIntake.percentile(99)), us(r.bareCPU.cpu, r.bareIntake.sent), us(r.bareCPU.redisCPU, r.bareIntake.sent))
	row("dropsync receiver", fmt.Sprintf("%.0f", r.realIntake.rate()), ms(r.realIntake.percentile(50)),
		ms(r.realIntake.percentile(99)), us(r.realCPU.cpu, r.realIntake.sent), us(r.realCPU.redisCPU, r.realIntake.sent))
	row("ratio (target ≥ 80%)", pct(r.realIntake.rate(), r.bareIntake.rate()), "", "", "", "")
	w.Flush()
	b.printf("  CPU/delivery is this whole process's, the senders' share included.\n")

	c, p := r.chain, r.pipeline
	b.printf("\nend to end: %d orders from webhook to last step in %d alternating rounds, %d steps per order, %d workers\n",
		p.orders, min(benchRounds, b.f.orders), benchSteps, b.f.workers)
	rss := func(u usageDelta) string { return fmt.Sprintf("%d→%d MiB", u.rss0>>20, u.hwm>>20) }
	row("", "orders/s", "tasks/s", "Redis trips/order", "CPU s/1k orders", "Redis CPU s/1k", "RSS start→peak")
	row("no-op asynq chain", fmt.Sprintf("%.0f", c.rate(c.toDone)), fmt.Sprintf("%.0f", c.taskRate()),
		perOrder(float64(c.trips), c.orders), per1k(c.use.cpu, c.orders), per1k(c.use.redisCPU, c.orders), rss(c.use))
	row("dropsync, to fulfilled", fmt.Sprintf("%.0f", p.rate(p.toFulfilled)), "", "", "", "", "")
	row("dropsync, to invoiced (all steps)", fmt.Sprintf("%.0f", p.rate(p.toDone)), fmt.Sprintf("%.0f", p.taskRate()),
		perOrder(float64(p.trips), p.orders), per1k(p.use.cpu, p.orders), per1k(p.use.redisCPU, p.orders), rss(p.use))
	row("ratio (target ≥ 50%)", pct(p.rate(p.toDone), c.rate(c.toDone)), "", "", "", "", "")
	w.Flush()
	var trips []string
	for _, k := range sortedKeys(p.tripsBy) {
		if v := p.tripsBy[k]; v*10 >= int64(p.orders) {
			trips = append(trips, k+" "+perOrder(float64(v), p.orders))
		}
	}
	b.printf("  tasks/s counts the tasks asynq's workers processed, failed attempts included, by asynq's own counters;\n")
	b.printf("  per order: chain %s, dropsync %s (the pipeline's %d steps, plus retries and periodic work)\n",
		perOrder(float64(c.tasks), c.orders), perOrder(float64(p.tasks), p.orders), benchSteps)
	b.printf("  dropsync's Redis round trips per order, asynq's included: %s\n", strings.Join(trips, ", "))
	b.printf("  webhooks during the runs: chain p50 %s p99 %s; dropsync p50 %s p99 %s\n",
		ms(c.intake.percentile(50)), ms(c.intake.percentile(99)), ms(p.intake.percentile(50)), ms(p.intake.percentile(99)))
	b.printf("  CPU is this whole process's: dropsync, the fake Shopify and supplier, and the webhook senders;\n")
	b.printf("  Redis CPU is the whole server's. RSS is this process's (fakes and pre-built webhooks included),\n")
	b.printf("  at the start of the first round and at its peak in any round.\n")
	b.printf("  The harness reads Redis every %s while dropsync runs (the shipper's look for forwarded\n", benchPoll)
	b.printf("  orders, the progress counts): that is in dropsync's CPU and Redis CPU, not in the chain's,\n")
	b.printf("  whose progress is an in-process counter.\n")

	b.printf("\nAPI calls per order on the happy path (2 lines, 1 supplier, 1 parcel; the fake Shopify's call limit off)\n")
	shopifyTotal, supplierTotal := 0, 0.0
	for _, v := range r.shopifyCalls {
		shopifyTotal += v
	}
	for _, v := range r.supplierCalls {
		supplierTotal += v
	}
	row("Shopify Admin API (target ≤ 3)", perOrder(float64(shopifyTotal), p.orders))
	for _, k := range sortedKeys(r.shopifyCalls) {
		row("  "+k, perOrder(float64(r.shopifyCalls[k]), p.orders))
	}
	row("supplier", perOrder(supplierTotal, p.orders))
	for _, k := range sortedKeys(r.supplierCalls) {
		row("  "+k, perOrder(r.supplierCalls[k], p.orders))
	}
	w.Flush()

	b.printf("\nRedis memory per order\n")
	row("", "MEMORY USAGE", "keys", "used_memory Δ")
	for _, m := range []struct {
		name string
		d    memDelta
	}{
		{"queued webhook (order:ingest waiting)", r.intakeQueued},
		{fmt.Sprintf("in flight at the supplier (%d orders)", r.inFlight.orders), r.inFlight},
		{"completed (what retention keeps)", r.completed},
	} {
		row(m.name, kb(m.d.per(m.d.bytes)), fmt.Sprintf("%.1f", m.d.per(m.d.keys)), kb(m.d.per(m.d.used)))
	}
	w.Flush()
	b.printf("  a completed order, by kind of key:\n")
	kinds := memSnapshot{classes: r.completedKinds}.byClass()
	for _, k := range kinds {
		row("    "+k.class, kb(float64(k.bytes)/float64(max(p.orders, 1))), fmt.Sprintf("%.1f", float64(k.keys)/float64(max(p.orders, 1))), "")
	}
	w.Flush()
	b.printf("  kept: finished tasks for their Retention (order:ingest 48 h, so that a webhook redelivery stays\n")
	b.printf("  a duplicate; verify, forward, push and invoice 2 h; po:tracking 1 min), then asynq deletes them;\n")
	b.printf("  dropsync's order documents and indexes for retention.orders_days (365 days by default), its\n")
	b.printf("  invoices for good. used_memory is the whole server's.\n")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
