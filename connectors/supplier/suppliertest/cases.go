package suppliertest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// session is one case's fixture and the proxy in front of its fake.
type session struct {
	h     Harness
	fx    Fixture
	proxy *Proxy
}

// orderSeq keeps purchase order ids of parallel cases apart.
var orderSeq atomic.Int64

func newSession(t *testing.T, h Harness) *session {
	t.Helper()
	s := &session{h: h}
	wrap := func(base string) string {
		u, err := url.Parse(base)
		if err != nil || u.Host == "" {
			t.Fatalf("suppliertest: wrap(%q): not a URL", base)
		}
		s.proxy = NewProxy(t, u.Scheme+"://"+u.Host)
		out := s.proxy.URL() + u.EscapedPath()
		if u.RawQuery != "" {
			out += "?" + u.RawQuery
		}
		return out
	}
	s.fx = h.New(t, wrap)
	if s.fx.Connector == nil || s.fx.Fake == nil {
		t.Fatal("suppliertest: the harness returned no connector or fake")
	}
	if s.proxy == nil {
		t.Fatal("suppliertest: the harness did not wire the connector through wrap")
	}
	return s
}

// externalID returns a fresh purchase order id of the harness's supplier.
func (s *session) externalID() string {
	return dropsync.POID("example.myshopify.com", 450789000+orderSeq.Add(1), s.h.Supplier)
}

// request is a purchase order of two of the fake's SKUs to a deliverable US address.
func (s *session) request(externalID string) dropsync.SupplierOrderRequest {
	a, b := s.h.Items[0], s.h.Items[1]
	return dropsync.SupplierOrderRequest{
		ExternalID: externalID,
		OrderName:  "#1001",
		Currency:   a.Currency,
		ShippingAddress: dropsync.Address{
			FirstName: "Steve", LastName: "Shipper", Name: "Steve Shipper",
			Address1: "123 Shipping Street", City: "Shippington", Province: "Kentucky",
			ProvinceCode: "KY", Zip: "40003", Country: "United States", CountryCode: "US",
			Phone: "555-555-0100",
		},
		Email: "steve@example.com",
		Items: []dropsync.SupplierItem{
			{SKU: a.SKU, Quantity: 2, UnitCost: decimal.RequireFromString(a.UnitCost), Title: "Tea towel"},
			{SKU: b.SKU, Quantity: 1, UnitCost: decimal.RequireFromString(b.UnitCost), Title: "Mug"},
		},
	}
}

// checkCreates fails unless the fake received between least and most create requests, each
// carrying the purchase order id ext; most < 0 means any number.
func (s *session) checkCreates(t *testing.T, ext string, least, most int) {
	t.Helper()
	reqs := s.fx.Fake.PlaceRequests()
	if n := len(reqs); n < least || most >= 0 && n > most {
		t.Errorf("create requests: got %d, want %d to %d", n, least, most)
	}
	for i, r := range reqs {
		if got := s.h.PlacedID(r); got != ext {
			t.Errorf("create request %d carries purchase order id %q, want %q", i, got, ext)
		}
	}
}

// retryCreates is the most create requests a placement and its retry may send: one for a
// connector that looks the order up before creating it, two for one that relies on the
// supplier's idempotency.
func (s *session) retryCreates() int {
	if s.h.LooksUpByExternalID {
		return 1
	}
	return 2
}

func (s *session) place(t *testing.T, ext string) dropsync.SupplierOrder {
	t.Helper()
	so, err := s.fx.Connector.PlaceOrder(context.Background(), s.request(ext))
	if err != nil {
		t.Fatalf("place %s: %v", ext, err)
	}
	return so
}

// checkErr fails unless err has the code (and reason, when one is wanted), names the
// supplier and repeats no customer data.
func (s *session) checkErr(t *testing.T, err error, code, reason string) {
	t.Helper()
	CheckError(t, err, s.h.Supplier, code, reason)
}

// checkOrder fails unless the order is the purchase order's, with a supplier id.
func checkOrder(t *testing.T, so dropsync.SupplierOrder, ext string) {
	t.Helper()
	if so.ID == "" {
		t.Errorf("order: got no supplier id in %+v", so)
	}
	if so.ExternalID != ext {
		t.Errorf("order external id: got %q, want the purchase order id %q", so.ExternalID, ext)
	}
	for _, sh := range so.Shipments {
		if sh.ShippedAt.IsZero() || sh.ShippedAt.Location().String() != "UTC" {
			t.Errorf("parcel %s shipped_at: got %v, want a UTC time", sh.ID, sh.ShippedAt)
		}
	}
}

