package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

const adminOK = "admin: {token: 0123456789abcdef}\n"

// shopYAML is a valid one-shop list with extra keys added to the shop.
func shopYAML(extra ...string) string {
	s := "shops:\n  - domain: example.myshopify.com\n    access_token: tok\n    webhook_secret: sec\n"
	for _, e := range extra {
		s += "    " + e + "\n"
	}
	return s
}

// supplierYAML is a one-supplier list with the given keys.
func supplierYAML(keys ...string) string {
	s := "suppliers:\n  - "
	return s + strings.Join(keys, "\n    ") + "\n"
}

var httpSupplier = []string{"id: acme", "kind: http", "base_url: https://acme.example", "token: t", "webhook_secret: s"}

func problemLines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	ps, ok := errors.AsType[*Problems](err)
	if !ok {
		t.Fatalf("got error %q (%T), want *Problems", err, err)
	}
	lines := make([]string, len(*ps))
	for i, p := range *ps {
		lines[i] = p.String()
	}
	return lines
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name string
		yaml string // adminOK is prepended unless the case has its own admin key
		env  map[string]string
		want []string // nil: valid
	}{
		// Structure.
		{name: "unknown top-level key", yaml: "redis_url: x\n", want: []string{"redis_url: unknown key"}},
		{name: "unknown nested key", yaml: shopYAML("webhok_secret: x"), want: []string{"shops[0].webhok_secret: unknown key"}},
		{name: "duplicate key", yaml: "log:\n  level: info\n  level: debug\n", want: []string{"log.level: duplicate key (first at line 3)"}},
		{name: "section given as a value", yaml: "redis: redis://127.0.0.1:6379\n", want: []string{"redis: must be a mapping of keys, not a single value"}},
		{name: "list where a mapping goes", yaml: "http: [a]\n", want: []string{"http: must be a mapping of keys, not a list"}},
		{name: "mapping where a value goes", yaml: "log: {level: {x: 1}}\n", want: []string{"log.level: must be a single value, not a mapping"}},
		{name: "shops not a list", yaml: "shops: {domain: a.myshopify.com}\n", want: []string{"shops: must be a list, not a mapping"}},
		{name: "shop not a mapping", yaml: "shops: [a.myshopify.com]\n", want: []string{"shops[0]: must be a mapping of keys, not a single value"}},
		{name: "null sections take defaults", yaml: "redis:\nhttp: ~\nshops:\nsuppliers: []\n"},
		{name: "bad reference", yaml: "log: {level: '${LEVEL'}\n", want: []string{"log.level: value has a ${ without its closing } (from LEVEL)"}},
		{name: "merge of a value", yaml: "log:\n  <<: info\n", want: []string{"log.<<: must merge a mapping or a list of mappings"}},

		// redis.
		{name: "redis scheme", yaml: "redis: {url: 'http://127.0.0.1:6379'}\n", want: []string{"redis.url: must be a redis:// or rediss:// URL"}},
		{name: "redis not a URL", yaml: "redis: {url: 'redis://h:port/0'}\n", want: []string{"redis.url: must be a URL such as redis://127.0.0.1:6379/0"}},
		{name: "redis database", yaml: "redis: {url: 'redis://h:6379/x'}\n", want: []string{`redis.url: invalid database number: "x"`}},
		{name: "redis option", yaml: "redis: {url: 'redis://h:6379/0?colour=red'}\n", want: []string{"redis.url: unexpected option: colour"}},
		{name: "redis from env", yaml: "redis: {url: '${REDIS_URL}'}\n", env: map[string]string{"REDIS_URL": "mysql://x"}, want: []string{"redis.url: must be a redis:// or rediss:// URL (from REDIS_URL)"}},
		{name: "rediss with password", yaml: "redis: {url: 'rediss://u:p@h:6380/3?dial_timeout=3s'}\n"},

		// http.
		{name: "addr without port", yaml: "http: {addr: localhost}\n", want: []string{`http.addr: must be host:port, such as "127.0.0.1:8080" or ":8080"`}},
		{name: "addr port out of range", yaml: "http: {addr: ':70000'}\n", want: []string{`http.addr: must be host:port, such as "127.0.0.1:8080" or ":8080"`}},
		{name: "addr all interfaces", yaml: "http: {addr: ':8080'}\n"},
		{name: "body limit zero", yaml: "http: {max_body_bytes: 0}\n", want: []string{"http.max_body_bytes: must be at least 1"}},
		{name: "body limit with unit", yaml: "http: {max_body_bytes: 2MB}\n", want: []string{"http.max_body_bytes: must be a whole number"}},
		{name: "timeouts", yaml: "http: {read_timeout: 0, shutdown_timeout: -1s}\n", want: []string{
			"http.read_timeout: must be greater than 0", "http.shutdown_timeout: must be greater than 0"}},

		// admin.
		{name: "admin token missing", yaml: "admin: {}\n", want: []string{"admin.token: required"}},
		{name: "admin section missing", yaml: "log: {}\n", want: nil},
		{name: "admin token from unset variable", yaml: "admin: {token: '${DROPSYNC_ADMIN_TOKEN}'}\n", want: []string{"admin.token: required (set DROPSYNC_ADMIN_TOKEN)"}},
		{name: "admin token too short", yaml: "admin: {token: short}\n", want: []string{"admin.token: must be at least 16 characters"}},
		{name: "admin token too short from env", yaml: "admin: {token: '${T}'}\n", env: map[string]string{"T": "x"}, want: []string{"admin.token: must be at least 16 characters (from T)"}},
		{name: "dashboard flag", yaml: "admin: {token: 0123456789abcdef, dashboard_read_only: maybe}\n", want: []string{"admin.dashboard_read_only: must be true or false"}},
		{name: "prometheus without scheme", yaml: "admin: {token: 0123456789abcdef, prometheus_url: 'prometheus:9090'}\n", want: []string{"admin.prometheus_url: must be an absolute http:// or https:// URL"}},

		// log and workers.
		{name: "log level", yaml: "log: {level: loud}\n", want: []string{"log.level: must be one of debug, info, warn, error"}},
		{name: "log format", yaml: "log: {format: xml}\n", want: []string{"log.format: must be one of auto, json, console"}},
		{name: "concurrency zero", yaml: "workers: {concurrency: 0}\n", want: []string{"workers.concurrency: must be between 1 and 1000"}},
		{name: "concurrency too high", yaml: "workers: {concurrency: 1001}\n", want: []string{"workers.concurrency: must be between 1 and 1000"}},
		{name: "concurrency not a number", yaml: "workers: {concurrency: ten}\n", want: []string{"workers.concurrency: must be a whole number"}},

		// shops.
		{name: "shop keys missing", yaml: "shops:\n  - poll_interval: 1m\n", want: []string{
			"shops[0].domain: required", "shops[0].access_token: required", "shops[0].webhook_secret: required"}},
		{name: "shop secrets from unset variables", yaml: "shops:\n  - domain: a.myshopify.com\n    access_token: ${SHOPIFY_ACCESS_TOKEN}\n    webhook_secret: ${SHOPIFY_API_SECRET:-}\n",
			want: []string{"shops[0].access_token: required (set SHOPIFY_ACCESS_TOKEN)", "shops[0].webhook_secret: required (set SHOPIFY_API_SECRET)"}},
		{name: "shop domain upper-case", yaml: strings.Replace(shopYAML(), "example.", "Example.", 1), want: []string{
			"shops[0].domain: must be the shop's lower-case <name>.myshopify.com domain"}},
		{name: "shop domain elsewhere", yaml: strings.Replace(shopYAML(), "example.myshopify.com", "shop.example.com", 1), want: []string{
			"shops[0].domain: must be the shop's lower-case <name>.myshopify.com domain"}},
		{name: "shop domain twice", yaml: shopYAML() + "  - {domain: example.myshopify.com, access_token: a, webhook_secret: b}\n", want: []string{
			"shops[1].domain: same domain as shops[0]"}},
		{name: "api version", yaml: shopYAML("api_version: 2026-1"), want: []string{`shops[0].api_version: must be a Shopify API version such as "2026-01"`}},
		{name: "api version month", yaml: shopYAML("api_version: 2026-13"), want: []string{`shops[0].api_version: must be a Shopify API version such as "2026-01"`}},
		{name: "api base url with query", yaml: shopYAML("api_base_url: http://fake:8081/?x=1"), want: []string{"shops[0].api_base_url: must not have a query or fragment"}},
		{name: "api base url with fragment", yaml: shopYAML("api_base_url: 'http://fake:8081/#x'"), want: []string{"shops[0].api_base_url: must not have a query or fragment"}},
		{name: "api base url with password", yaml: shopYAML("api_base_url: https://u:p@proxy.example"), want: []string{"shops[0].api_base_url: must not contain a user name or password"}},
		{name: "api base url scheme", yaml: shopYAML("api_base_url: ftp://proxy.example"), want: []string{"shops[0].api_base_url: must be an absolute http:// or https:// URL"}},
		{name: "poll too often", yaml: shopYAML("poll_interval: 5s"), want: []string{"shops[0].poll_interval: must be 0 (polling off) or at least 10s"}},
		{name: "poll negative", yaml: shopYAML("poll_interval: -1m"), want: []string{"shops[0].poll_interval: must be 0 (polling off) or at least 10s"}},
		{name: "poll without unit", yaml: shopYAML("poll_interval: 300"), want: []string{`shops[0].poll_interval: must be a duration such as "90s", "5m" or "0"`}},
		{name: "poll off and at the minimum", yaml: shopYAML("poll_interval: 0") + "  - {domain: b.myshopify.com, access_token: a, webhook_secret: b, poll_interval: 10s}\n"},
		{name: "backfill too long", yaml: shopYAML("backfill: 721h"), want: []string{"shops[0].backfill: must be between 0 and 720h (30 days)"}},
		{name: "backfill negative", yaml: shopYAML("backfill: -1h"), want: []string{"shops[0].backfill: must be between 0 and 720h (30 days)"}},
		{name: "backfill limits", yaml: shopYAML("backfill: 0") + "  - {domain: b.myshopify.com, access_token: a, webhook_secret: b, backfill: 720h}\n"},
		{name: "notify customer", yaml: shopYAML("notify_customer: yes"), want: []string{"shops[0].notify_customer: must be true or false"}},
		{name: "invoice series lower-case", yaml: shopYAML("invoice_series: ex"), want: []string{"shops[0].invoice_series: must be 1 to 10 upper-case letters or digits"}},
		{name: "invoice series too long", yaml: shopYAML("invoice_series: ABCDEFGHIJK"), want: []string{"shops[0].invoice_series: must be 1 to 10 upper-case letters or digits"}},
		{name: "invoice series of credit notes", yaml: shopYAML("invoice_series: CN"), want: []string{"shops[0].invoice_series: must differ from invoices.credit_note_series"}},
		{name: "rate limit", yaml: shopYAML("rate_limit: {bucket_size: 0, leak_rate: 1.5, burst: 3}"), want: []string{
			"shops[0].rate_limit.bucket_size: must be at least 1", "shops[0].rate_limit.leak_rate: must be a whole number", "shops[0].rate_limit.burst: unknown key"}},

		// suppliers.
		{name: "supplier keys missing", yaml: "suppliers:\n  - shipping_method: x\n", want: []string{"suppliers[0].id: required", "suppliers[0].kind: required"}},
		{name: "supplier id shape", yaml: supplierYAML(append(slices.Clone(httpSupplier[1:]), "id: Acme_1")...), want: []string{
			"suppliers[0].id: must be lower-case letters, digits and dashes"}},
		{name: "supplier id twice", yaml: supplierYAML(httpSupplier...) + "  - {id: acme, kind: printful, token: t, webhook_secret: s}\n", want: []string{
			"suppliers[1].id: same id as suppliers[0]"}},
		{name: "supplier kind", yaml: supplierYAML("id: x", "kind: shopify", "email: a@b.example", "colour: red"), want: []string{
			"suppliers[0].kind: must be one of http, printful, cjdropshipping", "suppliers[0].colour: unknown key"}},
		{name: "http supplier keys missing", yaml: supplierYAML("id: acme", "kind: http", "token: ${ACME_TOKEN}"), want: []string{
			"suppliers[0].base_url: required", "suppliers[0].webhook_secret: required", "suppliers[0].token: required (set ACME_TOKEN)"}},
		{name: "http supplier base url", yaml: supplierYAML(append(slices.Clone(httpSupplier[:2]), "base_url: api.acme.example", "token: t", "webhook_secret: s")...), want: []string{
			"suppliers[0].base_url: must be an absolute http:// or https:// URL"}},
		{name: "printful keys missing", yaml: supplierYAML("id: pf", "kind: printful"), want: []string{
			"suppliers[0].token: required", "suppliers[0].webhook_secret: required"}},
		{name: "printful base url override", yaml: supplierYAML("id: pf", "kind: printful", "token: t", "webhook_secret: s", "base_url: http://127.0.0.1:9000/")},
		{name: "printful confirm", yaml: supplierYAML("id: pf", "kind: printful", "token: t", "webhook_secret: s", "confirm: sure"), want: []string{
			"suppliers[0].confirm: must be true or false"}},
		{name: "cjdropshipping keys missing", yaml: supplierYAML("id: cj", "kind: cjdropshipping"), want: []string{
			"suppliers[0].email: required", "suppliers[0].api_key: required", "suppliers[0].logistic_name: required"}},
		{name: "cjdropshipping email and country", yaml: supplierYAML("id: cj", "kind: cjdropshipping", "email: 'Ops <ops@x.example>'", "api_key: k", "logistic_name: l", "from_country: cn"), want: []string{
			"suppliers[0].email: must be an email address", "suppliers[0].from_country: must be an upper-case ISO 3166-1 alpha-2 country code such as US"}},
		{name: "cjdropshipping unassigned country", yaml: supplierYAML("id: cj", "kind: cjdropshipping", "email: ops@x.example", "api_key: k", "logistic_name: l", "from_country: UK"), want: []string{
			"suppliers[0].from_country: must be an upper-case ISO 3166-1 alpha-2 country code such as US (use GB for the United Kingdom)"}},
		{name: "cjdropshipping token is not used", yaml: supplierYAML("id: cj", "kind: cjdropshipping", "email: ops@x.example", "api_key: k", "logistic_name: l", "token: t"), want: []string{
			"suppliers[0].token: not used by kind cjdropshipping, which signs in with email and api_key"}},
		{name: "key of another kind", yaml: supplierYAML(append(slices.Clone(httpSupplier), "confirm: true", "api_key: k")...), want: []string{
			"suppliers[0].confirm: only valid for kind printful", "suppliers[0].api_key: only valid for kind cjdropshipping"}},
		{name: "supplier durations", yaml: supplierYAML(append(slices.Clone(httpSupplier), "poll_interval: -1s", "timeout: 0s")...), want: []string{
			"suppliers[0].poll_interval: must not be negative (0 means webhooks only)", "suppliers[0].timeout: must be greater than 0"}},

		// mappings_file.
		{name: "mappings file exists", yaml: "mappings_file: testdata/mappings.csv\n"},
		{name: "mappings file missing", yaml: "mappings_file: testdata/nope.csv\n", want: []string{
			"mappings_file: file does not exist (a relative path is taken from the working directory)"}},
		{name: "mappings file is a directory", yaml: "mappings_file: testdata\n", want: []string{"mappings_file: is a directory, not a file"}},

		// rules.
		{name: "margin negative", yaml: "rules: {min_margin_percent: -0.5}\n", want: []string{"rules.min_margin_percent: must be at least 0 and below 100"}},
		{name: "margin above 100", yaml: "rules: {min_margin_percent: 100.01}\n", want: []string{"rules.min_margin_percent: must be at least 0 and below 100"}},
		{name: "margin not a number", yaml: "rules: {min_margin_percent: 10%}\n", want: []string{"rules.min_margin_percent: must be a decimal number"}},
		{name: "margin of 100 would hold every order with a cost", yaml: "rules: {min_margin_percent: 100}\n", want: []string{
			"rules.min_margin_percent: must be at least 0 and below 100"}},
		{name: "margin just below 100", yaml: "rules: {min_margin_percent: 99.99}\n"},
		{name: "margin of 0", yaml: "rules: {min_margin_percent: 0}\n"},
		{name: "require paid", yaml: "rules: {require_paid: 1}\n", want: []string{"rules.require_paid: must be true or false"}},
		{name: "hold risk", yaml: "rules: {hold_risk: low}\n", want: []string{"rules.hold_risk: must be one of none, medium, high"}},
		{name: "max quantity", yaml: "rules: {max_quantity: -1}\n", want: []string{"rules.max_quantity: must be at least 0"}},
		{name: "hold countries", yaml: "rules: {hold_countries: [US, usa, '']}\n", want: []string{
			"rules.hold_countries[1]: must be an upper-case ISO 3166-1 alpha-2 country code such as US",
			"rules.hold_countries[2]: must be an upper-case ISO 3166-1 alpha-2 country code such as US"}},
		{name: "hold countries assigned, and the ones storefronts use", yaml: "rules: {hold_countries: [GB, GR, BR, AX, XK]}\n"},
		{name: "hold countries unassigned", yaml: "rules: {hold_countries: [XX, EU, ZZ, US]}\n", want: []string{
			"rules.hold_countries[0]: must be an upper-case ISO 3166-1 alpha-2 country code such as US",
			"rules.hold_countries[1]: must be an upper-case ISO 3166-1 alpha-2 country code such as US",
			"rules.hold_countries[2]: must be an upper-case ISO 3166-1 alpha-2 country code such as US"}},
		{name: "hold countries with a hint", yaml: "rules: {hold_countries: [UK, EL, uk]}\n", want: []string{
			"rules.hold_countries[0]: must be an upper-case ISO 3166-1 alpha-2 country code such as US (use GB for the United Kingdom)",
			"rules.hold_countries[1]: must be an upper-case ISO 3166-1 alpha-2 country code such as US (use GR for Greece)",
			"rules.hold_countries[2]: must be an upper-case ISO 3166-1 alpha-2 country code such as US (use GB for the United Kingdom)"}},
		{name: "hold countries not a list", yaml: "rules: {hold_countries: US}\n", want: []string{"rules.hold_countries: must be a list, not a single value"}},

		// invoices.
		{name: "invoice series", yaml: "invoices: {series: inv}\n", want: []string{"invoices.series: must be 1 to 10 upper-case letters or digits"}},
		{name: "credit notes share the series", yaml: "invoices: {series: CN}\n", want: []string{"invoices.credit_note_series: must differ from invoices.series"}},
		{name: "issue on", yaml: "invoices: {issue_on: shipped}\n", want: []string{"invoices.issue_on: must be one of fulfilled, paid"}},
		{name: "seller unknown key", yaml: "invoices: {seller: {name: X, phone: '1'}}\n", want: []string{"invoices.seller.phone: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.yaml
			if !strings.Contains(src, "admin:") {
				src = adminOK + src
			}
			c, err := Parse([]byte(src), env(tt.env))
			got := problemLines(t, err)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got problems\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
			if (c == nil) != (tt.want != nil) {
				t.Errorf("got config %v with problems %v, want a config only when valid", c != nil, got)
			}
		})
	}
}

