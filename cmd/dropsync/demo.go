package main

import (
	"context"
	crand "crypto/rand"
	_ "embed"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	"github.com/dropsync/dropsync/connectors/shopify/shopifytest"
	"github.com/dropsync/dropsync/connectors/supplier/http/suppliertest"
	"github.com/dropsync/dropsync/internal/config"
	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/redisstore"
)

// demoYAML is the demo's config; cmdDemo fills in its ${DEMO_…} values.
//
//go:embed demo.yaml
var demoYAML []byte

// The simulated store and its secrets. They only ever protect fakes inside this process.
const (
	demoShop          = "demo-store.myshopify.com"
	demoShopifyToken  = "shpat_dropsync_demo_token"
	demoShopifySecret = "shpss_dropsync_demo_webhook_secret"
)

// How the simulation behaves. The shares are per order; the delays are a supplier's "few
// days" squeezed into seconds so that a newcomer sees orders reach fulfilled in the first
// minute.
const (
	demoProgressEvery = 2 * time.Second
	demoShipAfter     = 2 * time.Second  // a supplier ships an accepted order after this…
	demoShipJitter    = 3 * time.Second  // …plus up to this
	demoNextParcel    = time.Second      // a split order's next parcel follows after this (plus jitter)
	demoSplitShare    = 0.35             // of orders with several items, shipped in several parcels
	demoUnpaidShare   = 0.07             // placed unpaid (pending), paid a few seconds later
	demoPayAfter      = 3 * time.Second  // plus up to demoShipJitter
	demoLampShare     = 0.10             // orders of the desk lamp, whose primary supplier runs out
	demoLampStock     = 3                // units of the lamp at its primary supplier: gone in seconds
	demoGiftNoteShare = 0.12             // orders with a line no supplier fulfils (the merchant does)
	demoFaultShare    = 1.0 / 15         // orders after which a supplier answers its next order 500
	demoNotesPerKind  = 3                // explained events of each kind before they are only counted
	demoTrackFor      = 10 * time.Minute // the shipper gives up on an order after this
	demoCallsPerOrder = 4                // Shopify calls an order costs: its risk, then two per parcel
	demoLampSKU       = "DESK-LAMP"
	demoGiftNoteSKU   = "GIFT-NOTE"
)

// demoFlags are `dropsync demo`'s flags.
type demoFlags struct {
	rate        float64
	duration    time.Duration
	orders      int
	addr        string
	config      string
	redis       string
	seed        uint64
	shopifyRate int
}

// cmdDemo runs a whole simulated store through the real pipeline until ctx ends (Ctrl-C),
// --duration has passed or, with --orders, that many orders have been placed and each has
// come to an end: an embedded Redis unless a reachable one is given, a fake Shopify shop and
// two fake suppliers, a stream of orders, and a progress line every two seconds. It stops the
// order stream first, then dropsync (gracefully), then the fakes, and prints a summary.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f demoFlags
	fs.Float64Var(&f.rate, "rate", 2, "orders per second the simulated store receives")
	fs.DurationVar(&f.duration, "duration", 0, "stop after this long, e.g. 20s (0: run until Ctrl-C)")
	fs.IntVar(&f.orders, "orders", 0,
		"place this many orders, then stop once each is fulfilled, cancelled or failed (0: stream until --duration or Ctrl-C)")
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8080", "dropsync's listen address: webhooks, admin API, dashboard")
	fs.StringVar(&f.config, "config", "", "use the redis.url of this dropsync config instead of an embedded Redis")
	fs.StringVar(&f.redis, "redis", "", "use the Redis at this redis:// URL instead of an embedded one")
	fs.Uint64Var(&f.seed, "seed", 0, "seed of the order stream, to repeat a run's orders (0: random)")
	fs.IntVar(&f.shopifyRate, "shopify-rate", 20,
		"Shopify REST calls per second the simulated shop allows; its bucket holds 20 times that (2 = standard plan, 20 = Plus)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Sprintf("demo takes no arguments, got %q", fs.Args())}
	case !(f.rate > 0 && f.rate <= 2000):
		return usageError{"--rate must be more than 0 and at most 2000 orders per second"}
	case f.duration < 0:
		return usageError{"--duration must not be negative"}
	case f.orders < 0:
		return usageError{"--orders must not be negative"}
	case f.shopifyRate < 1:
		return usageError{"--shopify-rate must be at least 1"}
	}
	if f.seed == 0 {
		f.seed = randomSeed()
	}
	d := &demo{f: f, out: &lockedWriter{w: stdout}, notes: map[string]int{}}
	defer d.close()
	if err := d.start(ctx); err != nil {
		return err
	}
	return d.run(ctx)
}

// demo is one run of `dropsync demo`: the pieces it starts and what it has counted.
type demo struct {
	f   demoFlags
	out *lockedWriter

	shop      string
	token     string
	base      string // dropsync's URL
	dir       string
	logPath   string
	logFile   *os.File
	redisDesc string
	redisNote string
	mini      *miniredis.Miniredis
	stopTTL   context.CancelFunc
	ttlDone   sync.WaitGroup
	rdb       *redis.Client     // the demo's own connection, for the progress view
	store     *redisstore.Store // reads through rdb
	shopify   *shopifytest.Server
	suppliers []*demoSupplier
	main      *Main
	shipper   *demoShipper
	stopFakes context.CancelFunc
	fakesDone sync.WaitGroup

	mu    sync.Mutex
	notes map[string]int // explained events per kind

	created      atomic.Int64
	unpaid       atomic.Int64
	unpaidIDs    []int64 // the orders placed unpaid; only the order stream appends, before run reads them
	faults       atomic.Int64
	refusedHooks atomic.Int64 // webhooks dropsync did not accept or that did not arrive
}

// demoSupplier is one simulated supplier.
type demoSupplier struct {
	id, prefix, token, secret, what string
	catalog                         map[string]suppliertest.Item
	srv                             *suppliertest.Server
	placedAtFault                   int // PlaceCount when the last failure was injected
}

