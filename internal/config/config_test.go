package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

// fullEnv is what an operator's environment holds for testdata/full.yaml.
var fullEnv = map[string]string{
	"DROPSYNC_ADMIN_TOKEN":    "admin-token-0123456789",
	"SHOPIFY_ACCESS_TOKEN":    "shpat_example",
	"SHOPIFY_API_SECRET":      "example-client-secret",
	"SECOND_ACCESS_TOKEN":     "shpat_second",
	"SECOND_API_SECRET":       "second-client-secret",
	"ACME_TOKEN":              "acme-token",
	"ACME_WEBHOOK_SECRET":     "acme-webhook-secret",
	"PRINTFUL_TOKEN":          "printful-token",
	"PRINTFUL_WEBHOOK_SECRET": "printful-webhook-secret",
	"CJ_API_KEY":              "cj-api-key",
}

func TestParseFull(t *testing.T) {
	c, err := Load("testdata/full.yaml", env(fullEnv))
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Redis: Redis{URL: "redis://127.0.0.1:6379/0"},
		HTTP: HTTP{
			Addr:            "0.0.0.0:9090",
			MaxBodyBytes:    1048576,
			ReadTimeout:     5 * time.Second,
			ShutdownTimeout: 40 * time.Second,
		},
		Admin: Admin{
			Token:             "admin-token-0123456789",
			DashboardReadOnly: true,
			PrometheusURL:     "http://prometheus:9090",
		},
		Log:       Log{Level: "debug", Format: "json"},
		Workers:   Workers{Concurrency: 25},
		Retention: Retention{OrdersDays: 30},
		Shops: []Shop{
			{
				Domain:             "example.myshopify.com",
				AccessToken:        "shpat_example",
				WebhookSecret:      "example-client-secret",
				APIVersion:         "2025-10",
				APIBaseURL:         "http://127.0.0.1:8081/shopify",
				PollInterval:       90 * time.Second,
				Backfill:           24 * time.Hour,
				NotifyCustomer:     false,
				InvoiceSeries:      "EX",
				StoreName:          "Example Store",
				PackingSlipMessage: "Thank you for your order!\nSee you soon.\n",
				RateLimit:          RateLimit{BucketSize: 400, LeakRate: 20},
			},
			{
				Domain:         "second-store.myshopify.com",
				AccessToken:    "shpat_second",
				WebhookSecret:  "second-client-secret",
				APIVersion:     "2026-01",
				PollInterval:   0,
				Backfill:       time.Hour,
				NotifyCustomer: true,
				RateLimit:      RateLimit{BucketSize: 40, LeakRate: 2},
			},
		},
		Suppliers: []Supplier{
			{
				ID:             "acme",
				Kind:           KindHTTP,
				BaseURL:        "https://api.acme.example/v1",
				Token:          "acme-token",
				WebhookSecret:  "acme-webhook-secret",
				PollInterval:   0,
				Timeout:        30 * time.Second,
				ShippingMethod: "express",
			},
			{
				ID:             "printful",
				Kind:           KindPrintful,
				BaseURL:        "https://api.printful.com",
				Token:          "printful-token",
				WebhookSecret:  "printful-webhook-secret",
				PollInterval:   10 * time.Minute,
				Timeout:        15 * time.Second,
				ShippingMethod: "standard",
				Confirm:        false,
				StoreID:        "1234567",
			},
			{
				ID:             "cj",
				Kind:           KindCJDropshipping,
				BaseURL:        "https://developers.cjdropshipping.com/api2.0/v1",
				PollInterval:   10 * time.Minute,
				Timeout:        15 * time.Second,
				ShippingMethod: "standard",
				Email:          "ops@merchant.example",
				APIKey:         "cj-api-key",
				LogisticName:   "CJPacket Ordinary",
				FromCountry:    "US",
			},
		},
		MappingsFile: "testdata/mappings.csv",
		Rules: Rules{
			MinMarginPercent: decimal.RequireFromString("12.5"),
			RequirePaid:      false,
			HoldRisk:         "medium",
			MaxQuantity:      20,
			HoldCountries:    []string{"RU", "BY"},
		},
		Invoices: Invoices{
			Series:           "INV2",
			CreditNoteSeries: "CRN",
			IssueOn:          "paid",
			Seller: Seller{
				Name:    "Example Trading Ltd",
				Address: "1 Market Street\nSpringfield",
				VATID:   "GB123456789",
				Email:   "billing@merchant.example",
			},
		},
	}
	compareConfig(t, c, want)
}

