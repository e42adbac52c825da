package printful

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/connectors/supplier/printful/printfultest"
	"github.com/dropsync/dropsync/connectors/supplier/suppliertest"
)

// TestContract holds the Printful connector to the contract every supplier connector keeps.
func TestContract(t *testing.T) {
	suppliertest.Run(t, suppliertest.Harness{
		Supplier: "pf",
		New: func(t *testing.T, wrap func(string) string) suppliertest.Fixture {
			f := newFake(t, printfultest.Options{})
			cfg := testConfig(wrap(f.URL()))
			cfg.Timeout = time.Second
			bad := testConfig(f.URL())
			bad.Token = "revoked-token"
			return suppliertest.Fixture{
				Connector:    New(cfg, nil, fixedNow, zerolog.Nop()),
				Unauthorized: New(bad, nil, fixedNow, zerolog.Nop()),
				Fake:         contractFake{f},
			}
		},
		// Printful reports availability, not counts.
		Items: []suppliertest.Item{
			{SKU: "4013547121", Available: AvailableOnDemand, UnitCost: "9.95", Currency: "USD"},
			{SKU: "@shopify-40011", Available: AvailableOnDemand, UnitCost: "7.25", Currency: "USD"},
		},
		UnknownSKU:          "4099999999",
		UnsupportedCountry:  "BR",
		UnknownOrderID:      "999999999",
		PlaceRoute:          suppliertest.Route{Method: http.MethodPost, Path: "/orders"},
		PlacedID:            placedID,
		RateLimitDelay:      printfultest.RetryAfterSeconds * time.Second,
		CountsStock:         false,
		CancelsAccepted:     true,
		LooksUpByExternalID: true,
		NamesRefusedSKU:     true,
	})
}

// placedID is the purchase order id a create carries: the order's external_id.
func placedID(r suppliertest.Request) string {
	var body struct {
		ExternalID string `json:"external_id"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return "unreadable body: " + err.Error()
	}
	return body.ExternalID
}

// contractFake gives the contract suite its controls over the Printful fake, whose Ship
// also takes parcels.
type contractFake struct{ *printfultest.Server }

func (f contractFake) Ship(externalID string) error { return f.Server.Ship(externalID) }