// start brings up Redis, the fakes and dropsync, and prints the header.
func (d *demo) start(ctx context.Context) error {
	ln, err := listenDemo(d.f.addr)
	if err != nil {
		return err
	}
	d.base = "http://" + dialable(ln.Addr())
	started := false
	defer func() {
		if !started {
			ln.Close()
		}
	}()
	d.token = "demo-" + strings.ToLower(crand.Text())
	d.shop = demoShop
	redisURL, err := d.chooseRedis(ctx)
	if err != nil {
		return err
	}
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return fmt.Errorf("redis url: %w", err)
	}
	d.rdb = redis.NewClient(opt)
	d.store = redisstore.New(d.rdb, time.Now)

	if d.dir, err = os.MkdirTemp("", "dropsync-demo-"); err != nil {
		return fmt.Errorf("demo directory: %w", err)
	}
	mappingsPath := filepath.Join(d.dir, "mappings.csv")
	if err := os.WriteFile(mappingsPath, []byte(demoMappingsCSV(d.shop)), 0o600); err != nil {
		return fmt.Errorf("write demo mappings: %w", err)
	}
	d.logPath = filepath.Join(d.dir, "dropsync.log")
	if d.logFile, err = os.Create(d.logPath); err != nil {
		return fmt.Errorf("demo log: %w", err)
	}

	d.shopify = shopifytest.NewServer(shopifytest.Options{
		Shop: d.shop, AccessToken: demoShopifyToken,
		BucketSize: 20 * d.f.shopifyRate, LeakRate: float64(d.f.shopifyRate),
	})
	d.suppliers = demoSuppliers()
	for _, s := range d.suppliers {
		s.srv = suppliertest.NewServer(suppliertest.Options{
			Token: s.token, Catalog: s.catalog, Prefix: s.prefix,
			WebhookURL: d.base + "/webhooks/suppliers/" + s.id, WebhookSecret: s.secret,
		})
	}

	vars := map[string]string{
		"DEMO_REDIS_URL":      redisURL,
		"DEMO_ADDR":           strings.TrimPrefix(d.base, "http://"),
		"DEMO_ADMIN_TOKEN":    d.token,
		"DEMO_SHOP":           d.shop,
		"DEMO_SHOPIFY_TOKEN":  demoShopifyToken,
		"DEMO_SHOPIFY_SECRET": demoShopifySecret,
		"DEMO_SHOPIFY_URL":    d.shopify.URL(),
		"DEMO_BUCKET_SIZE":    strconv.Itoa(20 * d.f.shopifyRate),
		"DEMO_LEAK_RATE":      strconv.Itoa(d.f.shopifyRate),
		"DEMO_MAPPINGS_FILE":  mappingsPath,
	}
	for _, s := range d.suppliers {
		up := strings.ToUpper(s.id)
		vars["DEMO_"+up+"_URL"], vars["DEMO_"+up+"_TOKEN"], vars["DEMO_"+up+"_SECRET"] = s.srv.URL(), s.token, s.secret
	}
	cfg, err := config.Parse(demoYAML, func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
	if err != nil {
		return fmt.Errorf("demo config: %w", err)
	}
	m := NewMain(cfg, ModeRun, newLogger(cfg.Log, d.logFile))
	m.Listener = ln
	m.ShutdownTimeout = 5 * time.Second
	// Snappier than production's polling, so the demo's orders move without visible pauses.
	m.TaskCheckInterval = 50 * time.Millisecond
	m.DelayedTaskCheck = 250 * time.Millisecond
	if err := m.Run(ctx); err != nil {
		_ = m.Close()
		return fmt.Errorf("start dropsync: %w", err)
	}
	d.main, started = m, true
	d.header()
	return nil
}

// chooseRedis returns the URL of the Redis to use: the one named by --redis or --config when
// it answers, else an embedded in-memory one started here.
func (d *demo) chooseRedis(ctx context.Context) (string, error) {
	want, source := d.f.redis, "--redis"
	if want == "" && d.f.config != "" {
		u, err := redisURLFromConfig(d.f.config)
		if err != nil {
			return "", err
		}
		want, source = u, "redis.url of "+d.f.config
	}
	if want != "" {
		opt, err := redis.ParseURL(want)
		if err != nil {
			return "", fmt.Errorf("%s: %w", source, err)
		}
		if err = pingRedis(ctx, opt); err == nil {
			// A Redis that outlives the demo may hold earlier runs: a shop of its own per run
			// keeps their orders out of this run's counts.
			d.shop = "demo-" + strings.ToLower(crand.Text()[:6]) + ".myshopify.com"
			d.redisDesc = fmt.Sprintf("Redis at %s, database %d (from %s)", opt.Addr, opt.DB, source)
			d.redisNote = "this run's orders are kept there under shop " + d.shop +
				"; no other dropsync should work on this Redis while the demo runs"
			return want, nil
		}
		d.redisNote = fmt.Sprintf("the Redis at %s (from %s) does not answer (%v)", opt.Addr, source, err)
	}
	mini := miniredis.NewMiniRedis()
	if err := mini.Start(); err != nil {
		return "", fmt.Errorf("start the embedded Redis: %w", err)
	}
	d.mini = mini
	// Keys with a TTL expire by the wall clock, as in a real Redis. miniredis' ClockTTL would
	// do it on every command by sorting every key, which caps the demo at a few orders per
	// second; once a second is as good for dropsync's TTLs (leases and dedupe keys).
	ttlCtx, stopTTL := context.WithCancel(context.Background())
	d.stopTTL = stopTTL
	d.ttlDone.Add(1)
	go func() {
		defer d.ttlDone.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-ttlCtx.Done():
				return
			case now := <-t.C:
				mini.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	d.redisDesc = "embedded in-memory Redis at " + mini.Addr() + " (nothing to install; gone when the demo stops)"
	return "redis://" + mini.Addr() + "/0", nil
}

// pingRedis checks that a Redis answers. A plain connection comes first: go-redis would log
// its failed dials to the terminal, over the demo's own explanation.
func pingRedis(ctx context.Context, opt *redis.Options) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var dialer net.Dialer
	conn, err := dialer.DialContext(ctx, opt.Network, opt.Addr)
	if err != nil {
		return err
	}
	conn.Close()
	c := redis.NewClient(opt)
	defer c.Close()
	return c.Ping(ctx).Err()
}