// compareConfig compares two configs field by field so that a failure names the section;
// decimals are compared by value, not by representation.
func compareConfig(t *testing.T, got, want *Config) {
	t.Helper()
	if !got.Rules.MinMarginPercent.Equal(want.Rules.MinMarginPercent) {
		t.Errorf("Rules.MinMarginPercent: got %s, want %s", got.Rules.MinMarginPercent, want.Rules.MinMarginPercent)
	}
	g, w := *got, *want
	g.Rules.MinMarginPercent, w.Rules.MinMarginPercent = decimal.Decimal{}, decimal.Decimal{}
	gv, wv := reflect.ValueOf(g), reflect.ValueOf(w)
	for i := range gv.NumField() {
		if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
			t.Errorf("%s:\n got %+v\nwant %+v", gv.Type().Field(i).Name, gv.Field(i).Interface(), wv.Field(i).Interface())
		}
	}
}

func TestParseDefaults(t *testing.T) {
	src := `
admin:
  token: ${DROPSYNC_ADMIN_TOKEN}
shops:
  - domain: example.myshopify.com
    access_token: a
    webhook_secret: b
    # Empty and null values count as not set, so they take the default too.
    api_version: ""
    notify_customer:
    poll_interval: ${SHOP_POLL_INTERVAL}
suppliers:
  - {id: acme, kind: http, base_url: "https://acme.example", token: t, webhook_secret: s}
  - {id: pf, kind: printful, token: t, webhook_secret: s}
  - {id: cj, kind: cjdropshipping, email: a@b.example, api_key: k, logistic_name: CJPacket}
rules:
invoices: {}
`
	c, err := Parse([]byte(src), env(map[string]string{"DROPSYNC_ADMIN_TOKEN": "0123456789abcdef"}))
	if err != nil {
		t.Fatal(err)
	}
	supplierDefaults := Supplier{PollInterval: 10 * time.Minute, Timeout: 15 * time.Second, ShippingMethod: "standard"}
	with := func(s Supplier, change func(*Supplier)) Supplier {
		change(&s)
		return s
	}
	want := &Config{
		Redis: Redis{URL: "redis://127.0.0.1:6379/0"},
		HTTP: HTTP{
			Addr:            "127.0.0.1:8080",
			MaxBodyBytes:    2097152,
			ReadTimeout:     10 * time.Second,
			ShutdownTimeout: 25 * time.Second,
		},
		Admin:     Admin{Token: "0123456789abcdef"},
		Log:       Log{Level: "info", Format: "auto"},
		Workers:   Workers{Concurrency: 10},
		Retention: Retention{OrdersDays: 365},
		Shops: []Shop{{
			Domain:         "example.myshopify.com",
			AccessToken:    "a",
			WebhookSecret:  "b",
			APIVersion:     "2026-01",
			PollInterval:   5 * time.Minute,
			Backfill:       time.Hour,
			NotifyCustomer: true,
			RateLimit:      RateLimit{BucketSize: 40, LeakRate: 2},
		}},
		Suppliers: []Supplier{
			with(supplierDefaults, func(s *Supplier) {
				s.ID, s.Kind, s.BaseURL, s.Token, s.WebhookSecret = "acme", KindHTTP, "https://acme.example", "t", "s"
			}),
			with(supplierDefaults, func(s *Supplier) {
				s.ID, s.Kind, s.BaseURL, s.Token, s.WebhookSecret = "pf", KindPrintful, "https://api.printful.com", "t", "s"
				s.Confirm = true
			}),
			with(supplierDefaults, func(s *Supplier) {
				s.ID, s.Kind, s.BaseURL = "cj", KindCJDropshipping, "https://developers.cjdropshipping.com/api2.0/v1"
				s.Email, s.APIKey, s.LogisticName, s.FromCountry = "a@b.example", "k", "CJPacket", "CN"
			}),
		},
		Rules:    Rules{MinMarginPercent: decimal.Zero, RequirePaid: true, HoldRisk: "high"},
		Invoices: Invoices{Series: "INV", CreditNoteSeries: "CN", IssueOn: "fulfilled"},
	}
	compareConfig(t, c, want)
}