// TestEveryProblemInFileOrder reads a config broken in every section and checks that all its
// problems are listed at once, in the order of the file.
func TestEveryProblemInFileOrder(t *testing.T) {
	_, err := Load("testdata/broken.yaml", env(nil))
	got := problemLines(t, err)
	want := []string{
		"redis.url: must be a redis:// or rediss:// URL",
		`http.addr: must be host:port, such as "127.0.0.1:8080" or ":8080"`,
		"http.max_body_bytes: must be at least 1",
		"admin.token: must be at least 16 characters",
		"log.level: must be one of debug, info, warn, error",
		"workers.concurrency: must be between 1 and 1000",
		// A missing key is placed where its mapping starts.
		"shops[0].webhook_secret: required",
		"shops[0].domain: must be the shop's lower-case <name>.myshopify.com domain",
		"shops[0].access_token: required (set SHOPIFY_ACCESS_TOKEN)",
		"shops[0].webhok_secret: unknown key",
		"shops[0].poll_interval: must be 0 (polling off) or at least 10s",
		`shops[1].api_version: must be a Shopify API version such as "2026-01"`,
		"suppliers[0].base_url: required",
		"suppliers[0].id: must be lower-case letters, digits and dashes",
		`suppliers[0].poll_interval: must be a duration such as "90s", "5m" or "0"`,
		"suppliers[1].email: only valid for kind cjdropshipping",
		"rules.min_margin_percent: must be at least 0 and below 100",
		"rules.hold_countries[0]: must be an upper-case ISO 3166-1 alpha-2 country code such as US",
		"invoices.credit_note_series: must differ from invoices.series",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	if got, want := err.Error(), strings.Join(want, "\n"); got != want {
		t.Errorf("Error(): got\n%s\nwant one problem per line:\n%s", got, want)
	}
}

func TestDocumentErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{name: "empty", yaml: "", want: "config is empty"},
		{name: "only comments", yaml: "# nothing yet\n\n", want: "config is empty"},
		{name: "only a document marker", yaml: "---\n", want: "config is empty"},
		{name: "syntax error", yaml: "admin:\n  token: x\n   bad: [\n", want: "config is not valid YAML: yaml: line 3: "},
		{name: "tab indentation", yaml: "admin:\n\ttoken: x\n", want: "config is not valid YAML: yaml: line 2: "},
		{name: "top-level list", yaml: "- redis: {}\n", want: "config: line 1: the top level must be a mapping of keys (redis:, http:, shops:, ...), not a list"},
		{name: "top-level value", yaml: "redis://127.0.0.1\n", want: "config: line 1: the top level must be a mapping of keys (redis:, http:, shops:, ...), not a single value"},
		{name: "two documents", yaml: adminOK + "---\nlog: {}\n", want: "config: line 2: a second YAML document starts here; a config is one document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), nil)
			if c != nil || err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("got (%v, %v), want an error starting %q", c, err, tt.want)
			}
			if _, ok := errors.AsType[*Problems](err); ok {
				t.Errorf("got *Problems, want a plain error for a document that cannot be read")
			}
		})
	}
}