// redisURLFromConfig reads only redis.url from a dropsync config: the demo needs nothing
// else from it, so a production config whose shop secrets are not in this environment works.
func redisURLFromConfig(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--config: %w", err)
	}
	var top struct {
		Redis yaml.Node `yaml:"redis"`
	}
	if err := yaml.Unmarshal(data, &top); err != nil {
		return "", fmt.Errorf("config %s is not valid YAML: %w", path, err)
	}
	doc := map[string]any{"admin": map[string]string{"token": "placeholder-for-the-demo"}}
	if top.Redis.Kind != 0 {
		doc["redis"] = &top.Redis
	}
	sub, err := yaml.Marshal(doc)
	if err != nil {
		return "", fmt.Errorf("config %s: %w", path, err)
	}
	// Parse expands ${VAR} and checks the URL exactly as `dropsync run` would.
	cfg, err := config.Parse(sub, os.LookupEnv)
	if err != nil {
		var probs *config.Problems
		if errors.As(err, &probs) {
			return "", fmt.Errorf("config %s has problems:\n%s", path, probs.Error())
		}
		return "", fmt.Errorf("config %s: %w", path, err)
	}
	return cfg.Redis.URL, nil
}

// listenDemo listens on addr, explaining the usual failure: another program on the port.
func listenDemo(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("%s is already in use (another dropsync or demo?): choose a free address with --addr, e.g. --addr 127.0.0.1:8081", addr)
		}
		return nil, fmt.Errorf("listen on --addr %s: %w", addr, err)
	}
	return ln, nil
}

// dialable is the listener's address as a URL host the fakes can call: an unspecified IP
// (":8080") is reached on loopback.
func dialable(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func randomSeed() uint64 {
	var b [8]byte
	_, _ = crand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])>>1 | 1
}

// header tells the newcomer what runs and where to look.
func (d *demo) header() {
	p := d.out.printf
	p("dropsync demo: a simulated Shopify store and two suppliers, through the real pipeline\n\n")
	if d.redisNote != "" && d.mini != nil {
		p("  note       %s: using an embedded Redis instead\n", d.redisNote)
	}
	p("  Redis      %s\n", d.redisDesc)
	if d.redisNote != "" && d.mini == nil {
		p("             %s\n", d.redisNote)
	}
	p("  dropsync   %s  (its log, warnings and errors only: %s)\n", d.base, d.logPath)
	p("  Dashboard  %s/monitoring/   user: any   password: %s\n", d.base, d.token)
	p("  Admin API  curl -H 'Authorization: Bearer %s' '%s/api/v1/shops/%s/orders?state=fulfilled&limit=5'\n",
		d.token, d.base, d.shop)
	plan := "a custom plan"
	switch d.f.shopifyRate {
	case 2:
		plan = "the standard plan"
	case 20:
		plan = "Shopify Plus"
	}
	p("  Shopify    %s, simulated at %s: REST call limit of %s (bucket %d, %d calls/s),\n",
		d.shop, d.shopify.URL(), plan, 20*d.f.shopifyRate, d.f.shopifyRate)
	p("             which dropsync's shared limiter keeps to; an order costs about %d calls, so\n", demoCallsPerOrder)
	p("             --shopify-rate %d carries about %s orders/s\n", d.f.shopifyRate,
		strconv.FormatFloat(math.Round(float64(d.f.shopifyRate)/demoCallsPerOrder*10)/10, 'f', -1, 64))
	if d.f.rate*demoCallsPerOrder > float64(d.f.shopifyRate) {
		p("             at --rate %g the bucket will throttle dropsync: try --shopify-rate %d\n",
			d.f.rate, int(d.f.rate*10))
	}
	for _, s := range d.suppliers {
		p("  Supplier   %s at %s: %s\n", s.id, s.srv.URL(), s.what)
	}
	p("             each ships %s–%s after accepting; about a third of multi-item orders in several parcels\n",
		demoShipAfter, demoShipAfter+demoShipJitter)
	until := "until Ctrl-C"
	switch {
	case d.f.orders > 0 && d.f.duration > 0:
		until = fmt.Sprintf("until %d are placed and done (at most %s)", d.f.orders, d.f.duration)
	case d.f.orders > 0:
		until = fmt.Sprintf("until %d are placed and done", d.f.orders)
	case d.f.duration > 0:
		until = "for " + d.f.duration.String()
	}
	p("  Orders     %g per second %s (seed %d); simulated trouble:\n", d.f.rate, until, d.f.seed)
	p("             - about 1 in %d is placed unpaid: dropsync holds it until its orders/paid webhook\n", int(math.Round(1/demoUnpaidShare)))
	p("             - the desk lamp comes from beta until beta's %d run out, then from acme (priority 2)\n", demoLampStock)
	p("             - now and then a supplier answers 500: dropsync retries with the same idempotency key\n")
	p("             - some orders have a gift note no supplier handles: left for the merchant\n\n")
}

