package shopify_test

import (
	"context"
	"encoding/json"
	"github.com/rs/zerolog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dropsync/dropsync/connectors/shopify"
	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/redistest"
)

// scripted is a Shopify stand-in whose fulfillment orders and replies a test sets step by
// step, to pin down interleavings the fake cannot produce on demand.
type scripted struct {
	mu        sync.Mutex
	fos       []map[string]any // fulfillment orders
	fs        []map[string]any // fulfillments
	createFn  func(body []byte) (int, any)
	creates   int
	afterList func()
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Shopify-Shop-Api-Call-Limit", "1/40")
	p := r.URL.Path
	switch {
	case strings.HasSuffix(p, "/fulfillment_orders.json"):
		json.NewEncoder(w).Encode(map[string]any{"fulfillment_orders": s.fos})
		if s.afterList != nil {
			s.afterList()
			s.afterList = nil
		}
	case strings.HasSuffix(p, "/fulfillments.json") && r.Method == http.MethodGet:
		json.NewEncoder(w).Encode(map[string]any{"fulfillments": s.fs})
	case strings.HasSuffix(p, "/fulfillments.json") && r.Method == http.MethodPost:
		s.creates++
		var body json.RawMessage
		json.NewDecoder(r.Body).Decode(&body)
		status, reply := s.createFn(body)
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(reply)
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func fo(id, location uint64, status string, lines ...[3]uint64) map[string]any {
	var items []map[string]any
	for _, l := range lines { // {fulfillment order line id, order line id, fulfillable}
		items = append(items, map[string]any{"id": l[0], "fulfillment_order_id": id, "line_item_id": l[1],
			"quantity": l[2], "fulfillable_quantity": l[2]})
	}
	return map[string]any{"id": id, "order_id": 42, "assigned_location_id": location, "status": status, "line_items": items}
}

func scriptedClient(t *testing.T, s *scripted) *shopify.Client {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	lim := shopify.NewLimiter(redistest.Client(t), nil, time.Second)
	c, err := shopify.NewClient([]shopify.ShopConfig{{Domain: shop, AccessToken: token, APIVersion: "2026-01",
		APIBaseURL: srv.URL}}, lim, nil, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var parcelReq = dropsync.FulfillmentRequest{Shop: shop, OrderID: 42, Carrier: "UPS", TrackingNumber: "1Z9",
	Lines: []dropsync.LineUnits{{LineID: 500, Quantity: 1}, {LineID: 501, Quantity: 1}}}

// The merchant cancels between dropsync reading the fulfillment orders and creating the
// fulfillment: Shopify's 422 is recognised as "nothing left to fulfil", not as a failure.
func TestFulfillCancelledBetweenReadAndCreate(t *testing.T) {
	s := &scripted{fos: []map[string]any{fo(1, 7, "open", [3]uint64{11, 500, 1}, [3]uint64{12, 501, 1})}}
	s.afterList = func() { s.fos = []map[string]any{fo(1, 7, "closed", [3]uint64{11, 500, 0}, [3]uint64{12, 501, 0})} }
	s.createFn = func([]byte) (int, any) {
		return http.StatusUnprocessableEntity, map[string]any{"errors": []string{"Fulfillment order 1 has an unfulfillable status= closed."}}
	}
	_, err := scriptedClient(t, s).Fulfill(context.Background(), parcelReq, false)
	if dropsync.ErrorCode(err) != dropsync.ECONFLICT || dropsync.ErrorReason(err) != shopify.ReasonAlreadyFulfilled {
		t.Fatalf("err %v (code %s), want conflict already_fulfilled", err, dropsync.ErrorCode(err))
	}
}

// A 422 while the lines are still open is worth another try.
func TestFulfillRefusedWhileOpenIsRetryable(t *testing.T) {
	s := &scripted{fos: []map[string]any{fo(1, 7, "open", [3]uint64{11, 500, 1}, [3]uint64{12, 501, 1})}}
	s.createFn = func([]byte) (int, any) {
		return http.StatusUnprocessableEntity, map[string]any{"errors": "try later"}
	}
	_, err := scriptedClient(t, s).Fulfill(context.Background(), parcelReq, false)
	if !dropsync.IsRetryable(err) {
		t.Fatalf("err %v (code %s), want a retryable error", err, dropsync.ErrorCode(err))
	}
}

// Lines at two locations become two fulfillments; a retry after the second failed creates
// only the missing one, and a parcel on hold waits instead of being given up.
func TestFulfillTwoLocationsAndRetry(t *testing.T) {
	s := &scripted{fos: []map[string]any{
		fo(1, 7, "open", [3]uint64{11, 500, 1}),
		fo(2, 8, "open", [3]uint64{21, 501, 1}),
	}}
	next := int64(900)
	s.createFn = func(body []byte) (int, any) {
		if s.creates == 2 { // the second location's create fails the first time
			return http.StatusBadGateway, map[string]any{"errors": "bad gateway"}
		}
		var b struct {
			Fulfillment struct {
				LineItemsByFulfillmentOrder []struct {
					FulfillmentOrderID uint64 `json:"fulfillment_order_id"`
				} `json:"line_items_by_fulfillment_order"`
			} `json:"fulfillment"`
		}
		json.Unmarshal(body, &b)
		line := uint64(500)
		if b.Fulfillment.LineItemsByFulfillmentOrder[0].FulfillmentOrderID == 2 {
			line = 501
		}
		next++
		f := map[string]any{"id": next, "order_id": 42, "status": "success", "tracking_number": "1Z9",
			"tracking_numbers": []string{"1Z9"}, "line_items": []map[string]any{{"id": line, "quantity": 1}}}
		s.fs = append(s.fs, f)
		return http.StatusCreated, map[string]any{"fulfillment": f}
	}
	c := scriptedClient(t, s)
	if _, err := c.Fulfill(context.Background(), parcelReq, false); !dropsync.IsRetryable(err) {
		t.Fatalf("first try: %v, want a retryable failure of the second create", err)
	}
	f, err := c.Fulfill(context.Background(), parcelReq, true)
	if err != nil {
		t.Fatal(err)
	}
	if s.creates != 3 || len(f.IDs) != 2 {
		t.Fatalf("creates %d, fulfillment ids %v; want the first kept and only the second created", s.creates, f.IDs)
	}

	held := &scripted{fos: []map[string]any{fo(1, 7, "on_hold", [3]uint64{11, 500, 1}, [3]uint64{12, 501, 1})}}
	held.createFn = func([]byte) (int, any) { return http.StatusCreated, map[string]any{} }
	if _, err := scriptedClient(t, held).Fulfill(context.Background(), parcelReq, false); !dropsync.IsRetryable(err) {
		t.Fatalf("on hold: %v, want a retryable error", err)
	}
}