// TestMergeKeys checks that YAML merge keys can share settings between shops, with the
// shop's own keys winning and, in a merged list, the earlier mapping winning.
func TestMergeKeys(t *testing.T) {
	src := `
admin: {token: 0123456789abcdef}
shops:
  - &first
    domain: a.myshopify.com
    access_token: a
    webhook_secret: a
    poll_interval: 1m
    notify_customer: false
    rate_limit: {bucket_size: 400, leak_rate: 20}
  - <<: *first
    domain: b.myshopify.com
    access_token: b
    webhook_secret: b
    poll_interval: 2m
  - <<: [{poll_interval: 3m}, *first]
    domain: c.myshopify.com
`
	c, err := Parse([]byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		shop       Shop
		wantPoll   time.Duration
		wantToken  string
		wantBucket int
	}{
		{c.Shops[0], time.Minute, "a", 400},
		{c.Shops[1], 2 * time.Minute, "b", 400},
		{c.Shops[2], 3 * time.Minute, "a", 400},
	}
	for _, tt := range tests {
		s := tt.shop
		if s.PollInterval != tt.wantPoll || s.AccessToken != tt.wantToken || s.RateLimit.BucketSize != tt.wantBucket || s.NotifyCustomer {
			t.Errorf("%s: got poll %v, token %q, bucket %d, notify %v; want %v, %q, %d, false",
				s.Domain, s.PollInterval, s.AccessToken, s.RateLimit.BucketSize, s.NotifyCustomer, tt.wantPoll, tt.wantToken, tt.wantBucket)
		}
	}
}

func TestLoad(t *testing.T) {
	t.Run("missing file", func(t *testing.T) {
		_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("got %v, want a not-exist error", err)
		}
	})
	t.Run("problems are returned as they are", func(t *testing.T) {
		_, err := Load("testdata/broken.yaml", nil)
		if _, ok := err.(*Problems); !ok {
			t.Errorf("got %T (%v), want *Problems", err, err)
		}
	})
	t.Run("invalid YAML names the file and line", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "bad.yaml")
		if err := os.WriteFile(path, []byte("admin:\n  token: abc\n  x: a: b\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path, nil)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "line 3") {
			t.Errorf("got %v, want the path and line 3", err)
		}
	})
}

func TestLookup(t *testing.T) {
	c, err := Load("testdata/full.yaml", env(fullEnv))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		domain  string
		wantOK  bool
		wantTok string
	}{
		{name: "known", domain: "second-store.myshopify.com", wantOK: true, wantTok: "shpat_second"},
		{name: "other case", domain: "Example.MyShopify.com", wantOK: true, wantTok: "shpat_example"},
		{name: "unknown", domain: "other.myshopify.com"},
	}
	for _, tt := range tests {
		t.Run("shop "+tt.name, func(t *testing.T) {
			s, ok := c.Shop(tt.domain)
			if ok != tt.wantOK || s.AccessToken != tt.wantTok {
				t.Errorf("got (%q, %v), want (%q, %v)", s.AccessToken, ok, tt.wantTok, tt.wantOK)
			}
		})
	}
	if s, ok := c.Supplier("cj"); !ok || s.Kind != KindCJDropshipping {
		t.Errorf("Supplier(cj): got (%q, %v), want (%q, true)", s.Kind, ok, KindCJDropshipping)
	}
	if _, ok := c.Supplier("CJ"); ok {
		t.Error("Supplier(CJ): got found, want ids to be exact")
	}
}

func TestSummary(t *testing.T) {
	vars := map[string]string{"REDIS_URL": "rediss://dropsync:hunter2-redis@redis.internal:6380/2"}
	for k, v := range fullEnv {
		vars[k] = v
	}
	c, err := Load("testdata/full.yaml", env(vars))
	if err != nil {
		t.Fatal(err)
	}
	got := c.Summary()
	for _, want := range []string{
		"rediss://dropsync:xxxxx@redis.internal:6380/2",
		"example.myshopify.com", "second-store.myshopify.com", "polling every 1m30s", "polling off",
		"acme  http at https://api.acme.example/v1, webhooks only",
		"cj  cjdropshipping", "testdata/mappings.csv",
		"holds:     margin below 12.5%; risk medium or above; a line quantity above 20; shipping to RU, BY",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q:\n%s", want, got)
		}
	}
	for name, secret := range vars {
		if name != "REDIS_URL" && strings.Contains(got, secret) {
			t.Errorf("summary shows %s:\n%s", name, got)
		}
	}
	if strings.Contains(got, "hunter2") {
		t.Errorf("summary shows the Redis password:\n%s", got)
	}
}
