package cjdropshipping

import (
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/connectors/supplier/cjdropshipping/cjdropshippingtest"
	"github.com/dropsync/dropsync/connectors/supplier/suppliertest"
	"github.com/dropsync/dropsync/internal/dropsync"
)

const (
	testKey    = "CJ4711@api@5c0ffee5c0ffee5c0ffee5c0ffee5c0f"
	testSecret = "cj-webhook-secret"
	vidTowel   = "92511400-C758-4474-93CA-66D442F5F787"
	vidMug     = "1392053744945991680"
	vidCoaster = "D4057F56-3F09-4541-8461-9D76D014846D"
	vidUnknown = "00000000-0000-0000-0000-000000000000"
)

var shipTime = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// newClock is a settable clock for a test's fake and connector to share.
func newClock() *suppliertest.Clock { return suppliertest.NewClock(shipTime) }

func variants() []cjdropshippingtest.Variant {
	return []cjdropshippingtest.Variant{
		{VID: vidTowel, SKU: "CJJJJTJT05843-Linen", ProductID: "P-TOWEL", Name: "Linen tea towel", Price: "4.20", Stock: 10},
		{VID: vidMug, SKU: "CJJSBGDY00002-Black", ProductID: "P-MUG", Name: "Mug black", Price: "3.10", Stock: 5},
		{VID: vidCoaster, SKU: "CJJSBGDY00003-Oak", ProductID: "P-MUG", Name: "Coaster oak", Price: "1.05", Stock: 8},
	}
}

func newFake(t *testing.T, opts cjdropshippingtest.Options) *cjdropshippingtest.Server {
	t.Helper()
	if opts.APIKey == "" {
		opts.APIKey = testKey
	}
	if opts.Variants == nil {
		opts.Variants = variants()
	}
	if opts.Logistics == nil {
		opts.Logistics = []string{"CJPacket Ordinary", "USPS+"}
	}
	if opts.Countries == nil {
		opts.Countries = []string{"US", "CA", "GB", "DE", "PL"}
	}
	if opts.WebhookSecret == "" {
		opts.WebhookSecret = testSecret // as testConfig has it
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return shipTime }
	}
	f := cjdropshippingtest.NewServer(opts)
	t.Cleanup(f.Close)
	return f
}

func testConfig(baseURL string) Config {
	return Config{ID: "cj", BaseURL: baseURL, Email: "merchant@example.com", APIKey: testKey,
		WebhookSecret: testSecret, LogisticName: "CJPacket Ordinary", FromCountry: "CN"}
}

// newSupplier returns a connector on the fake, unpaced (tests pace on purpose only) and on
// the given clock.
func newSupplier(cfg Config, store TokenStore, now func() time.Time) *Supplier {
	s := New(cfg, nil, store, now, zerolog.Nop())
	s.interval = 0
	return s
}

func fixedNow() time.Time { return shipTime }

// order is a purchase order for the fake's variants. Its customer data is what error
// messages must never repeat.
func order(externalID string) dropsync.SupplierOrderRequest {
	return suppliertest.Order(externalID,
		dropsync.SupplierItem{SKU: vidTowel, Quantity: 2, UnitCost: decimal.RequireFromString("4.20"), Title: "Tea towel"},
		dropsync.SupplierItem{SKU: vidMug, Quantity: 1, UnitCost: decimal.RequireFromString("3.10"), Title: "Mug"})
}

// checkErr fails unless err has the code (and reason, when wanted), names the supplier and
// carries no customer data.
func checkErr(t *testing.T, err error, code, reason string) {
	t.Helper()
	suppliertest.CheckError(t, err, "cj", code, reason)
}
