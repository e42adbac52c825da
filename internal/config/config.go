// Package config provides dropsync's configuration: the YAML file every subcommand reads,
// with ${VAR} and ${VAR:-default} taken from the environment, defaults filled in, and
// validation that names every problem by its key path without ever printing a secret.
//
// A Config is plain data: every default is already applied, so the code that wires dropsync
// together never has to know which keys a merchant left out.
package config

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Supplier kinds dropsync can talk to; one connector package exists for each.
const (
	KindHTTP           = "http"
	KindPrintful       = "printful"
	KindCJDropshipping = "cjdropshipping"
)

// Config is a validated dropsync configuration with every default applied.
type Config struct {
	Redis   Redis
	HTTP    HTTP
	Admin   Admin
	Log     Log
	Workers Workers
	Shops   []Shop
	// Suppliers lists the suppliers dropsync forwards purchase orders to.
	Suppliers []Supplier
	// MappingsFile is the merchant-edited supplier mappings CSV loaded at start; empty when
	// the mappings live only in Redis. A relative path is taken against the process's working
	// directory (not the config file's directory), the same way the command line treats it.
	MappingsFile string
	Rules        Rules
	Invoices     Invoices
	Retention    Retention
}

// Retention bounds how long dropsync keeps finished orders.
type Retention struct {
	// OrdersDays is how many days after its creation a fulfilled, cancelled or ignored order
	// is deleted (retention.orders_days, default 365; 0 keeps them forever). Issued invoices
	// are separate documents and are never deleted.
	OrdersDays int
}

// Redis says where dropsync's only datastore is.
type Redis struct {
	// URL is a redis:// or rediss:// URL that go-redis's ParseURL accepts. It may hold a
	// password, so print it only through Config.Summary.
	URL string
}

// HTTP configures the one listener for webhooks, the admin API, the dashboard and metrics.
type HTTP struct {
	Addr string // host:port to listen on
	// MaxBodyBytes caps a webhook body; a larger one is answered 413 without being read on.
	MaxBodyBytes    int64
	ReadTimeout     time.Duration
	ShutdownTimeout time.Duration // how long in-flight requests get after a stop signal
}

// Admin protects the admin API and the dashboard.
type Admin struct {
	Token string // bearer token (or basic-auth password) for /api/* and /monitoring/; secret
	// DashboardReadOnly hides the dashboard's buttons that change queues (delete, run, archive).
	DashboardReadOnly bool
	// PrometheusURL, when set, lets the dashboard draw queue charts from that Prometheus.
	PrometheusURL string
}

// Log chooses how much dropsync logs and in which shape.
type Log struct {
	Level  string // debug | info | warn | error
	Format string // auto (console on a terminal, else JSON) | json | console
}

// Workers sizes the asynq worker pool of `run` and `work`.
type Workers struct {
	Concurrency int
	// MetricsAddr, when set, is where a `dropsync work` process serves /healthz, /readyz and
	// /metrics (it has no other listener); "" = none.
	MetricsAddr string
}

// Shop is one Shopify store dropsync automates.
type Shop struct {
	Domain        string // lower-case <name>.myshopify.com; the shop's key everywhere
	AccessToken   string // Admin API access token; secret
	WebhookSecret string // app client secret that signs webhooks; secret
	APIVersion    string // YYYY-MM
	// APIBaseURL replaces https://<domain> for fakes and proxies: scheme://host[:port][/prefix]
	// with no trailing slash; empty means https://<domain>.
	APIBaseURL string
	// PollInterval is how often the poller re-reads recently updated orders; 0 disables it.
	PollInterval time.Duration
	// Backfill is how far back the poller looks the first time it runs for the shop.
	Backfill time.Duration
	// NotifyCustomer asks Shopify to email the customer when a fulfillment is created.
	NotifyCustomer bool
	// InvoiceSeries replaces Invoices.Series for this shop's invoices; empty uses that.
	InvoiceSeries string
	// StoreName and PackingSlipMessage brand the packing slip suppliers put in the parcel.
	StoreName          string
	PackingSlipMessage string
	RateLimit          RateLimit
}

// RateLimit is the shop's Admin API leaky bucket (REST: 40 and 2/s; Shopify Plus: 400 and 20/s).
type RateLimit struct {
	BucketSize int // calls the bucket holds
	LeakRate   int // calls per second the bucket drains
}

// Supplier is one supplier dropsync forwards purchase orders to.
type Supplier struct {
	ID   string // [a-z0-9-]+; appears in purchase order ids and webhook URLs
	Kind string // KindHTTP, KindPrintful or KindCJDropshipping
	// BaseURL is the supplier API's absolute http(s) URL without a trailing slash.
	BaseURL       string
	Token         string // API token (http, printful); secret
	WebhookSecret string // signs (http) or authenticates (printful, in the URL) events; secret
	// PollInterval is how often forwarded purchase orders are polled for tracking; 0 means
	// dropsync relies on the supplier's webhooks alone.
	PollInterval   time.Duration
	Timeout        time.Duration // per request
	ShippingMethod string

	// Printful only.

	// Confirm submits orders for fulfilment at once; false leaves them as drafts to review.
	Confirm bool
	StoreID string // X-PF-Store-Id, for accounts with several stores

	// CJdropshipping only.

	Email        string // account email
	APIKey       string // secret
	LogisticName string // CJ's logistics method, e.g. "CJPacket Ordinary"
	FromCountry  string // ISO 3166-1 alpha-2 code of the shipping warehouse
}

// Rules decide which orders are held for a person to look at instead of being forwarded.
type Rules struct {
	// MinMarginPercent holds an order whose supplier cost leaves less margin than this.
	MinMarginPercent decimal.Decimal
	RequirePaid      bool // hold orders that are not paid or authorized
	// HoldRisk holds orders whose Shopify risk recommendation is at or above this level:
	// medium | high; none holds no order for its risk.
	HoldRisk string
	// MaxQuantity holds an order with a line quantity above it; 0 means no cap.
	MaxQuantity int
	// HoldCountries holds orders shipping to these ISO 3166-1 alpha-2 codes.
	HoldCountries []string
}

// Invoices configures invoice numbering and what is printed on them.
type Invoices struct {
	Series           string // default invoice series, [A-Z0-9]{1,10}
	CreditNoteSeries string // credit note series, same shape, never equal to an invoice series
	IssueOn          string // fulfilled | paid
	Seller           Seller
}

// Seller is the merchant as printed on invoices.
type Seller struct {
	Name    string
	Address string // may span several lines
	VATID   string
	Email   string
}

// Shop returns the shop with the given domain. Shopify's domains are case-insensitive, so
// the comparison is too.
func (c *Config) Shop(domain string) (Shop, bool) {
	for _, s := range c.Shops {
		if strings.EqualFold(s.Domain, domain) {
			return s, true
		}
	}
	return Shop{}, false
}

// Supplier returns the supplier with the given id.
func (c *Config) Supplier(id string) (Supplier, bool) {
	for _, s := range c.Suppliers {
		if s.ID == id {
			return s, true
		}
	}
	return Supplier{}, false
}
