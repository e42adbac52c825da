package cjdropshipping

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/dropsync/dropsync/connectors/supplier/cjdropshipping/cjdropshippingtest"
	"github.com/dropsync/dropsync/connectors/supplier/suppliertest"
	"github.com/dropsync/dropsync/internal/dropsync"
)

// TestEventsFromCJ follows an order through the signed messages the fake posts, parsed by a
// connector of another process that shares only the token store.
func TestEventsFromCJ(t *testing.T) {
	rc := suppliertest.NewReceiver(t)
	fake := newFake(t, cjdropshippingtest.Options{WebhookURL: rc.URL() + "/webhooks/suppliers/cj"})
	store := NewMemoryTokenStore()
	worker := newSupplier(testConfig(fake.BaseURL()), store, fixedNow)
	ext := "example.myshopify.com-20-cj"
	ref := placed(t, worker, ext)
	if err := fake.Ship(ext); err != nil {
		t.Fatalf("ship: %v", err)
	}
	ds := rc.Deliveries()
	if len(ds) != 1 {
		t.Fatalf("deliveries: got %d, want 1", len(ds))
	}
	server := newSupplier(testConfig(fake.BaseURL()), store, fixedNow) // an HTTP-only process
	evs, err := server.ParseEvent(ds[0].Header, ds[0].Query, ds[0].Body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if len(evs) != 1 || evs[0].Order == nil || evs[0].Ref != ref {
		t.Fatalf("events: got %+v, want one about %+v", evs, ref)
	}
	o := evs[0].Order
	if o.Status != string(dropsync.POShipped) || len(o.Shipments) != 1 || o.Shipments[0].Carrier != "CJPacket Ordinary" ||
		o.Shipments[0].TrackingNumber == "" || !o.Shipments[0].ShippedAt.Equal(shipTime) {
		t.Errorf("order: got %+v", o)
	}
	if len(fake.Requests("", "")) != 3 {
		t.Errorf("requests: parsing an event must call CJ for nothing")
	}
}

func TestParseEvent(t *testing.T) {
	const openID = "123456789"
	order := []byte(`{"messageId":"7cceede817dc47ed9748328b64353c5c","type":"ORDER","messageType":"UPDATE","openId":123456789,
		"params":{"orderNumber":"example.myshopify.com-21-cj","cjOrderId":2507110000180001,"orderStatus":"SHIPPED",
		"logisticName":"USPS+","trackNumber":"9400111899223817612345","trackingUrl":"https://t.example/9400",
		"createDate":"2026-11-27 09:00:00","updateDate":"2026-11-28 10:00:00","payDate":"2026-11-27 09:00:01",
		"deliveryDate":"2026-11-28 10:00:00","completeDate":null}}`)
	paid := []byte(`{"messageId":"1","type":"ORDER","params":{"orderNum":"example.myshopify.com-21-cj","cjOrderId":"2507110000180001","orderStatus":"UNSHIPPED","trackNumber":null}}`)
	byID := []byte(`{"messageId":"4","type":"ORDER","params":{"cjOrderId":"2507110000180001","orderStatus":"SHIPPED"}}`)
	logistic := []byte(`{"messageId":"2","type":"LOGISTIC","messageType":"UPDATE","params":{"orderId":"2507110000180001",
		"storeOrderNumbers":["#1001"],"logisticName":"USPS+","trackingNumber":"9400111899223817612345","trackingStatus":1,"logisticsTrackEvents":"[]"}}`)
	stock := []byte(`{"messageId":"3","type":"STOCK","params":{"1392053744945991680":[{"vid":"1392053744945991680","countryCode":"CN","storageNum":4}]}}`)
	signed := func(b []byte) http.Header { return http.Header{SignHeader: {Sign(openID, b)}} }
	token := url.Values{TokenParam: {testSecret}}
	ref := dropsync.SupplierOrderRef{ID: "2507110000180001", ExternalID: "example.myshopify.com-21-cj"}
	shipped := &dropsync.SupplierOrder{ID: "2507110000180001", ExternalID: "example.myshopify.com-21-cj", Status: "shipped",
		Shipments: []dropsync.Shipment{{ID: "9400111899223817612345", Carrier: "USPS+", TrackingNumber: "9400111899223817612345",
			TrackingURL: "https://t.example/9400", ShippedAt: shipTime}}}
	hint := func(ref dropsync.SupplierOrderRef) *dropsync.SupplierEvent {
		return &dropsync.SupplierEvent{Supplier: "cj", Ref: ref}
	}
	tests := []struct {
		name string
		// secret is whether the supplier has a webhook secret configured (testSecret).
		secret bool
		header http.Header
		query  url.Values
		body   []byte
		code   string
		want   *dropsync.SupplierEvent // Order nil: a hint
	}{
		// With a webhook secret: the URL token is required, and then the body is believed.
		{name: "secret: the URL token", secret: true, header: http.Header{}, query: token, body: order,
			want: &dropsync.SupplierEvent{Supplier: "cj", Ref: ref, Order: shipped}},
		{name: "secret: the URL token and the signature", secret: true, header: signed(order), query: token, body: order,
			want: &dropsync.SupplierEvent{Supplier: "cj", Ref: ref, Order: shipped}},
		{name: "secret: older field names", secret: true, header: signed(paid), query: token, body: paid, want: &dropsync.SupplierEvent{
			Supplier: "cj", Ref: ref, Order: &dropsync.SupplierOrder{ID: ref.ID, ExternalID: ref.ExternalID, Status: "in_production"}}},
		{name: "secret: order named by CJ's id only is a hint", secret: true, query: token, body: byID,
			want: hint(dropsync.SupplierOrderRef{ID: ref.ID})},
		{name: "secret: logistic message is a hint", secret: true, query: token, body: logistic,
			want: hint(dropsync.SupplierOrderRef{ID: ref.ID})},
		{name: "secret: stock message", secret: true, query: token, body: stock},
		{name: "secret: the signature alone", secret: true, header: signed(order), body: order, code: dropsync.EUNAUTHORIZED},
		{name: "secret: the signature and a wrong token", secret: true, header: signed(order), query: url.Values{TokenParam: {"guess"}},
			body: order, code: dropsync.EUNAUTHORIZED},
		{name: "secret: wrong URL token", secret: true, header: http.Header{}, query: url.Values{TokenParam: {"guess"}}, body: order, code: dropsync.EUNAUTHORIZED},
		{name: "secret: nothing", secret: true, header: http.Header{}, body: order, code: dropsync.EUNAUTHORIZED},
		{name: "secret: malformed", secret: true, query: token, body: []byte(`{"type":`), code: dropsync.EINVALID},
		{name: "secret: order naming no order", secret: true, query: token,
			body: []byte(`{"type":"ORDER","params":{"orderStatus":"SHIPPED"}}`), code: dropsync.EINVALID},

		// Without one: the signature is accepted, and every message is a hint.
		{name: "no secret: signed order message is a hint", header: signed(order), body: order, want: hint(ref)},
		{name: "no secret: signed older field names are a hint", header: signed(paid), body: paid, want: hint(ref)},
		{name: "no secret: signed logistic message is a hint", header: signed(logistic), body: logistic,
			want: hint(dropsync.SupplierOrderRef{ID: ref.ID})},
		{name: "no secret: signed stock message", header: signed(stock), body: stock},
		{name: "no secret: a URL token proves nothing", header: http.Header{}, query: token, body: order, code: dropsync.EUNAUTHORIZED},
		{name: "no secret: signed with another openId", header: http.Header{SignHeader: {Sign("987654321", order)}}, body: order, code: dropsync.EUNAUTHORIZED},
		{name: "no secret: body changed after signing", header: signed(order), body: append([]byte(" "), order...), code: dropsync.EUNAUTHORIZED},
		{name: "no secret: signature not base64", header: http.Header{SignHeader: {"%%%"}}, body: order, code: dropsync.EUNAUTHORIZED},
		{name: "no secret: nothing", header: http.Header{}, body: order, code: dropsync.EUNAUTHORIZED},
		{name: "no secret: malformed", header: signed([]byte(`{"type":`)), body: []byte(`{"type":`), code: dropsync.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := NewMemoryTokenStore()
			_ = store.Save(context.Background(), Token{OpenID: openID, AccessToken: "a1"})
			cfg := testConfig("https://cj.example")
			if !tt.secret {
				cfg.WebhookSecret = ""
			}
			s := newSupplier(cfg, store, fixedNow)
			evs, err := s.ParseEvent(tt.header, tt.query, tt.body)
			if tt.code != "" {
				checkErr(t, err, tt.code, "")
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if tt.want == nil {
				if len(evs) != 0 {
					t.Errorf("events: got %+v, want none", evs)
				}
				return
			}
			if len(evs) != 1 {
				t.Fatalf("events: got %+v, want one", evs)
			}
			got := evs[0]
			if got.Supplier != tt.want.Supplier || got.Ref != tt.want.Ref {
				t.Fatalf("event: got %+v, want %+v", got, tt.want)
			}
			if tt.want.Order == nil {
				if got.Order != nil {
					t.Errorf("event order: got %+v, want none (a hint the pipeline reads the order for)", got.Order)
				}
				return
			}
			if got.Order == nil {
				t.Fatalf("event order: got none, want %+v", tt.want.Order)
			}
			g, w := *got.Order, *tt.want.Order
			if g.ID != w.ID || g.ExternalID != w.ExternalID || g.Status != w.Status || len(g.Shipments) != len(w.Shipments) {
				t.Fatalf("order: got %+v, want %+v", g, w)
			}
			for i := range w.Shipments {
				gs, ws := g.Shipments[i], w.Shipments[i]
				if gs.ID != ws.ID || gs.Carrier != ws.Carrier || gs.TrackingNumber != ws.TrackingNumber || gs.TrackingURL != ws.TrackingURL ||
					!gs.ShippedAt.Equal(ws.ShippedAt) || gs.ShippedAt.Location().String() != "UTC" || len(gs.Items) != 0 {
					t.Errorf("parcel: got %+v, want %+v", g.Shipments[i], w.Shipments[i])
				}
			}
		})
	}
}

// TestEventsWithoutSecretAreHints: without a webhook secret, CJ's signed message only names
// the order, and reading it through the API gives its state.
func TestEventsWithoutSecretAreHints(t *testing.T) {
	fake := newFake(t, cjdropshippingtest.Options{})
	cfg := testConfig(fake.BaseURL())
	cfg.WebhookSecret = ""
	s := newSupplier(cfg, NewMemoryTokenStore(), fixedNow)
	ext := "example.myshopify.com-23-cj"
	ref := placed(t, s, ext)
	if err := fake.Ship(ext); err != nil {
		t.Fatalf("ship: %v", err)
	}
	d, err := fake.Event(ext)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := s.ParseEvent(d.Header, url.Values{}, d.Body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if len(evs) != 1 || evs[0].Order != nil || evs[0].Ref != ref {
		t.Fatalf("events: got %+v, want one hint naming %+v", evs, ref)
	}
	got, err := s.GetOrder(context.Background(), evs[0].Ref)
	if err != nil || got.Status != string(dropsync.POShipped) || len(got.Shipments) != 1 {
		t.Errorf("order read for the hint: got %+v, %v, want it shipped with its parcel", got, err)
	}
}

func TestSignMatchesFake(t *testing.T) {
	body := []byte(`{"type":"ORDER"}`)
	if got, want := Sign("123456789", body), cjdropshippingtest.Sign("123456789", body); got != want {
		t.Errorf("Sign: got %q, want %q (the fake's)", got, want)
	}
	// The well-known HMAC-SHA256 test vector, Base64.
	if got, want := Sign("key", []byte("The quick brown fox jumps over the lazy dog")), "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="; got != want {
		t.Errorf("Sign of the HMAC-SHA256 vector: got %q, want %q", got, want)
	}
}
