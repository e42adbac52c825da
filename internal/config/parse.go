package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net"
	"net/mail"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"
	"go.yaml.in/yaml/v3"

	// Renamed: this package's YAML decoder has a type called mapping.
	mappings "github.com/dropsync/dropsync/internal/mapping"
)

// Defaults for keys a config leaves out.
const (
	defaultRedisURL         = "redis://127.0.0.1:6379/0"
	defaultHTTPAddr         = "127.0.0.1:8080"
	defaultMaxBodyBytes     = 2 << 20
	defaultReadTimeout      = 10 * time.Second
	defaultShutdownTimeout  = 25 * time.Second
	defaultConcurrency      = 10
	defaultOrdersDays       = 365
	defaultAPIVersion       = "2026-01"
	defaultShopPollInterval = 5 * time.Minute
	defaultBackfill         = time.Hour
	defaultBucketSize       = 40
	defaultLeakRate         = 2
	defaultSupplierPoll     = 10 * time.Minute
	defaultSupplierTimeout  = 15 * time.Second
	defaultShippingMethod   = "standard"
	defaultFromCountry      = "CN"
	defaultInvoiceSeries    = "INV"
	defaultCreditNoteSeries = "CN"
	minShopPollInterval     = 10 * time.Second
	maxBackfill             = 30 * 24 * time.Hour
	minAdminTokenLength     = 16
	maxWorkerConcurrency    = 1000
)