// TestSecretsNeverPrinted puts distinctive secrets in every secret key of broken configs, and
// in keys where they do not belong, and searches every output for them.
func TestSecretsNeverPrinted(t *testing.T) {
	secrets := map[string]string{
		"DROPSYNC_ADMIN_TOKEN": "SECRET-admin-1", // too short: a problem about the key itself
		"SHOPIFY_ACCESS_TOKEN": "SECRET-access-2",
		"SHOPIFY_API_SECRET":   "SECRET-shop-webhook-3#: x\n- y",
		"ACME_TOKEN":           "SECRET-acme-token-4",
		"ACME_WEBHOOK_SECRET":  "SECRET-acme-webhook-5",
		"CJ_API_KEY":           "SECRET-cj-key-6",
		"REDIS_URL":            "redis://dropsync:SECRET-redis-7@redis:6379/x",
	}
	configs := map[string]string{
		"secrets in their keys, everything else broken": `
redis: {url: "${REDIS_URL}"}
admin: {token: "${DROPSYNC_ADMIN_TOKEN}"}
log: {level: loud}
shops:
  - domain: Bad
    access_token: ${SHOPIFY_ACCESS_TOKEN}
    webhook_secret: ${SHOPIFY_API_SECRET}
    poll_interval: 1s
suppliers:
  - {id: BAD, kind: http, base_url: nope, token: "${ACME_TOKEN}", webhook_secret: "${ACME_WEBHOOK_SECRET}", api_key: "${CJ_API_KEY}"}
  - {id: cj, kind: cjdropshipping, email: nope, api_key: "${CJ_API_KEY}", logistic_name: x, token: "${ACME_TOKEN}", timeout: 0}
`,
		"secrets in the wrong keys": `
redis: {url: "redis://u:SECRET-redis-8@h:port/0"}
admin: {token: "${DROPSYNC_ADMIN_TOKEN}", prometheus_url: "https://u:${ACME_TOKEN}@prom"}
log: {level: "${SHOPIFY_ACCESS_TOKEN}", format: "${ACME_WEBHOOK_SECRET}"}
workers: {concurrency: "${CJ_API_KEY}"}
mappings_file: "${SHOPIFY_API_SECRET}"
shops:
  - domain: ${SHOPIFY_ACCESS_TOKEN}
    access_token: {nested: "${SHOPIFY_ACCESS_TOKEN}"}
    webhook_secret: ["${SHOPIFY_API_SECRET}"]
    api_version: ${SHOPIFY_API_SECRET}
    api_base_url: https://proxy/?token=${ACME_TOKEN}
    poll_interval: ${ACME_TOKEN}
    invoice_series: ${CJ_API_KEY}
    access_tokn: ${SHOPIFY_ACCESS_TOKEN}
suppliers:
  - {id: "${ACME_TOKEN}", kind: "${ACME_WEBHOOK_SECRET}", base_url: "${CJ_API_KEY}"}
rules: {min_margin_percent: "${CJ_API_KEY}", hold_countries: ["${ACME_TOKEN}"], hold_risk: "${ACME_TOKEN}"}
invoices: {series: "${ACME_TOKEN}", issue_on: "${CJ_API_KEY}"}
`,
		"a secret in a file that is not valid YAML": `
admin: {token: SECRET-admin-9}
shops:
  - access_token: SECRET-access-10
   webhook_secret: [SECRET-webhook-11
`,
	}
	for name, src := range configs {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(src), env(secrets))
			if err == nil {
				t.Fatal("got no error, want problems")
			}
			outputs := []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err)}
			if ps, ok := errors.AsType[*Problems](err); ok {
				outputs = append(outputs, fmt.Sprintf("%#v", *ps))
			}
			for _, out := range outputs {
				for _, s := range []string{"SECRET-", "dropsync:", "#: x"} {
					if strings.Contains(out, s) {
						t.Errorf("output contains %q:\n%s", s, out)
					}
				}
			}
		})
	}
}