// run streams orders until ctx ends or the duration passes, then stops everything in order
// and prints the summary.
func (d *demo) run(ctx context.Context) error {
	start := time.Now()
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	if d.f.duration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(runCtx, d.f.duration)
		defer cancel()
	}

	fakesCtx, stopFakes := context.WithCancel(context.WithoutCancel(ctx))
	d.stopFakes = stopFakes
	d.shipper = newDemoShipper(d.shop, d.suppliers, rand.New(rand.NewPCG(d.f.seed, 2)), d.note)
	d.fakesDone.Add(1)
	go func() {
		defer d.fakesDone.Done()
		d.shipper.run(fakesCtx)
	}()

	var gen sync.WaitGroup // the order stream and its delayed payments
	streamed := make(chan struct{})
	var streamedFor time.Duration // set before streamed is closed
	gen.Add(1)
	go func() {
		defer gen.Done()
		defer close(streamed)
		d.generate(runCtx, &gen)
		streamedFor = time.Since(start)
	}()
	done := make(chan struct{}) // with --orders: every order placed has come to an end
	if d.f.orders > 0 {
		go d.waitDone(runCtx, streamed, done)
	}
	progressCtx, stopProgress := context.WithCancel(context.WithoutCancel(ctx))
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		d.progress(progressCtx, start)
	}()

	var runErr error
	select {
	case <-runCtx.Done():
	case <-done:
		d.out.printf("\nall %d orders are fulfilled, cancelled or failed\n", d.created.Load())
	case runErr = <-d.main.Errors():
		d.out.printf("dropsync stopped on its own: %v\n", runErr)
	}
	stopRun()
	gen.Wait()
	<-streamed
	ran := time.Since(start)
	d.out.printf("\nstopping: no new orders; dropsync finishes its running tasks…\n")
	err := d.main.Close()
	d.main = nil
	stopProgress()
	<-progressDone
	// The fakes' own state is read after dropsync has finished with them.
	final, ferr := d.store.CountByState(context.WithoutCancel(ctx), d.shop)
	var released int
	if ferr == nil {
		released, ferr = d.releasedAfterHold(context.WithoutCancel(ctx))
	}
	d.stopFakes()
	d.fakesDone.Wait()
	if ferr != nil {
		return errors.Join(runErr, err, fmt.Errorf("read the final counts: %w", ferr))
	}
	d.summary(final, released, streamedFor, ran, time.Since(start))
	return errors.Join(runErr, err)
}

// waitDone closes done once the order stream has ended and every order it placed is in a
// final state; an order whose webhook never reached dropsync keeps it waiting, as does a held
// order never paid, until ctx ends (--duration or Ctrl-C).
func (d *demo) waitDone(ctx context.Context, streamed <-chan struct{}, done chan<- struct{}) {
	select {
	case <-ctx.Done():
		return
	case <-streamed:
	}
	// The states in which an order needs nothing more from the simulation.
	finalStates := []dropsync.OrderState{dropsync.StateFulfilled, dropsync.StateCancelled, dropsync.StateIgnored, dropsync.StateFailed}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if counts, err := d.store.CountByState(ctx, d.shop); err == nil {
			var final int64
			for _, st := range finalStates {
				final += counts[st]
			}
			if final >= d.created.Load() {
				close(done)
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// releasedAfterHold counts the orders placed unpaid that dropsync held and later verified
// again and forwarded: the releases, read from the orders' timelines. (Counting orders/paid
// deliveries would count payments, whether or not they released anything.)
func (d *demo) releasedAfterHold(ctx context.Context) (int, error) {
	n := 0
	for _, id := range d.unpaidIDs {
		o, err := d.store.Order(ctx, d.shop, id)
		if dropsync.ErrorCode(err) == dropsync.ENOTFOUND {
			continue // its webhook never reached dropsync
		}
		if err != nil {
			return 0, fmt.Errorf("read order %d: %w", id, err)
		}
		held := false
		for _, e := range o.Timeline {
			if e.Event == string(dropsync.StateHeld) {
				held = true
			} else if held && e.Event == "verified" { // verify moves an order to forwarding
				n++
				break
			}
		}
	}
	return n, nil
}

// generate places orders at the simulated shop and delivers them to dropsync at --rate.
func (d *demo) generate(ctx context.Context, wg *sync.WaitGroup) {
	rng := rand.New(rand.NewPCG(d.f.seed, 1))
	g := newDemoGenerator(rng)
	interval := time.Duration(float64(time.Second) / d.f.rate)
	next := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for n := 0; d.f.orders == 0 || n < d.f.orders; n++ {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		now := time.Now()
		order, plan := g.order(n, now)
		d.shopify.AddOrder(order)
		d.shipper.track(plan)
		if plan.unpaid {
			d.unpaid.Add(1)
			d.unpaidIDs = append(d.unpaidIDs, plan.id)
			wait := demoPayAfter + time.Duration(rng.Int64N(int64(demoShipJitter)))
			d.note("held", "held orders", "%s is placed unpaid: dropsync holds it; it gets paid in %s", plan.name, wait.Round(time.Second))
			wg.Add(1)
			go func() {
				defer wg.Done()
				d.payLater(ctx, plan, wait)
			}()
		}
		if rng.Float64() < demoFaultShare {
			d.injectFault(plan, rng)
		}
		if err := d.deliver(ctx, "orders/create", plan.id); err != nil {
			if ctx.Err() != nil {
				return
			}
			d.refusedHooks.Add(1)
		}
		d.created.Add(1)
		next = next.Add(interval)
		// A stream that fell behind (a slow machine) goes on at the rate instead of bursting.
		if late := time.Since(next); late > time.Second {
			next = time.Now()
		}
		timer.Reset(time.Until(next))
	}
}

// payLater pays a held order after the wait, as a customer completing a bank transfer, and
// tells dropsync with orders/paid.
func (d *demo) payLater(ctx context.Context, o demoOrder, wait time.Duration) {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return
	case <-t.C:
	}
	d.shopify.UpdateOrder(o.id, func(so *shopifytest.Order) {
		so.FinancialStatus = "paid"
		so.TotalOutstanding = shopifytest.Amount{Decimal: decimal.Zero}
	})
	if err := d.deliver(ctx, "orders/paid", o.id); err != nil {
		if ctx.Err() == nil {
			d.refusedHooks.Add(1)
		}
		return
	}
	d.note("paid", "payments", "%s is paid: orders/paid webhook, dropsync verifies it again and forwards it", o.name)
}

// injectFault makes one of the order's suppliers answer its next order with a 500, unless
// the last injected failure there has not been met yet.
func (d *demo) injectFault(o demoOrder, rng *rand.Rand) {
	if len(o.wants) == 0 {
		return
	}
	id := o.wants[rng.IntN(len(o.wants))]
	for _, s := range d.suppliers {
		if s.id != id {
			continue
		}
		placed := s.srv.PlaceCount()
		if s.placedAtFault != 0 && placed <= s.placedAtFault {
			return
		}
		s.placedAtFault = max(placed, 1)
		s.srv.FailNext(1, http.StatusInternalServerError)
		d.faults.Add(1)
		d.note("fault", "supplier errors", "%s will answer its next order with a 500: dropsync retries it with the same idempotency key", s.id)
	}
}

// deliver posts the order's current JSON as a signed Shopify webhook.
func (d *demo) deliver(ctx context.Context, topic string, id int64) error {
	resp, err := d.shopify.Deliver(ctx, d.base+"/webhooks/shopify", topic, demoShopifySecret, d.shopify.OrderJSON(id))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("deliver %s: dropsync answered %d", topic, resp.StatusCode)
	}
	return nil
}

// note explains an event of the simulation the first few times it happens; later ones are
// only counted, so a fast run does not drown the progress lines.
func (d *demo) note(kind, plural, format string, args ...any) {
	d.mu.Lock()
	n := d.notes[kind]
	d.notes[kind] = n + 1
	d.mu.Unlock()
	switch {
	case n < demoNotesPerKind:
		d.out.printf("        › "+format+"\n", args...)
	case n == demoNotesPerKind:
		d.out.printf("        › (further %s are not shown)\n", plural)
	}
}

// demoProgress is what one progress line shows.
type demoProgress struct {
	at      time.Time
	states  map[dropsync.OrderState]int64
	created int64
	pos     []int
	calls   int
	limited int
	readErr error
}

// progress prints a line every two seconds until ctx ends.
func (d *demo) progress(ctx context.Context, start time.Time) {
	t := time.NewTicker(demoProgressEvery)
	defer t.Stop()
	prev := demoProgress{at: start, states: map[dropsync.OrderState]int64{}}
	failedShown := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur := d.snapshot(ctx)
		if cur.readErr != nil {
			if ctx.Err() == nil {
				d.out.printf("%s  cannot read dropsync's store: %v\n", clock(cur.at.Sub(start)), cur.readErr)
			}
			continue
		}
		d.out.printf("%s\n", progressLine(prev, cur, start, d.suppliers))
		prev = cur
		if cur.states[dropsync.StateFailed] > 0 {
			d.showFailed(ctx, failedShown)
		}
	}
}