var (
	shopDomainRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*\.myshopify\.com$`)
	apiVersionRE = regexp.MustCompile(`^[0-9]{4}-(0[1-9]|1[0-2])$`)
	seriesRE     = regexp.MustCompile(`^[A-Z0-9]{1,10}$`)
	supplierIDRE = regexp.MustCompile(`^[a-z0-9-]+$`)
)

const (
	seriesMessage  = "must be 1 to 10 upper-case letters or digits"
	countryMessage = "must be an upper-case ISO 3166-1 alpha-2 country code such as US"
)

// countryHints name the right code for codes merchants commonly write instead. They are the
// hints the supplier mappings CSV gives (internal/mapping keeps them unexported), so that a
// merchant gets the same advice in both files.
var countryHints = map[string]string{
	"UK": "GB for the United Kingdom",
	"EL": "GR for Greece",
	"EN": "GB for England",
}

// maxMarginPercent bounds rules.min_margin_percent from above, excluded: a margin is below
// 100% whenever the supplier cost is above zero, so 100 would hold every order with a cost.
var maxMarginPercent = decimal.NewFromInt(100)

// supplierKinds are the kinds a supplier may have, one per connector package.
var supplierKinds = []string{KindHTTP, KindPrintful, KindCJDropshipping}

// kindKeys are the supplier keys that only one kind accepts.
var kindKeys = map[string][]string{
	KindPrintful:       {"confirm", "store_id"},
	KindCJDropshipping: {"email", "api_key", "logistic_name", "from_country"},
}

// defaultBaseURLs are the public APIs of the suppliers that have one.
var defaultBaseURLs = map[string]string{
	KindPrintful:       "https://api.printful.com",
	KindCJDropshipping: "https://developers.cjdropshipping.com/api2.0/v1",
}

// Load reads the config file at path and parses it with Parse. lookup is os.LookupEnv in
// production. Validation problems come back as a *Problems error as they are, so that the
// caller can print them one per line.
func Load(path string, lookup func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(data, lookup)
	if err != nil {
		if ps, ok := errors.AsType[*Problems](err); ok {
			return nil, ps
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Parse parses a YAML config, expands ${VAR} and ${VAR:-default} in its values with lookup
// (nil means no variable is set), applies defaults and validates it. Expansion happens on the
// parsed tree, never on the text, so a value from the environment cannot change the YAML
// structure whatever it contains.
//
// An empty document, invalid YAML (the error names the line) or a top level that is not a
// mapping is a plain error; everything else wrong is listed, all at once, in a *Problems.
func Parse(data []byte, lookup func(string) (string, bool)) (*Config, error) {
	root, err := document(data)
	if err != nil {
		return nil, err
	}
	exp := newExpander(lookup)
	exp.walk(root)
	d := &decoder{exp: exp}
	c := decodeConfig(field{d: d, val: root, at: root}.mapping())
	if len(d.problems) > 0 {
		ps := d.sorted()
		return nil, &ps
	}
	return c, nil
}

// document returns the top-level mapping of the single YAML document in data.
func document(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("config is empty")
		}
		return nil, fmt.Errorf("config is not valid YAML: %w", err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		return nil, fmt.Errorf("config: line %d: a second YAML document starts here; a config is one document", next.Line)
	case !errors.Is(err, io.EOF):
		return nil, fmt.Errorf("config is not valid YAML: %w", err)
	}
	root := resolve(doc.Content[0])
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil, errors.New("config is empty")
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config: line %d: the top level must be a mapping of keys (redis:, http:, shops:, ...), not %s", root.Line, describe(root))
	}
	return root, nil
}

func decodeConfig(m *mapping) *Config {
	c := &Config{
		Redis:   decodeRedis(m.get("redis").mapping()),
		HTTP:    decodeHTTP(m.get("http").mapping()),
		Admin:   decodeAdmin(m.get("admin").mapping()),
		Log:     decodeLog(m.get("log").mapping()),
		Workers: decodeWorkers(m.get("workers").mapping()),
		Rules:   decodeRules(m.get("rules").mapping()),
		// Shops are checked against the invoice series, so invoices come first.
		Invoices:  decodeInvoices(m.get("invoices").mapping()),
		Retention: decodeRetention(m.get("retention").mapping()),
	}
	c.Shops = decodeShops(m.get("shops"), c.Invoices)
	c.Suppliers = decodeSuppliers(m.get("suppliers"))
	c.MappingsFile = decodeMappingsFile(m.get("mappings_file"))
	m.done(nil)
	return c
}

func decodeRedis(m *mapping) Redis {
	f := m.get("url")
	r := Redis{URL: f.textOr(defaultRedisURL)}
	// url.Parse's error quotes the whole URL, password included, so it is never shown.
	if u, err := url.Parse(r.URL); err != nil {
		f.problem("must be a URL such as " + defaultRedisURL)
	} else if u.Scheme != "redis" && u.Scheme != "rediss" {
		f.problem("must be a redis:// or rediss:// URL")
	} else if _, err := redis.ParseURL(r.URL); err != nil {
		// Once url.Parse has accepted the URL, go-redis's messages name the part at fault (the
		// database number, a query option) and never the user info.
		f.problem(strings.TrimPrefix(err.Error(), "redis: "))
	}
	m.done(nil)
	return r
}

func decodeHTTP(m *mapping) HTTP {
	addr := m.get("addr")
	h := HTTP{
		Addr:            addr.textOr(defaultHTTPAddr),
		MaxBodyBytes:    m.get("max_body_bytes").integer(defaultMaxBodyBytes, 1, math.MaxInt),
		ReadTimeout:     m.get("read_timeout").positive(defaultReadTimeout),
		ShutdownTimeout: m.get("shutdown_timeout").positive(defaultShutdownTimeout),
	}
	_, port, err := net.SplitHostPort(h.Addr)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	addr.check(err == nil, `must be host:port, such as "127.0.0.1:8080" or ":8080"`)
	m.done(nil)
	return h
}

func decodeAdmin(m *mapping) Admin {
	token := m.get("token")
	a := Admin{
		Token:             token.required(),
		DashboardReadOnly: m.get("dashboard_read_only").boolean(false),
		PrometheusURL:     m.get("prometheus_url").httpURL(""),
	}
	if a.Token != "" {
		token.check(utf8.RuneCountInString(a.Token) >= minAdminTokenLength,
			fmt.Sprintf("must be at least %d characters", minAdminTokenLength))
	}
	m.done(nil)
	return a
}

func decodeLog(m *mapping) Log {
	l := Log{
		Level:  m.get("level").oneOf("info", "debug", "info", "warn", "error"),
		Format: m.get("format").oneOf("auto", "auto", "json", "console"),
	}
	m.done(nil)
	return l
}

func decodeRetention(m *mapping) Retention {
	r := Retention{OrdersDays: int(m.get("orders_days").integer(defaultOrdersDays, 0, 36500))}
	m.done(nil)
	return r
}

func decodeWorkers(m *mapping) Workers {
	addr := m.get("metrics_addr")
	w := Workers{
		Concurrency: int(m.get("concurrency").integer(defaultConcurrency, 1, maxWorkerConcurrency)),
		MetricsAddr: addr.textOr(""),
	}
	if w.MetricsAddr != "" {
		_, port, err := net.SplitHostPort(w.MetricsAddr)
		if err == nil {
			_, err = strconv.ParseUint(port, 10, 16)
		}
		addr.check(err == nil, `must be host:port, such as "127.0.0.1:9090"`)
	}
	m.done(nil)
	return w
}

func decodeShops(f field, inv Invoices) []Shop {
	var shops []Shop
	domains := make(map[string]string) // domain → path of the shop that has it
	for _, sf := range f.list() {
		shops = append(shops, decodeShop(sf.mapping(), inv, domains))
	}
	return shops
}

func decodeShop(m *mapping, inv Invoices, domains map[string]string) Shop {
	domain, poll, backfill, series := m.get("domain"), m.get("poll_interval"), m.get("backfill"), m.get("invoice_series")
	s := Shop{
		Domain:             domain.required(),
		AccessToken:        m.get("access_token").required(),
		WebhookSecret:      m.get("webhook_secret").required(),
		APIVersion:         m.get("api_version").matching(defaultAPIVersion, apiVersionRE, `must be a Shopify API version such as "2026-01"`),
		APIBaseURL:         m.get("api_base_url").httpURL(""),
		PollInterval:       poll.duration(defaultShopPollInterval),
		Backfill:           backfill.duration(defaultBackfill),
		NotifyCustomer:     m.get("notify_customer").boolean(true),
		InvoiceSeries:      series.matching("", seriesRE, seriesMessage),
		StoreName:          m.get("store_name").text(),
		PackingSlipMessage: m.get("packing_slip_message").text(),
		RateLimit:          decodeRateLimit(m.get("rate_limit").mapping()),
	}
	if s.Domain != "" {
		if !shopDomainRE.MatchString(s.Domain) {
			domain.problem("must be the shop's lower-case <name>.myshopify.com domain")
		} else if other, dup := domains[s.Domain]; dup {
			domain.problem("same domain as " + other)
		} else {
			domains[s.Domain] = m.path
		}
	}
	// Shopify's REST limit makes polling faster than this pointless and costly.
	poll.check(s.PollInterval == 0 || s.PollInterval >= minShopPollInterval, "must be 0 (polling off) or at least 10s")
	backfill.check(s.Backfill >= 0 && s.Backfill <= maxBackfill, "must be between 0 and 720h (30 days)")
	// Invoices and credit notes sharing a series would share its gapless sequence.
	series.check(s.InvoiceSeries == "" || s.InvoiceSeries != inv.CreditNoteSeries, "must differ from invoices.credit_note_series")
	m.done(nil)
	return s
}

func decodeRateLimit(m *mapping) RateLimit {
	r := RateLimit{
		BucketSize: int(m.get("bucket_size").integer(defaultBucketSize, 1, math.MaxInt)),
		LeakRate:   int(m.get("leak_rate").integer(defaultLeakRate, 1, math.MaxInt)),
	}
	m.done(nil)
	return r
}

func decodeSuppliers(f field) []Supplier {
	var suppliers []Supplier
	ids := make(map[string]string) // id → path of the supplier that has it
	for _, sf := range f.list() {
		suppliers = append(suppliers, decodeSupplier(sf.mapping(), ids))
	}
	return suppliers
}

func decodeSupplier(m *mapping, ids map[string]string) Supplier {
	id, kind, baseURL, poll := m.get("id"), m.get("kind"), m.get("base_url"), m.get("poll_interval")
	s := Supplier{ID: id.required(), Kind: kind.required()}
	if s.ID != "" {
		if !supplierIDRE.MatchString(s.ID) {
			id.problem("must be lower-case letters, digits and dashes")
		} else if other, dup := ids[s.ID]; dup {
			id.problem("same id as " + other)
		} else {
			ids[s.ID] = m.path
		}
	}
	if s.Kind != "" && !slices.Contains(supplierKinds, s.Kind) {
		kind.problem("must be one of " + strings.Join(supplierKinds, ", "))
		s.Kind = ""
	}

	// An http supplier is ours to describe; the others have one public API.
	if s.Kind == KindHTTP {
		s.BaseURL = baseURL.checkURL(baseURL.required())
	} else {
		s.BaseURL = baseURL.httpURL(defaultBaseURLs[s.Kind])
	}
	token, secret := m.get("token"), m.get("webhook_secret")
	if s.Kind == KindHTTP || s.Kind == KindPrintful {
		s.Token, s.WebhookSecret = token.required(), secret.required()
	} else {
		s.Token, s.WebhookSecret = token.text(), secret.text()
		// A token here would be silently ignored: CJ signs in with email and api_key.
		token.check(s.Kind != KindCJDropshipping || s.Token == "",
			"not used by kind cjdropshipping, which signs in with email and api_key")
	}
	s.PollInterval = poll.duration(defaultSupplierPoll)
	poll.check(s.PollInterval >= 0, "must not be negative (0 means webhooks only)")
	s.Timeout = m.get("timeout").positive(defaultSupplierTimeout)
	s.ShippingMethod = m.get("shipping_method").textOr(defaultShippingMethod)

	switch s.Kind {
	case KindPrintful:
		s.Confirm = m.get("confirm").boolean(true)
		s.StoreID = m.get("store_id").text()
	case KindCJDropshipping:
		email := m.get("email")
		s.Email = email.required()
		if s.Email != "" {
			a, err := mail.ParseAddress(s.Email)
			email.check(err == nil && a.Address == s.Email, "must be an email address")
		}
		s.APIKey = m.get("api_key").required()
		s.LogisticName = m.get("logistic_name").required()
		from := m.get("from_country")
		s.FromCountry = from.textOr(defaultFromCountry)
		checkCountry(from, s.FromCountry)
	case "":
		// Without a valid kind nobody can tell which kind's keys belong here: judge none.
		for _, keys := range kindKeys {
			for _, k := range keys {
				m.get(k)
			}
		}
	}
	m.done(func(key string) string {
		for kind, keys := range kindKeys {
			if slices.Contains(keys, key) {
				return "only valid for kind " + kind
			}
		}
		return ""
	})
	return s
}

func decodeMappingsFile(f field) string {
	path := f.text()
	if path == "" {
		return ""
	}
	info, err := os.Stat(path)
	var pathErr *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		f.problem("file does not exist (a relative path is taken from the working directory)")
	case errors.As(err, &pathErr):
		f.problem("cannot be read: " + pathErr.Err.Error())
	case err != nil:
		f.problem("cannot be read")
	case info.IsDir():
		f.problem("is a directory, not a file")
	}
	return path
}

func decodeRules(m *mapping) Rules {
	margin := m.get("min_margin_percent")
	r := Rules{
		MinMarginPercent: margin.decimal(decimal.Zero),
		RequirePaid:      m.get("require_paid").boolean(true),
		HoldRisk:         m.get("hold_risk").oneOf("high", "none", "medium", "high"),
		MaxQuantity:      int(m.get("max_quantity").integer(0, 0, math.MaxInt)),
	}
	margin.check(!r.MinMarginPercent.IsNegative() && r.MinMarginPercent.LessThan(maxMarginPercent),
		"must be at least 0 and below 100")
	for _, c := range m.get("hold_countries").list() {
		code := c.text()
		checkCountry(c, code)
		r.HoldCountries = append(r.HoldCountries, code)
	}
	m.done(nil)
	return r
}

// checkCountry reports a code that is not an assigned ISO 3166-1 alpha-2 code as a storefront
// reports destinations (upper-case; the few unassigned codes storefronts use, such as XK,
// count), naming the right code for common mistakes such as UK. Hints come from a fixed
// list, so the message still never carries the configured text itself.
func checkCountry(f field, code string) {
	if mappings.KnownCountry(code) {
		return
	}
	msg := countryMessage
	if hint, ok := countryHints[strings.ToUpper(code)]; ok {
		msg += " (use " + hint + ")"
	}
	f.problem(msg)
}

func decodeInvoices(m *mapping) Invoices {
	creditNotes := m.get("credit_note_series")
	inv := Invoices{
		Series:           m.get("series").matching(defaultInvoiceSeries, seriesRE, seriesMessage),
		CreditNoteSeries: creditNotes.matching(defaultCreditNoteSeries, seriesRE, seriesMessage),
		IssueOn:          m.get("issue_on").oneOf("fulfilled", "fulfilled", "paid"),
		Seller:           decodeSeller(m.get("seller").mapping()),
	}
	creditNotes.check(inv.CreditNoteSeries != inv.Series, "must differ from invoices.series")
	m.done(nil)
	return inv
}

func decodeSeller(m *mapping) Seller {
	s := Seller{
		Name:    m.get("name").text(),
		Address: m.get("address").text(),
		VATID:   m.get("vat_id").text(),
		Email:   m.get("email").text(),
	}
	m.done(nil)
	return s
}
