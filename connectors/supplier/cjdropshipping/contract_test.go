package cjdropshipping

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/dropsync/dropsync/connectors/supplier/cjdropshipping/cjdropshippingtest"
	"github.com/dropsync/dropsync/connectors/supplier/suppliertest"
)

// TestContract holds the CJ connector to the contract every supplier connector keeps.
func TestContract(t *testing.T) {
	suppliertest.Run(t, suppliertest.Harness{
		Supplier: "cj",
		New: func(t *testing.T, wrap func(string) string) suppliertest.Fixture {
			f := newFake(t, cjdropshippingtest.Options{})
			cfg := testConfig(wrap(f.BaseURL()))
			cfg.Timeout = time.Second
			bad := testConfig(f.BaseURL())
			bad.APIKey = "CJ4711@api@revoked"
			return suppliertest.Fixture{
				Connector:    newSupplier(cfg, NewMemoryTokenStore(), fixedNow),
				Unauthorized: newSupplier(bad, NewMemoryTokenStore(), fixedNow),
				// The purchase order id is the order number, as long as it fits CJ's 50
				// characters (the suite's do).
				Fake: f,
			}
		},
		Items: []suppliertest.Item{
			{SKU: vidTowel, Available: 10, UnitCost: "4.20", Currency: "USD"},
			{SKU: vidMug, Available: 5, UnitCost: "3.10", Currency: "USD"},
		},
		UnknownSKU:          vidUnknown,
		UnsupportedCountry:  "BR",
		UnknownOrderID:      "2507119999999999",
		PlaceRoute:          suppliertest.Route{Method: http.MethodPost, Path: cjdropshippingtest.Prefix + cjdropshippingtest.PlacePath},
		PlacedID:            placedID,
		RateLimitDelay:      cjdropshippingtest.RetryAfterSeconds * time.Second,
		CountsStock:         true,
		CancelsAccepted:     false, // CJ deletes only unpaid orders, and dropsync's are paid
		LooksUpByExternalID: true,
		NamesRefusedSKU:     true,
	})
}

// placedID is the purchase order id a create carries: the order number, which is the id
// itself for the suite's ids (they fit CJ's 50 characters).
func placedID(r suppliertest.Request) string {
	var body struct {
		OrderNumber string `json:"orderNumber"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return "unreadable body: " + err.Error()
	}
	return body.OrderNumber
}