func (d *demo) snapshot(ctx context.Context) demoProgress {
	p := demoProgress{at: time.Now(), created: d.created.Load(), calls: d.shopify.CallCount("", ""), limited: d.shopify.RateLimited()}
	for _, s := range d.suppliers {
		p.pos = append(p.pos, s.srv.Created())
	}
	p.states, p.readErr = d.store.CountByState(ctx, d.shop)
	return p
}

// progressLine shows order counts per state, purchase orders per supplier, the rates over
// the last interval and the Shopify budget spent. It names no customer.
func progressLine(prev, cur demoProgress, start time.Time, sups []*demoSupplier) string {
	var b strings.Builder
	b.WriteString(clock(cur.at.Sub(start)))
	// Every state a newcomer should see, zero or not, in pipeline order; the rare ones only
	// when they occur.
	for _, st := range []dropsync.OrderState{dropsync.StateReceived, dropsync.StateHeld, dropsync.StateForwarding,
		dropsync.StateForwarded, dropsync.StatePartiallyShipped, dropsync.StateShipped, dropsync.StateFulfilled,
		dropsync.StateFailed} {
		fmt.Fprintf(&b, "  %s %d", st, cur.states[st])
	}
	for _, st := range []dropsync.OrderState{dropsync.StateIgnored, dropsync.StateCancelled} {
		if n := cur.states[st]; n > 0 {
			fmt.Fprintf(&b, "  %s %d", st, n)
		}
	}
	b.WriteString(" │ POs")
	for i, s := range sups {
		fmt.Fprintf(&b, " %s %d", s.id, cur.pos[i])
	}
	secs := cur.at.Sub(prev.at).Seconds()
	fmt.Fprintf(&b, " │ %.1f orders/s in, %.1f fulfilled/s", float64(cur.created-prev.created)/secs,
		float64(cur.states[dropsync.StateFulfilled]-prev.states[dropsync.StateFulfilled])/secs)
	fmt.Fprintf(&b, " │ Shopify %d calls, %d × 429", cur.calls, cur.limited)
	return b.String()
}

// showFailed names the orders that failed since the last line, so they can be looked up.
func (d *demo) showFailed(ctx context.Context, shown map[string]bool) {
	orders, err := d.store.Orders(ctx, d.shop, dropsync.StateFailed, 10)
	if err != nil {
		return
	}
	for _, o := range orders {
		key := strconv.FormatInt(o.ID, 10)
		if shown[key] {
			continue
		}
		shown[key] = true
		d.out.printf("        › order %s (%d) failed: GET %s/api/v1/shops/%s/orders/%d shows why\n", o.Name, o.ID, d.base, d.shop, o.ID)
	}
}

func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%3d:%02d", s/60, s%60)
}