var openStatuses = []string{string(dropsync.POAccepted), string(dropsync.POInProduction)}

type contractCase struct {
	name string
	run  func(t *testing.T, s *session)
}

var cases = []contractCase{
	{"place is idempotent on the purchase order id", placeIdempotent},
	{"read status and parcels", readParcels},
	{"unknown order is not found", unknownOrder},
	{"cancel before shipping", cancelOpen},
	{"cancel after shipping is refused as already shipped", cancelShipped},
	{"stock and cost", stockAndCost},
	{"events are authenticated and parsed", events},
	{"refusals are permanent", refusals},
	{"outages are transient", outages},
	{"rate limit returns the delay", rateLimited},
	{"wrong credentials are unauthorized", unauthorized},
	{"lost reply after accepting does not create a second order", lostReply},
	{"error after accepting does not create a second order", acceptThenFail},
	{"two workers placing one order at once get one order", concurrentPlace},
}

func placeIdempotent(t *testing.T, s *session) {
	ext := s.externalID()
	first := s.place(t, ext)
	checkOrder(t, first, ext)
	if !slices.Contains(openStatuses, first.Status) {
		t.Errorf("status: got %q, want one of %q", first.Status, openStatuses)
	}
	// A retry after a lost reply may carry a different body; the first order stands.
	again := s.request(ext)
	again.Items = again.Items[:1]
	second, err := s.fx.Connector.PlaceOrder(context.Background(), again)
	if err != nil {
		t.Fatalf("place again: %v", err)
	}
	if second.ID != first.ID || second.ExternalID != ext {
		t.Errorf("place again: got %s/%s, want %s/%s", second.ID, second.ExternalID, first.ID, ext)
	}
	if got, want := s.fx.Fake.Created(), 1; got != want {
		t.Errorf("orders created: got %d, want %d", got, want)
	}
	s.checkCreates(t, ext, 1, s.retryCreates())
}

func readParcels(t *testing.T, s *session) {
	ctx := context.Background()
	ext := s.externalID()
	placed := s.place(t, ext)
	ref := dropsync.SupplierOrderRef{ID: placed.ID, ExternalID: ext}

	got, err := s.fx.Connector.GetOrder(ctx, ref)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	checkOrder(t, got, ext)
	if got.ID != placed.ID || !slices.Contains(openStatuses, got.Status) || len(got.Shipments) != 0 {
		t.Errorf("get before shipping: got %+v, want %s open with no parcels", got, placed.ID)
	}

	if err := s.fx.Fake.Ship(ext); err != nil {
		t.Fatalf("ship: %v", err)
	}
	got, err = s.fx.Connector.GetOrder(ctx, ref)
	if err != nil {
		t.Fatalf("get after shipping: %v", err)
	}
	checkOrder(t, got, ext)
	if got.Status != string(dropsync.POShipped) {
		t.Errorf("status after shipping: got %q, want %q", got.Status, dropsync.POShipped)
	}
	if len(got.Shipments) != 1 {
		t.Fatalf("parcels: got %+v, want one", got.Shipments)
	}
	sh := got.Shipments[0]
	if sh.ID == "" || sh.Carrier == "" || sh.TrackingNumber == "" {
		t.Errorf("parcel: got %+v, want an id, a carrier and a tracking number", sh)
	}
	// A parcel either names what it holds or holds everything left, which is all of it here.
	for _, it := range sh.Items {
		if !slices.ContainsFunc(s.h.Items[:2], func(i Item) bool { return i.SKU == it.SKU }) {
			t.Errorf("parcel item %+v is not in the order", it)
		}
	}

	if s.h.LooksUpByExternalID {
		byExt, err := s.fx.Connector.GetOrder(ctx, dropsync.SupplierOrderRef{ExternalID: ext})
		if err != nil {
			t.Fatalf("get by purchase order id: %v", err)
		}
		if byExt.ID != placed.ID || byExt.ExternalID != ext {
			t.Errorf("get by purchase order id: got %s/%s, want %s/%s", byExt.ID, byExt.ExternalID, placed.ID, ext)
		}
	}
}

