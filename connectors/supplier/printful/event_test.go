package printful

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/connectors/supplier/printful/printfultest"
	"github.com/dropsync/dropsync/connectors/supplier/suppliertest"
	"github.com/dropsync/dropsync/internal/dropsync"
)

// TestEventsFromPrintful follows an order through the events the fake posts to a webhook URL
// carrying the token, as registered with Printful.
func TestEventsFromPrintful(t *testing.T) {
	rc := suppliertest.NewReceiver(t)
	fake := newFake(t, printfultest.Options{WebhookURL: rc.URL() + "/webhooks/suppliers/pf"})
	s := New(testConfig(fake.URL()), nil, fixedNow, zerolog.Nop())
	ext := "example.myshopify.com-30-pf"
	placed, err := s.PlaceOrder(context.Background(), order(ext))
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	if err := fake.SetStatus(ext, printfultest.StatusInProcess, ""); err != nil {
		t.Fatal(err)
	}
	if err := fake.Ship(ext,
		printfultest.Parcel{Items: []printfultest.ItemQty{{SKU: "4013547121", Quantity: 2}}},
		printfultest.Parcel{Items: []printfultest.ItemQty{{SKU: "@shopify-40011", Quantity: 1}}}); err != nil {
		t.Fatalf("ship: %v", err)
	}
	ds := rc.Deliveries()
	if len(ds) != 3 {
		t.Fatalf("deliveries: got %d, want 3 (order_updated, 2 × package_shipped)", len(ds))
	}
	wantStatus := []string{"in_production", "shipped", "shipped"}
	for i, d := range ds {
		evs, err := s.ParseEvent(d.Header, d.Query, d.Body)
		if err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
		if len(evs) != 1 || evs[0].Order == nil {
			t.Fatalf("delivery %d: got %+v, want one event with the order", i, evs)
		}
		ev := evs[0]
		if ev.Supplier != "pf" || ev.Ref != (dropsync.SupplierOrderRef{ID: placed.ID, ExternalID: ext}) {
			t.Errorf("delivery %d ref: got %s %+v", i, ev.Supplier, ev.Ref)
		}
		if ev.Order.Status != wantStatus[i] {
			t.Errorf("delivery %d status: got %q, want %q", i, ev.Order.Status, wantStatus[i])
		}
	}
}

func TestParseEvent(t *testing.T) {
	shipped := `{"type":"package_shipped","created":1795860000,"retries":0,"store":7531,"data":{
		"shipment":{"id":55,"carrier":"USPS","service":"USPS First Class","tracking_number":"9400111899223817612345","tracking_url":"https://t.example/9400","shipped_at":1795860000,"items":[{"item_id":1,"quantity":2}]},
		"order":{"id":121000001,"external_id":"example.myshopify.com-31-pf","status":"fulfilled","items":[{"id":1,"external_id":"4013547121","sync_variant_id":4013547121,"quantity":2}],"shipments":[]}}}`
	canceled := `{"type":"order_canceled","store":7531,"data":{"reason":"Canceled by the merchant","order":{"id":121000001,"external_id":"example.myshopify.com-31-pf","status":"canceled","shipments":[]}}}`
	hold := `{"type":"order_put_hold","store":7531,"data":{"reason":"Print file issue","order":{"id":121000001,"external_id":"example.myshopify.com-31-pf","status":"onhold","shipments":[]}}}`
	failed := `{"type":"order_failed","store":7531,"data":{"reason":"Card declined","order":{"id":121000001,"external_id":"example.myshopify.com-31-pf","status":"failed"}}}`
	token := url.Values{TokenParam: {testSecret}}
	tests := []struct {
		name    string
		secret  string // the configured secret; testSecret when empty, none when "-"
		storeID string
		query   url.Values
		body    string
		code    string
		status  string // of the one event's order; "" for no event
		parcels int
	}{
		{name: "package shipped", query: token, body: shipped, status: "shipped", parcels: 1},
		{name: "order canceled", query: token, body: canceled, status: "cancelled"},
		{name: "order put on hold", query: token, body: hold, status: "accepted"},
		{name: "order failed", query: token, body: failed, status: "failed"},
		{name: "our store", storeID: "7531", query: token, body: canceled, status: "cancelled"},
		{name: "another store of the account", storeID: "9999", query: token, body: canceled},
		{name: "product event", query: token, body: `{"type":"product_updated","data":{"sync_product":{"id":1}}}`},
		{name: "no token", query: url.Values{}, body: shipped, code: dropsync.EUNAUTHORIZED},
		{name: "wrong token", query: url.Values{TokenParam: {"guess"}}, body: shipped, code: dropsync.EUNAUTHORIZED},
		{name: "token of another length", query: url.Values{TokenParam: {testSecret + "x"}}, body: shipped, code: dropsync.EUNAUTHORIZED},
		{name: "no secret configured", secret: "-", query: url.Values{TokenParam: {""}}, body: shipped, code: dropsync.EUNAUTHORIZED},
		{name: "malformed body", query: token, body: `{"type":`, code: dropsync.EINVALID},
		{name: "order event without order", query: token, body: `{"type":"order_failed","data":{"reason":"x"}}`, code: dropsync.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("https://api.printful.com")
			cfg.StoreID = tt.storeID
			switch tt.secret {
			case "-":
				cfg.WebhookSecret = ""
			case "":
			default:
				cfg.WebhookSecret = tt.secret
			}
			s := New(cfg, nil, fixedNow, zerolog.Nop())
			evs, err := s.ParseEvent(http.Header{}, tt.query, []byte(tt.body))
			if tt.code != "" {
				checkErr(t, err, tt.code, "")
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if tt.status == "" {
				if len(evs) != 0 {
					t.Errorf("events: got %+v, want none", evs)
				}
				return
			}
			if len(evs) != 1 || evs[0].Order == nil {
				t.Fatalf("events: got %+v, want one with its order", evs)
			}
			o := evs[0].Order
			if o.ID != "121000001" || o.ExternalID != "example.myshopify.com-31-pf" || o.Status != tt.status || len(o.Shipments) != tt.parcels {
				t.Errorf("order: got %+v, want status %s with %d parcels", o, tt.status, tt.parcels)
			}
			if tt.parcels > 0 {
				sh := o.Shipments[0]
				if sh.ID != "55" || sh.TrackingNumber != "9400111899223817612345" || sh.ShippedAt.Unix() != 1795860000 ||
					len(sh.Items) != 1 || sh.Items[0] != (dropsync.ShipmentItem{SKU: "4013547121", Quantity: 2}) {
					t.Errorf("parcel: got %+v", sh)
				}
			}
		})
	}
}