// summary prints what the run did. The order rate is per second of streaming orders; the
// fulfilment rate per second of the whole run, which with --orders goes on until the last
// order is done.
func (d *demo) summary(final map[dropsync.OrderState]int64, released int, streamed, ran, total time.Duration) {
	p := d.out.printf
	created := d.created.Load()
	fulfilled := final[dropsync.StateFulfilled]
	inFlight := final[dropsync.StateReceived] + final[dropsync.StateForwarding] + final[dropsync.StateForwarded] +
		final[dropsync.StatePartiallyShipped] + final[dropsync.StateShipped]
	var stored int64
	for _, n := range final {
		stored += n
	}
	calls := d.shopify.CallCount("", "")
	// Per fulfilled order: a held or unfinished order has spent only part of its calls, so
	// dividing by every order created would flatter the figure.
	perOrder := "-"
	if fulfilled > 0 {
		perOrder = strconv.FormatFloat(float64(calls)/float64(fulfilled), 'f', 1, 64)
	}
	rate := func(n int64, over time.Duration) float64 {
		if over <= 0 {
			return 0
		}
		return float64(n) / over.Seconds()
	}
	p("\ndropsync demo stopped after %s (orders streamed for %s)\n", total.Round(100*time.Millisecond), streamed.Round(100*time.Millisecond))
	p("  orders created     %6d   %.1f per second\n", created, rate(created, streamed))
	p("  fulfilled          %6d   %.1f per second (tracking pushed to Shopify for every parcel)\n",
		fulfilled, rate(fulfilled, ran))
	p("  held               %6d   (%d placed unpaid, %d of them released after their orders/paid webhook)\n",
		final[dropsync.StateHeld], d.unpaid.Load(), released)
	p("  failed             %6d\n", final[dropsync.StateFailed])
	p("  in flight          %6d   (received, forwarding, forwarded or shipping when the demo stopped)\n", inFlight)
	if n := final[dropsync.StateCancelled] + final[dropsync.StateIgnored]; n > 0 {
		p("  cancelled/ignored  %6d\n", n)
	}
	if n := created - stored; n > 0 {
		p("  never received     %6d   (their orders/create webhook did not reach dropsync)\n", n)
	}
	var pos []string
	for _, s := range d.suppliers {
		pos = append(pos, fmt.Sprintf("%s %d", s.id, s.srv.Created()))
	}
	p("  purchase orders    %s; %d parcels shipped; %d desk-lamp orders fell back to acme\n",
		strings.Join(pos, ", "), d.shipper.parcels.Load(), d.shipper.fallbacks.Load())
	p("  supplier errors    %6d   injected 500s, each retried by dropsync\n", d.faults.Load())
	p("  Shopify API        %6d   calls, %s per fulfilled order (unfinished orders' calls included), %d answered 429\n",
		calls, perOrder, d.shopify.RateLimited())
	if n := d.refusedHooks.Load(); n > 0 {
		p("  webhooks refused   %6d   (see the log)\n", n)
	}
	p("  dropsync log       %s\n", d.logPath)
}

// close stops whatever is still running, in the order run would have: dropsync, then the
// fakes, then Redis. It is safe after a failed start and after run.
func (d *demo) close() {
	if d.main != nil {
		_ = d.main.Close()
		d.main = nil
	}
	if d.stopFakes != nil {
		d.stopFakes()
		d.fakesDone.Wait()
	}
	for _, s := range d.suppliers {
		if s.srv != nil {
			s.srv.Close()
		}
	}
	if d.shopify != nil {
		d.shopify.Close()
	}
	if d.rdb != nil {
		_ = d.rdb.Close()
	}
	if d.mini != nil {
		d.stopTTL()
		d.ttlDone.Wait()
		d.mini.Close()
	}
	if d.logFile != nil {
		_ = d.logFile.Close()
	}
}

// lockedWriter lets the progress, the order stream and the shipper print whole lines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}

// demoProduct is an item of the simulated store.
type demoProduct struct {
	sku      string
	variant  int64
	title    string
	price    string
	supplier string // who fulfils it first; "" when no supplier does
	weight   int    // how often it is ordered, relative to the others
}

// demoProducts is the simulated store's catalogue; the desk lamp and the gift note are
// ordered through their own shares, not by weight.
func demoProducts() []demoProduct {
	return []demoProduct{
		{"TEE-BLK-M", 44_200_001, "Logo Tee, black, M", "19.90", "acme", 5},
		{"TEE-WHT-L", 44_200_002, "Logo Tee, white, L", "19.90", "acme", 4},
		{"HOODIE-GRY-L", 44_200_003, "Zip Hoodie, grey, L", "44.00", "acme", 2},
		{"CAP-NVY", 44_200_004, "Baseball Cap, navy", "17.50", "acme", 2},
		{"SOCKS-3PK", 44_200_005, "Crew Socks, 3-pack", "12.00", "acme", 3},
		{"MUG-SET", 44_200_006, "Enamel Mug with Lid", "16.00", "beta", 3},
		{"POSTER-A2", 44_200_007, "City Poster, A2", "24.00", "beta", 3},
		{"CANDLE-LAV", 44_200_008, "Lavender Candle", "14.50", "beta", 2},
		{demoLampSKU, 44_200_009, "Brass Desk Lamp", "39.00", "beta", 0},
		{demoGiftNoteSKU, 44_200_010, "Handwritten Gift Note", "2.50", "", 0},
	}
}

// demoMappingsCSV maps the store's SKUs to the suppliers: a 3-pack that is three supplier
// units, a bundle of two supplier SKUs, and the lamp with a fallback at priority 2.
func demoMappingsCSV(shop string) string {
	rows := [][]string{
		{"TEE-BLK-M", "acme", "ACME-TEE-BLK-M", "6.10", "1", "1"},
		{"TEE-WHT-L", "acme", "ACME-TEE-WHT-L", "6.10", "1", "1"},
		{"HOODIE-GRY-L", "acme", "ACME-HOOD-GRY-L", "14.80", "1", "1"},
		{"CAP-NVY", "acme", "ACME-CAP-NVY", "4.90", "1", "1"},
		{"SOCKS-3PK", "acme", "ACME-SOCK", "1.20", "3", "1"},
		{"MUG-SET", "beta", "BETA-MUG", "3.10", "1", "1"},
		{"MUG-SET", "beta", "BETA-LID", "0.90", "1", "1"},
		{"POSTER-A2", "beta", "BETA-POSTER-A2", "2.40", "1", "1"},
		{"CANDLE-LAV", "beta", "BETA-CANDLE-LAV", "4.50", "1", "1"},
		{demoLampSKU, "beta", "BETA-LAMP", "11.00", "1", "1"},
		{demoLampSKU, "acme", "ACME-LAMP", "12.50", "1", "2"},
	}
	var b strings.Builder
	b.WriteString("shop,sku,supplier,supplier_sku,unit_cost,currency,quantity,priority,countries\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,USD,%s,%s,\n", shop, r[0], r[1], r[2], r[3], r[4], r[5])
	}
	return b.String()
}