func unknownOrder(t *testing.T, s *session) {
	ctx := context.Background()
	ref := dropsync.SupplierOrderRef{ID: s.h.UnknownOrderID, ExternalID: s.externalID()}
	_, err := s.fx.Connector.GetOrder(ctx, ref)
	s.checkErr(t, err, dropsync.ENOTFOUND, "")
	_, err = s.fx.Connector.CancelOrder(ctx, ref)
	s.checkErr(t, err, dropsync.ENOTFOUND, "")
	if s.h.LooksUpByExternalID {
		_, err = s.fx.Connector.GetOrder(ctx, dropsync.SupplierOrderRef{ExternalID: ref.ExternalID})
		s.checkErr(t, err, dropsync.ENOTFOUND, "")
	}
	if got := s.fx.Fake.Created(); got != 0 {
		t.Errorf("orders created: got %d, want 0", got)
	}
}

func cancelOpen(t *testing.T, s *session) {
	ctx := context.Background()
	ext := s.externalID()
	placed := s.place(t, ext)
	ref := dropsync.SupplierOrderRef{ID: placed.ID, ExternalID: ext}
	if !s.h.CancelsAccepted {
		_, err := s.fx.Connector.CancelOrder(ctx, ref)
		s.checkErr(t, err, dropsync.ECONFLICT, "")
		if dropsync.IsRetryable(err) {
			t.Errorf("IsRetryable: got true for %v, want false", err)
		}
		got, err := s.fx.Connector.GetOrder(ctx, ref)
		if err != nil {
			t.Fatalf("get after refused cancel: %v", err)
		}
		if got.Status == string(dropsync.POCancelled) {
			t.Errorf("status after refused cancel: got %q", got.Status)
		}
		return
	}
	for _, round := range []string{"cancel", "cancel again"} {
		got, err := s.fx.Connector.CancelOrder(ctx, ref)
		if err != nil {
			t.Fatalf("%s: %v", round, err)
		}
		if got.ID != placed.ID || got.Status != string(dropsync.POCancelled) {
			t.Errorf("%s: got %s %s, want %s cancelled", round, got.ID, got.Status, placed.ID)
		}
	}
	got, err := s.fx.Connector.GetOrder(ctx, ref)
	if err != nil {
		t.Fatalf("get after cancel: %v", err)
	}
	if got.Status != string(dropsync.POCancelled) {
		t.Errorf("status after cancel: got %q, want %q", got.Status, dropsync.POCancelled)
	}
}

func cancelShipped(t *testing.T, s *session) {
	ext := s.externalID()
	placed := s.place(t, ext)
	if err := s.fx.Fake.Ship(ext); err != nil {
		t.Fatalf("ship: %v", err)
	}
	_, err := s.fx.Connector.CancelOrder(context.Background(), dropsync.SupplierOrderRef{ID: placed.ID, ExternalID: ext})
	s.checkErr(t, err, dropsync.ECONFLICT, dropsync.ReasonAlreadyShipped)
}

