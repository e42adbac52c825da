package http

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/dropsync/dropsync/connectors/supplier/http/suppliertest"
	shared "github.com/dropsync/dropsync/connectors/supplier/suppliertest"
	"github.com/dropsync/dropsync/internal/dropsync"
)

// lastDelivery is the latest webhook delivery the receiver got.
func lastDelivery(t *testing.T, rc *shared.Receiver) shared.Delivery {
	t.Helper()
	ds := rc.Deliveries()
	if len(ds) == 0 {
		t.Fatal("no webhook delivered")
	}
	return ds[len(ds)-1]
}

func TestParseEventFromSupplier(t *testing.T) {
	rc := shared.NewReceiver(t)
	fake := newFake(t, suppliertest.Options{WebhookURL: rc.URL(), WebhookSecret: testSecret})
	s := newSupplier(fake.URL())
	ext := "example.myshopify.com-30-acme"
	placed, err := s.PlaceOrder(context.Background(), order(ext))
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	if err := fake.Ship(ext); err != nil {
		t.Fatalf("ship: %v", err)
	}

	d := lastDelivery(t, rc)
	events, err := s.ParseEvent(d.Header, url.Values{}, d.Body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if len(events) != 1 {
		t.Fatalf("events: got %d, want 1", len(events))
	}
	ev := events[0]
	if want := (dropsync.SupplierOrderRef{ID: placed.ID, ExternalID: ext}); ev.Supplier != "acme" || ev.Ref != want {
		t.Errorf("event: got supplier %q ref %+v, want acme %+v", ev.Supplier, ev.Ref, want)
	}
	if ev.Order == nil || ev.Order.Status != "shipped" || len(ev.Order.Shipments) != 1 {
		t.Fatalf("event order: got %+v, want shipped with one parcel", ev.Order)
	}
	sh := ev.Order.Shipments[0]
	if sh.ID != "SH-1" || sh.TrackingNumber == "" || len(sh.Items) != 2 || !sh.ShippedAt.Equal(shipTime) {
		t.Errorf("event parcel: got %+v", sh)
	}

	// A corrected label reaches dropsync as a new event with the new number.
	if err := fake.SetTracking(ext, "SH-1", "USPS", "9400100000000000000000", ""); err != nil {
		t.Fatalf("set tracking: %v", err)
	}
	d = lastDelivery(t, rc)
	events, err = s.ParseEvent(d.Header, nil, d.Body)
	if err != nil {
		t.Fatalf("parse corrected: %v", err)
	}
	if got := events[0].Order.Shipments[0]; got.Carrier != "USPS" || got.TrackingNumber != "9400100000000000000000" {
		t.Errorf("corrected parcel: got %s %s, want USPS 9400100000000000000000", got.Carrier, got.TrackingNumber)
	}
}

func TestParseEvent(t *testing.T) {
	good := []byte(`{"event":"order.updated","order":{"id":"SO-1001","external_id":"example.myshopify.com-31-acme","status":"in_production","shipments":[]}}`)
	signed := func(body []byte) http.Header {
		return http.Header{SignatureHeader: {Sign(testSecret, body)}}
	}
	tests := []struct {
		name   string
		secret string // the supplier's configured secret; testSecret when empty
		header http.Header
		body   []byte
		code   string
		events int
	}{
		{name: "good signature", header: signed(good), body: good, events: 1},
		{name: "uppercase hex", header: http.Header{SignatureHeader: {"sha256=" + upper(Sign(testSecret, good)[7:])}}, body: good, events: 1},
		{name: "missing signature", header: http.Header{}, body: good, code: dropsync.EUNAUTHORIZED},
		{name: "signed with another secret", header: http.Header{SignatureHeader: {Sign("other", good)}}, body: good, code: dropsync.EUNAUTHORIZED},
		{name: "body changed after signing", header: signed(good), body: append([]byte(" "), good...), code: dropsync.EUNAUTHORIZED},
		{name: "no algorithm", header: http.Header{SignatureHeader: {Sign(testSecret, good)[7:]}}, body: good, code: dropsync.EUNAUTHORIZED},
		{name: "not hex", header: http.Header{SignatureHeader: {"sha256=zz"}}, body: good, code: dropsync.EUNAUTHORIZED},
		{name: "no secret configured", secret: "-", header: signed(good), body: good, code: dropsync.EUNAUTHORIZED},
		{name: "malformed json", header: signed([]byte(`{"event":`)), body: []byte(`{"event":`), code: dropsync.EINVALID},
		{name: "malformed order", header: signed([]byte(`{"event":"order.updated","order":[1]}`)), body: []byte(`{"event":"order.updated","order":[1]}`), code: dropsync.EINVALID},
		{name: "no order", header: signed([]byte(`{"event":"order.updated"}`)), body: []byte(`{"event":"order.updated"}`), code: dropsync.EINVALID},
		{name: "order without ids", header: signed([]byte(`{"event":"order.updated","order":{"status":"shipped"}}`)), body: []byte(`{"event":"order.updated","order":{"status":"shipped"}}`), code: dropsync.EINVALID},
		{name: "unknown event", header: signed([]byte(`{"event":"invoice.created","invoice":{}}`)), body: []byte(`{"event":"invoice.created","invoice":{}}`), events: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSupplier("https://api.acme.example", func(c *Config) {
				switch tt.secret {
				case "-":
					c.WebhookSecret = ""
				case "":
				default:
					c.WebhookSecret = tt.secret
				}
			})
			events, err := s.ParseEvent(tt.header, nil, tt.body)
			if tt.code != "" {
				checkErr(t, err, tt.code, "")
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if len(events) != tt.events {
				t.Errorf("events: got %d, want %d", len(events), tt.events)
			}
		})
	}
}

func TestSignMatchesFake(t *testing.T) {
	body := []byte(`{"event":"order.updated","order":{"id":"SO-1"}}`)
	if got, want := Sign(testSecret, body), suppliertest.Sign(testSecret, body); got != want {
		t.Errorf("Sign: got %q, want %q (the fake's)", got, want)
	}
	if got, want := Sign("key", []byte("The quick brown fox jumps over the lazy dog")),
		"sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"; got != want {
		t.Errorf("Sign of the well-known HMAC-SHA256 vector: got %q, want %q", got, want)
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