// demoSuppliers are the two simulated suppliers with their stock: plenty of everything but
// beta's desk lamps.
func demoSuppliers() []*demoSupplier {
	const plenty = 10_000_000
	item := func(cost string, n int) suppliertest.Item {
		return suppliertest.Item{Available: n, UnitCost: cost, Currency: "USD"}
	}
	return []*demoSupplier{
		{id: "acme", prefix: "ACME", token: "demo-acme-token", secret: "demo-acme-webhook-secret",
			what: "apparel (tees, hoodies, caps, socks) and the desk lamp as second choice",
			catalog: map[string]suppliertest.Item{
				"ACME-TEE-BLK-M": item("6.10", plenty), "ACME-TEE-WHT-L": item("6.10", plenty),
				"ACME-HOOD-GRY-L": item("14.80", plenty), "ACME-CAP-NVY": item("4.90", plenty),
				"ACME-SOCK": item("1.20", plenty), "ACME-LAMP": item("12.50", plenty),
			}},
		{id: "beta", prefix: "BETA", token: "demo-beta-token", secret: "demo-beta-webhook-secret",
			what: fmt.Sprintf("home goods (mug bundle, posters, candles) and the desk lamp, %d in stock", demoLampStock),
			catalog: map[string]suppliertest.Item{
				"BETA-MUG": item("3.10", plenty), "BETA-LID": item("0.90", plenty),
				"BETA-POSTER-A2": item("2.40", plenty), "BETA-CANDLE-LAV": item("4.50", plenty),
				"BETA-LAMP": item("11.00", demoLampStock),
			}},
	}
}

// demoCustomer is a made-up customer; the demo never prints one.
type demoCustomer struct{ first, last, phone string }

func demoCustomers() []demoCustomer {
	return []demoCustomer{
		{"Avery", "Collins", "+1 502-555-0181"}, {"Mateo", "Rossi", "+39 02 5555 0142"},
		{"Hana", "Sato", "+81 3-5555-0199"}, {"Lena", "Fischer", "+49 211 5550177"},
		{"Olivia", "Brown", "+44 161 555 0123"}, {"Noah", "Tremblay", "+1 416-555-0150"},
		{"Zofia", "Nowak", "+48 42 555 01 66"}, {"Chloé", "Martin", "+33 1 55 55 01 88"},
		{"Liam", "O'Connor", "+61 2 5550 1234"},
	}
}

// demoOrder is what the demo remembers of an order it placed.
type demoOrder struct {
	id      int64
	name    string
	created time.Time
	unpaid  bool
	wants   []string // suppliers whose parcels the order waits for (the lamp aside)
	lamp    bool     // has a desk lamp, which either supplier may ship
}

// demoGenerator makes realistic, varied orders from a seeded source.
type demoGenerator struct {
	rng       *rand.Rand
	products  []demoProduct
	weighted  []demoProduct // ordered by weight
	lamp      demoProduct
	giftNote  demoProduct
	customers []demoCustomer
	countries []string
}

func newDemoGenerator(rng *rand.Rand) *demoGenerator {
	g := &demoGenerator{rng: rng, products: demoProducts(), customers: demoCustomers(),
		// US-heavy, as most stores' traffic is.
		countries: []string{"US", "US", "US", "US", "US", "CA", "GB", "GB", "DE", "DE", "FR", "AU", "PL", "JP"}}
	for _, p := range g.products {
		switch p.sku {
		case demoLampSKU:
			g.lamp = p
		case demoGiftNoteSKU:
			g.giftNote = p
		}
		for range p.weight {
			g.weighted = append(g.weighted, p)
		}
	}
	return g
}

// order builds the n-th order of the run: one to three products, mostly single units, some
// with the desk lamp, some unpaid, some with a gift note nobody supplies.
func (g *demoGenerator) order(n int, now time.Time) (shopifytest.Order, demoOrder) {
	r := g.rng
	qty := func() int {
		switch x := r.Float64(); {
		case x < 0.72:
			return 1
		case x < 0.92:
			return 2
		}
		return 3
	}
	var picked []demoProduct
	if r.Float64() < demoLampShare {
		picked = append(picked, g.lamp)
		if r.Float64() < 0.4 { // with something else from the lamp's supplier
			for {
				p := g.weighted[r.IntN(len(g.weighted))]
				if p.supplier == g.lamp.supplier {
					picked = append(picked, p)
					break
				}
			}
		}
	} else {
		lines := 1
		if x := r.Float64(); x > 0.85 {
			lines = 3
		} else if x > 0.55 {
			lines = 2
		}
		for len(picked) < lines {
			p := g.weighted[r.IntN(len(g.weighted))]
			if !slices.ContainsFunc(picked, func(q demoProduct) bool { return q.sku == p.sku }) {
				picked = append(picked, p)
			}
		}
	}
	if r.Float64() < demoGiftNoteShare {
		picked = append(picked, g.giftNote)
	}

	o := demoOrder{id: 5_800_000_000_001 + int64(n), name: "#" + strconv.Itoa(1001+n), created: now}
	var lines []shopifytest.LineSpec
	for _, p := range picked {
		q := qty()
		if p.sku == demoLampSKU || p.sku == demoGiftNoteSKU {
			q = 1
		}
		lines = append(lines, shopifytest.LineSpec{SKU: p.sku, VariantID: p.variant, Quantity: q,
			Price: decimal.RequireFromString(p.price), Title: p.title})
		switch {
		case p.sku == demoLampSKU:
			o.lamp = true
		case p.supplier != "" && !slices.Contains(o.wants, p.supplier):
			o.wants = append(o.wants, p.supplier)
		}
	}
	opts := []shopifytest.OrderOption{
		shopifytest.WithLines(lines...),
		shopifytest.WithOrderNumber(1001 + n),
		shopifytest.WithCreatedAt(now),
		shopifytest.WithShippingCountry(g.countries[r.IntN(len(g.countries))]),
	}
	if r.Float64() < demoUnpaidShare {
		o.unpaid = true
		opts = append(opts, shopifytest.WithFinancialStatus("pending"))
	}
	c := g.customers[r.IntN(len(g.customers))]
	opts = append(opts, shopifytest.WithEdit(func(so *shopifytest.Order) {
		email := strings.ToLower(c.first+"."+strings.ReplaceAll(c.last, "'", "")) + "@example.com"
		so.Email, so.ContactEmail, so.Phone = email, email, c.phone
		if so.Customer != nil {
			so.Customer.FirstName, so.Customer.LastName, so.Customer.Email, so.Customer.Phone = c.first, c.last, email, c.phone
		}
		for _, a := range []*shopifytest.Address{so.ShippingAddress, so.BillingAddress} {
			if a != nil {
				a.FirstName, a.LastName, a.Name, a.Phone = c.first, c.last, c.first+" "+c.last, c.phone
			}
		}
	}))
	return shopifytest.SampleOrder(o.id, opts...), o
}

