package printful

import (
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/connectors/supplier/printful/printfultest"
	"github.com/dropsync/dropsync/connectors/supplier/suppliertest"
	"github.com/dropsync/dropsync/internal/dropsync"
)

const (
	testToken  = "pf-private-token"
	testSecret = "pf-webhook-secret"
)

var shipTime = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return shipTime }

// variants are the merchant's store variants in the fake: a tea towel and a mug by sync
// variant id, a poster by external variant id.
func variants() []printfultest.Variant {
	return []printfultest.Variant{
		{SyncVariantID: 4013547121, CatalogVariantID: 4011, Name: "Tea towel / Linen", Price: "9.95", InStock: true},
		{SyncVariantID: 4013547122, ExternalID: "shopify-40011", CatalogVariantID: 1320, Name: "Mug / Black 11oz", Price: "7.25", InStock: true},
		{SyncVariantID: 4013547123, ExternalID: "poster-a3", CatalogVariantID: 6239, Name: "Poster / A3", Price: "12.50", InStock: true},
	}
}

func newFake(t *testing.T, opts printfultest.Options) *printfultest.Server {
	t.Helper()
	if opts.Token == "" {
		opts.Token = testToken
	}
	if opts.Variants == nil {
		opts.Variants = variants()
	}
	if opts.Countries == nil {
		opts.Countries = []string{"US", "CA", "GB", "DE", "PL"}
	}
	if opts.WebhookSecret == "" {
		opts.WebhookSecret = testSecret
	}
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	f := printfultest.NewServer(opts)
	t.Cleanup(f.Close)
	return f
}

func testConfig(baseURL string) Config {
	return Config{ID: "pf", BaseURL: baseURL, Token: testToken, WebhookSecret: testSecret, Confirm: true}
}

// order is a purchase order for the fake's variants. Its customer data is what error
// messages must never repeat.
func order(externalID string) dropsync.SupplierOrderRequest {
	return suppliertest.Order(externalID,
		dropsync.SupplierItem{SKU: "4013547121", Quantity: 2, UnitCost: decimal.RequireFromString("9.95"), Title: "Tea towel"},
		dropsync.SupplierItem{SKU: "@shopify-40011", Quantity: 1, UnitCost: decimal.RequireFromString("7.25"), Title: "Mug"})
}

// checkErr fails unless err has the code (and reason, when wanted), names the supplier and
// carries no customer data.
func checkErr(t *testing.T, err error, code, reason string) {
	t.Helper()
	suppliertest.CheckError(t, err, "pf", code, reason)
}