func stockAndCost(t *testing.T, s *session) {
	ctx := context.Background()
	skus := []string{s.h.Items[0].SKU, s.h.UnknownSKU, s.h.Items[1].SKU, s.h.Items[0].SKU}
	got, err := s.fx.Connector.Inventory(ctx, skus)
	if err != nil {
		t.Fatalf("inventory: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("inventory: got %+v, want the two known SKUs once each", got)
	}
	for i, want := range s.h.Items[:2] {
		st := got[i]
		if st.SKU != want.SKU {
			t.Errorf("inventory[%d] sku: got %q, want %q", i, st.SKU, want.SKU)
		}
		if s.h.CountsStock && st.Available != want.Available || !s.h.CountsStock && st.Available <= 0 {
			t.Errorf("inventory[%d] available: got %d, want %d (counts: %v)", i, st.Available, want.Available, s.h.CountsStock)
		}
		if !st.UnitCost.Amount.Equal(decimal.RequireFromString(want.UnitCost)) || st.UnitCost.Currency != want.Currency {
			t.Errorf("inventory[%d] cost: got %s, want %s %s", i, st.UnitCost, want.UnitCost, want.Currency)
		}
	}

	s.fx.Fake.SetStock(s.h.Items[1].SKU, 0)
	got, err = s.fx.Connector.Inventory(ctx, []string{s.h.Items[1].SKU})
	if err != nil {
		t.Fatalf("inventory after selling out: %v", err)
	}
	if len(got) != 1 || got[0].Available != 0 {
		t.Errorf("inventory after selling out: got %+v, want %s with 0 available", got, s.h.Items[1].SKU)
	}

	got, err = s.fx.Connector.Inventory(ctx, nil)
	if err != nil || len(got) != 0 {
		t.Errorf("inventory of no SKUs: got %v, %v, want none", got, err)
	}
}

func events(t *testing.T, s *session) {
	ext := s.externalID()
	placed := s.place(t, ext)
	if err := s.fx.Fake.Ship(ext); err != nil {
		t.Fatalf("ship: %v", err)
	}
	d, err := s.fx.Fake.Event(ext)
	if err != nil {
		t.Fatalf("event: %v", err)
	}
	evs, err := s.fx.Connector.ParseEvent(d.Header, d.Query, d.Body)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if len(evs) == 0 {
		t.Fatal("parse: got no events, want one about the order")
	}
	for _, ev := range evs {
		if ev.Ref.ID != placed.ID && ev.Ref.ExternalID != ext {
			t.Errorf("event ref: got %+v, want %s or %s", ev.Ref, placed.ID, ext)
		}
		if ev.Order == nil {
			continue // a hint: the pipeline reads the order
		}
		checkOrder(t, *ev.Order, ext)
		if ev.Order.Status != string(dropsync.POShipped) || len(ev.Order.Shipments) == 0 {
			t.Errorf("event order: got %s with %d parcels, want shipped with its parcel", ev.Order.Status, len(ev.Order.Shipments))
		}
	}

	// Without what authenticates the delivery, nothing is believed.
	_, err = s.fx.Connector.ParseEvent(http.Header{"Content-Type": {"application/json"}}, url.Values{}, d.Body)
	s.checkErr(t, err, dropsync.EUNAUTHORIZED, "")
}

func refusals(t *testing.T, s *session) {
	bad := func(edit func(*dropsync.SupplierOrderRequest)) func(*session, string) dropsync.SupplierOrderRequest {
		return func(s *session, ext string) dropsync.SupplierOrderRequest {
			r := s.request(ext)
			edit(&r)
			return r
		}
	}
	tests := []struct {
		name   string
		setup  func(*session)
		req    func(*session, string) dropsync.SupplierOrderRequest
		reason string
		sku    func(*session) string
	}{
		{
			name:   "unknown sku",
			req:    bad(func(r *dropsync.SupplierOrderRequest) { r.Items[1].SKU = s.h.UnknownSKU }),
			reason: dropsync.ReasonUnknownSKU,
			sku:    func(s *session) string { return s.h.UnknownSKU },
		},
		{
			name:   "out of stock",
			setup:  func(s *session) { s.fx.Fake.SetStock(s.h.Items[1].SKU, 0) },
			req:    bad(func(*dropsync.SupplierOrderRequest) {}),
			reason: dropsync.ReasonOutOfStock,
			sku:    func(s *session) string { return s.h.Items[1].SKU },
		},
		{
			name:   "invalid address",
			req:    bad(func(r *dropsync.SupplierOrderRequest) { r.ShippingAddress.Address1 = "" }),
			reason: dropsync.ReasonInvalidAddress,
		},
		{
			name: "unsupported country",
			req: bad(func(r *dropsync.SupplierOrderRequest) {
				r.ShippingAddress.CountryCode, r.ShippingAddress.Country = s.h.UnsupportedCountry, ""
				r.ShippingAddress.ProvinceCode, r.ShippingAddress.Province = "", ""
			}),
			reason: dropsync.ReasonUnsupportedCountry,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSession(t, s.h)
			if tt.setup != nil {
				tt.setup(s)
			}
			ext := s.externalID()
			_, err := s.fx.Connector.PlaceOrder(context.Background(), tt.req(s, ext))
			s.checkErr(t, err, dropsync.EPERMANENT, tt.reason)
			if dropsync.IsRetryable(err) {
				t.Errorf("IsRetryable: got true for %v, want false", err)
			}
			if tt.sku != nil {
				want := tt.sku(s)
				got := dropsync.RefusedSKU(err)
				if got != want && (s.h.NamesRefusedSKU || got != "") {
					t.Errorf("refused sku: got %q, want %q", got, want)
				}
			}
			if got := s.fx.Fake.Created(); got != 0 {
				t.Errorf("orders created: got %d, want 0", got)
			}
			s.checkCreates(t, ext, 0, 1)
		})
	}
}

func outages(t *testing.T, s *session) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			s := newSession(t, s.h)
			s.fx.Fake.FailNext(1, status)
			ext := s.externalID()
			_, err := s.fx.Connector.PlaceOrder(context.Background(), s.request(ext))
			s.checkErr(t, err, dropsync.EUNAVAILABLE, "")
			if !dropsync.IsRetryable(err) {
				t.Errorf("IsRetryable: got false for %v, want true", err)
			}
			// The outage is over: the retry places the order once.
			so := s.place(t, ext)
			checkOrder(t, so, ext)
			if got, want := s.fx.Fake.Created(), 1; got != want {
				t.Errorf("orders created: got %d, want %d", got, want)
			}
			// The refused create and the one the retry sends.
			s.checkCreates(t, ext, 2, 2)
		})
	}
}