// demoShipper plays the suppliers' warehouses: it ships every purchase order a few seconds
// (with jitter) after the supplier accepted it, some in several parcels. suppliertest's
// AutoShip ships after a fixed delay and splits all or nothing; the demo wants variety.
type demoShipper struct {
	shop      string
	suppliers []*demoSupplier
	rng       *rand.Rand
	note      func(kind, plural, format string, args ...any)

	mu      sync.Mutex
	pending []*shipTrack // placed since the last step

	tracks    []*shipTrack // only the run loop touches these
	parcels   atomic.Int64
	fallbacks atomic.Int64
}

// shipTrack follows one storefront order's purchase orders at the suppliers.
type shipTrack struct {
	order demoOrder
	pos   map[string]*poShipping // by supplier id
}

// poShipping is the plan for one purchase order's parcels.
type poShipping struct {
	externalID string
	parcels    []suppliertest.Parcel
	due        time.Time
	done       bool
	lamp       bool
}

func newDemoShipper(shop string, sups []*demoSupplier, rng *rand.Rand, note func(kind, plural, format string, args ...any)) *demoShipper {
	return &demoShipper{shop: shop, suppliers: sups, rng: rng, note: note}
}

// track adds an order to follow.
func (s *demoShipper) track(o demoOrder) {
	s.mu.Lock()
	s.pending = append(s.pending, &shipTrack{order: o, pos: map[string]*poShipping{}})
	s.mu.Unlock()
}

func (s *demoShipper) run(ctx context.Context) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.step(ctx, time.Now())
	}
}

// step ships what is due and forgets the orders that need nothing more.
func (s *demoShipper) step(ctx context.Context, now time.Time) {
	s.mu.Lock()
	s.tracks = append(s.tracks, s.pending...)
	s.pending = nil
	s.mu.Unlock()
	kept := s.tracks[:0]
	for i, t := range s.tracks {
		if ctx.Err() != nil {
			kept = append(kept, s.tracks[i:]...)
			break
		}
		if !s.advance(t, now) && now.Sub(t.order.created) < demoTrackFor {
			kept = append(kept, t)
		}
	}
	clear(s.tracks[len(kept):])
	s.tracks = kept
}

// advance ships the order's due parcels and reports whether everything it waits for has
// shipped.
func (s *demoShipper) advance(t *shipTrack, now time.Time) bool {
	for _, sup := range s.suppliers {
		ps := t.pos[sup.id]
		if ps == nil {
			so, ok := sup.srv.Order(dropsync.POID(s.shop, t.order.id, sup.id))
			if !ok {
				continue
			}
			ps = s.plan(so)
			t.pos[sup.id] = ps
			if ps.lamp && sup.id != "beta" {
				s.fallbacks.Add(1)
				s.note("fallback", "fallbacks", "%s: beta is out of desk lamps, so dropsync sent the lamp to %s (priority 2)", t.order.name, sup.id)
			}
			if len(ps.parcels) > 1 {
				s.note("split", "split shipments", "%s: %s ships it in %d parcels, one Shopify fulfillment each", t.order.name, sup.id, len(ps.parcels))
			}
		}
		for !ps.done && !now.Before(ps.due) {
			p := ps.parcels[0]
			ps.parcels = ps.parcels[1:]
			// An error is a lost event (the parcel is recorded at the supplier all the same):
			// dropsync's tracking poll finds the parcel later.
			_ = sup.srv.Ship(ps.externalID, p)
			s.parcels.Add(1)
			if len(ps.parcels) == 0 {
				ps.done = true
				break
			}
			ps.due = now.Add(demoNextParcel + time.Duration(s.rng.Int64N(int64(1500*time.Millisecond))))
		}
	}
	if t.order.lamp && !slices.ContainsFunc(s.suppliers, func(sup *demoSupplier) bool {
		ps := t.pos[sup.id]
		return ps != nil && ps.lamp && ps.done
	}) {
		return false
	}
	for _, id := range t.order.wants {
		if ps := t.pos[id]; ps == nil || !ps.done {
			return false
		}
	}
	return true
}

// plan decides when and in how many parcels a purchase order ships.
func (s *demoShipper) plan(so suppliertest.Order) *poShipping {
	ps := &poShipping{externalID: so.ExternalID,
		due: so.CreatedAt.Add(demoShipAfter + time.Duration(s.rng.Int64N(int64(demoShipJitter))))}
	var skus []suppliertest.ItemQty
	for _, it := range so.Placed.Items {
		if strings.HasSuffix(it.SKU, "-LAMP") {
			ps.lamp = true
		}
		if k := slices.IndexFunc(skus, func(q suppliertest.ItemQty) bool { return q.SKU == it.SKU }); k >= 0 {
			skus[k].Quantity += it.Quantity
		} else {
			skus = append(skus, suppliertest.ItemQty{SKU: it.SKU, Quantity: it.Quantity})
		}
	}
	switch {
	case so.Status != suppliertest.StatusAccepted && so.Status != suppliertest.StatusInProduction:
		ps.done = true // cancelled, failed or already shipped: nothing to do
	case len(skus) > 1 && s.rng.Float64() < demoSplitShare:
		for _, q := range skus {
			ps.parcels = append(ps.parcels, suppliertest.Parcel{Items: []suppliertest.ItemQty{q}})
		}
	default:
		ps.parcels = []suppliertest.Parcel{{}} // everything in one parcel
	}
	return ps
}
