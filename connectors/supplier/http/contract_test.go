package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/rs/zerolog"

	fake "github.com/dropsync/dropsync/connectors/supplier/http/suppliertest"
	"github.com/dropsync/dropsync/connectors/supplier/suppliertest"
)

// TestContract holds the http connector to the contract every supplier connector keeps.
func TestContract(t *testing.T) {
	items := []suppliertest.Item{
		{SKU: "ACME-TS-R-M", Available: 10, UnitCost: "4.20", Currency: "USD"},
		{SKU: "ACME-MUG-BLK", Available: 5, UnitCost: "3.10", Currency: "USD"},
	}
	suppliertest.Run(t, suppliertest.Harness{
		Supplier: "acme",
		New: func(t *testing.T, wrap func(string) string) suppliertest.Fixture {
			catalog := map[string]fake.Item{}
			for _, it := range items {
				catalog[it.SKU] = fake.Item{Available: it.Available, UnitCost: it.UnitCost, Currency: it.Currency}
			}
			f := newFake(t, fake.Options{Catalog: catalog, Countries: []string{"US", "CA", "PL"}})
			cfg := Config{ID: "acme", BaseURL: wrap(f.URL()), Token: testToken, WebhookSecret: testSecret, Timeout: time.Second}
			bad := cfg
			bad.BaseURL, bad.Token = f.URL(), "stale-token"
			return suppliertest.Fixture{
				Connector:    New(cfg, nil, zerolog.Nop()),
				Unauthorized: New(bad, nil, zerolog.Nop()),
				Fake:         contractFake{f},
			}
		},
		Items:              items,
		UnknownSKU:         "ACME-NOPE",
		UnsupportedCountry: "BR",
		UnknownOrderID:     "SO-9999",
		PlaceRoute:         suppliertest.Route{Method: http.MethodPost, Path: "/orders"},
		PlacedID:           placedID,
		RateLimitDelay:     fake.RetryAfterSeconds * time.Second,
		CountsStock:        true,
		CancelsAccepted:    true,
		NamesRefusedSKU:    true,
	})
}

// placedID is the purchase order id a create carries: its external_id, which the
// Idempotency-Key header must repeat.
func placedID(r suppliertest.Request) string {
	var body struct {
		ExternalID string `json:"external_id"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		return "unreadable body: " + err.Error()
	}
	if key := r.Header.Get("Idempotency-Key"); key != body.ExternalID {
		return fmt.Sprintf("%s with Idempotency-Key %q", body.ExternalID, key)
	}
	return body.ExternalID
}

// contractFake gives the contract suite its controls over the http fake.
type contractFake struct{ *fake.Server }

func (f contractFake) Ship(externalID string) error { return f.Server.Ship(externalID) }

// Event is the signed order.updated delivery the fake posts after a change.
func (f contractFake) Event(externalID string) (suppliertest.Delivery, error) {
	o, ok := f.Order(externalID)
	if !ok {
		return suppliertest.Delivery{}, fmt.Errorf("event: no order %s", externalID)
	}
	body, err := json.Marshal(map[string]any{"event": EventOrderUpdated, "order": o})
	if err != nil {
		return suppliertest.Delivery{}, err
	}
	h := http.Header{"Content-Type": {"application/json"}, SignatureHeader: {fake.Sign(testSecret, body)}}
	return suppliertest.Delivery{Header: h, Query: url.Values{}, Body: body}, nil
}