func rateLimited(t *testing.T, s *session) {
	s.fx.Fake.FailNext(1, http.StatusTooManyRequests)
	ext := s.externalID()
	_, err := s.fx.Connector.PlaceOrder(context.Background(), s.request(ext))
	s.checkErr(t, err, dropsync.ERATELIMITED, "")
	got, ok := dropsync.RetryAfter(err)
	if !ok || got != s.h.RateLimitDelay {
		t.Errorf("RetryAfter: got %v, %v, want %v", got, ok, s.h.RateLimitDelay)
	}
	if !dropsync.IsRetryable(err) {
		t.Errorf("IsRetryable: got false for %v, want true", err)
	}
	if got := s.fx.Fake.Created(); got != 0 {
		t.Errorf("orders created: got %d, want 0", got)
	}
	s.checkCreates(t, ext, 1, 1)
}

func unauthorized(t *testing.T, s *session) {
	if s.fx.Unauthorized == nil {
		t.Fatal("the harness returned no connector with wrong credentials")
	}
	ctx := context.Background()
	_, err := s.fx.Unauthorized.PlaceOrder(ctx, s.request(s.externalID()))
	s.checkErr(t, err, dropsync.EUNAUTHORIZED, "")
	_, err = s.fx.Unauthorized.Inventory(ctx, []string{s.h.Items[0].SKU})
	s.checkErr(t, err, dropsync.EUNAUTHORIZED, "")
	if got := s.fx.Fake.Created(); got != 0 {
		t.Errorf("orders created: got %d, want 0", got)
	}
}

func lostReply(t *testing.T, s *session) {
	ext := s.externalID()
	s.proxy.LoseReply(s.h.PlaceRoute, 1)
	_, err := s.fx.Connector.PlaceOrder(context.Background(), s.request(ext))
	s.checkErr(t, err, dropsync.EUNAVAILABLE, "")
	if got, want := s.fx.Fake.Created(), 1; got != want {
		t.Fatalf("orders created by the lost call: got %d, want %d (the proxy must lose the reply of %v)", got, want, s.h.PlaceRoute)
	}
	so := s.place(t, ext)
	checkOrder(t, so, ext)
	if got, want := s.fx.Fake.Created(), 1; got != want {
		t.Errorf("orders created after the retry: got %d, want %d", got, want)
	}
	// A connector that looks up first finds the order the lost call created.
	s.checkCreates(t, ext, 1, s.retryCreates())
}

func acceptThenFail(t *testing.T, s *session) {
	ext := s.externalID()
	s.fx.Fake.AcceptThenFail(1)
	_, err := s.fx.Connector.PlaceOrder(context.Background(), s.request(ext))
	s.checkErr(t, err, dropsync.EUNAVAILABLE, "")
	so := s.place(t, ext)
	checkOrder(t, so, ext)
	if got, want := s.fx.Fake.Created(), 1; got != want {
		t.Errorf("orders created: got %d, want %d", got, want)
	}
	s.checkCreates(t, ext, 1, s.retryCreates())
}

// concurrentPlace places one purchase order from two workers at the same moment, as when a
// task runs twice (a lease expired, a duplicate delivery): both get the one order, and
// neither gets an error that would send the purchase order round again or fail it.
func concurrentPlace(t *testing.T, s *session) {
	ext := s.externalID()
	var wg sync.WaitGroup
	start := make(chan struct{})
	got := make([]dropsync.SupplierOrder, 2)
	errs := make([]error, 2)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[i], errs[i] = s.fx.Connector.PlaceOrder(context.Background(), s.request(ext))
		}()
	}
	close(start)
	wg.Wait()
	for i := range got {
		if errs[i] != nil {
			t.Errorf("worker %d: %v", i, errs[i])
			continue
		}
		checkOrder(t, got[i], ext)
	}
	if errs[0] == nil && errs[1] == nil && got[0].ID != got[1].ID {
		t.Errorf("workers got orders %s and %s, want the same", got[0].ID, got[1].ID)
	}
	if n := s.fx.Fake.Created(); n != 1 {
		t.Errorf("orders created: got %d, want 1", n)
	}
	// Both may create before either hears back; the supplier keeps one order.
	s.checkCreates(t, ext, 1, 2)
}
