package shopifytest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

type foLine struct {
	ID       int64 `json:"id"`
	Quantity int   `json:"quantity"`
}

type foGroup struct {
	FulfillmentOrderID int64    `json:"fulfillment_order_id"`
	Lines              []foLine `json:"fulfillment_order_line_items,omitempty"`
}

// fulfillmentBody is the request dropsync sends to POST fulfillments.json.
func fulfillmentBody(number string, notify bool, groups ...foGroup) map[string]any {
	return map[string]any{"fulfillment": map[string]any{
		"line_items_by_fulfillment_order": groups,
		"tracking_info": map[string]string{
			"company": "UPS", "number": number, "url": "https://www.ups.com/track?tracknum=" + number,
		},
		"notify_customer": notify,
	}}
}

type wireFulfillment struct {
	ID              int64     `json:"id"`
	OrderID         int64     `json:"order_id"`
	Status          string    `json:"status"`
	TrackingCompany string    `json:"tracking_company"`
	TrackingNumber  string    `json:"tracking_number"`
	TrackingNumbers []string  `json:"tracking_numbers"`
	TrackingURL     string    `json:"tracking_url"`
	TrackingURLs    []string  `json:"tracking_urls"`
	CreatedAt       time.Time `json:"created_at"`
	LineItems       []struct {
		ID       int64 `json:"id"`
		Quantity int   `json:"quantity"`
	} `json:"line_items"`
}

func fulfillmentOrders(t *testing.T, s *Server, orderID int64) []FulfillmentOrder {
	t.Helper()
	resp, body := api(t, s, http.MethodGet, "orders/"+strconv.FormatInt(orderID, 10)+"/fulfillment_orders.json", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET fulfillment_orders: got status %d, want 200 (%s)", resp.StatusCode, body)
	}
	return decode[struct {
		FulfillmentOrders []FulfillmentOrder `json:"fulfillment_orders"`
	}](t, body).FulfillmentOrders
}

func fulfillable(fo FulfillmentOrder) []int {
	var out []int
	for _, li := range fo.LineItems {
		out = append(out, li.FulfillableQuantity)
	}
	return out
}

func TestFulfillmentOrders(t *testing.T) {
	s := NewServer(Options{Unlimited: true})
	defer s.Close()
	s.AddOrder(SampleOrder(1, WithLines(
		LineSpec{SKU: "TEE", VariantID: 11, Quantity: 3, Price: decimal.RequireFromString("10")},
		LineSpec{SKU: "MUG", VariantID: 12, Quantity: 1, Price: decimal.RequireFromString("8")},
		LineSpec{SKU: "GIFT-CARD", VariantID: 13, Quantity: 1, Price: decimal.RequireFromString("25"), NoShipping: true},
	)))

	fos := fulfillmentOrders(t, s, 1)
	if len(fos) != 1 {
		t.Fatalf("fulfillment orders: got %d, want 1", len(fos))
	}
	fo := fos[0]
	if fo.Status != "open" || fo.OrderID != 1 || fo.AssignedLocationID == 0 {
		t.Errorf("fulfillment order: got status %q, order %d, location %d; want open, 1, a location", fo.Status, fo.OrderID, fo.AssignedLocationID)
	}
	type line struct {
		lineItem, variant  int64
		qty, fulfillable   int
		belongsToFO, hasID bool
	}
	var got []line
	for _, li := range fo.LineItems {
		got = append(got, line{li.LineItemID, li.VariantID, li.Quantity, li.FulfillableQuantity, li.FulfillmentOrderID == fo.ID, li.ID != 0})
	}
	want := []line{{101, 11, 3, 3, true, true}, {102, 12, 1, 1, true, true}}
	if !slices.Equal(got, want) {
		t.Errorf("fulfillment order lines (the gift card needs no shipping):\n got %+v\nwant %+v", got, want)
	}

	resp, body := api(t, s, http.MethodGet, "orders/2/fulfillment_orders.json", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown order: got status %d, want 404 (%s)", resp.StatusCode, body)
	}
}

func TestCreateFulfillment(t *testing.T) {
	clock := newTestClock()
	s := NewServer(Options{Unlimited: true, Now: clock.Now})
	defer s.Close()
	s.AddOrder(SampleOrder(1, WithUpdatedAt(clock.Now()), WithLines(
		LineSpec{SKU: "TEE", VariantID: 11, Quantity: 3, Price: decimal.RequireFromString("10")},
		LineSpec{SKU: "MUG", VariantID: 12, Quantity: 1, Price: decimal.RequireFromString("8")},
	)))
	s.AddOrder(SampleOrder(2))
	fo := fulfillmentOrders(t, s, 1)[0]
	tee, mug := fo.LineItems[0].ID, fo.LineItems[1].ID
	other := fulfillmentOrders(t, s, 2)[0]

	t.Run("rejected requests change nothing", func(t *testing.T) {
		tests := []struct {
			name       string
			body       any
			wantStatus int
		}{
			{"unknown fulfillment order", fulfillmentBody("1Z1", false, foGroup{FulfillmentOrderID: 999}), 422},
			{"line of another fulfillment order", fulfillmentBody("1Z1", false, foGroup{fo.ID, []foLine{{other.LineItems[0].ID, 1}}}), 422},
			{"more than fulfillable", fulfillmentBody("1Z1", false, foGroup{fo.ID, []foLine{{tee, 4}}}), 422},
			{"same line twice adding up to too many", fulfillmentBody("1Z1", false, foGroup{fo.ID, []foLine{{tee, 2}, {tee, 2}}}), 422},
			{"zero quantity", fulfillmentBody("1Z1", false, foGroup{fo.ID, []foLine{{tee, 0}}}), 422},
			{"two orders at once", fulfillmentBody("1Z1", false, foGroup{FulfillmentOrderID: fo.ID}, foGroup{FulfillmentOrderID: other.ID}), 422},
			{"no fulfillment orders", fulfillmentBody("1Z1", false), 422},
			{"no fulfillment key", map[string]any{"tracking_info": map[string]string{"number": "1Z1"}}, 400},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp, body := api(t, s, http.MethodPost, "fulfillments.json", tt.body)
				if resp.StatusCode != tt.wantStatus {
					t.Fatalf("status: got %d, want %d (%s)", resp.StatusCode, tt.wantStatus, body)
				}
				var errs struct {
					Errors json.RawMessage `json:"errors"`
				}
				if json.Unmarshal(body, &errs) != nil || len(errs.Errors) == 0 {
					t.Errorf("body: got %s, want Shopify's {\"errors\": ...}", body)
				}
			})
		}
		if got, want := fulfillable(s.FulfillmentOrders(1)[0]), []int{3, 1}; !slices.Equal(got, want) {
			t.Errorf("fulfillable after rejections: got %v, want %v", got, want)
		}
		if got := len(s.Fulfillments(1)) + len(s.Fulfillments(2)); got != 0 {
			t.Errorf("fulfillments after rejections: got %d, want 0", got)
		}
	})

	before, _ := s.Order(1)
	clock.Advance(time.Minute)

	t.Run("partial", func(t *testing.T) {
		resp, body := api(t, s, http.MethodPost, "fulfillments.json", fulfillmentBody("1Z999AA1", true, foGroup{fo.ID, []foLine{{tee, 2}}}))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("status: got %d, want 201 (%s)", resp.StatusCode, body)
		}
		f := decode[struct {
			Fulfillment wireFulfillment `json:"fulfillment"`
		}](t, body).Fulfillment
		if f.ID == 0 || f.OrderID != 1 || f.Status != "success" || !f.CreatedAt.Equal(clock.Now()) {
			t.Errorf("fulfillment: got id %d, order %d, status %q, created %v; want an id, 1, success, %v", f.ID, f.OrderID, f.Status, f.CreatedAt, clock.Now())
		}
		if f.TrackingCompany != "UPS" || f.TrackingNumber != "1Z999AA1" || !slices.Equal(f.TrackingNumbers, []string{"1Z999AA1"}) ||
			f.TrackingURL != "https://www.ups.com/track?tracknum=1Z999AA1" || len(f.TrackingURLs) != 1 {
			t.Errorf("tracking: got %+v", f)
		}
		if len(f.LineItems) != 1 || f.LineItems[0].ID != 101 || f.LineItems[0].Quantity != 2 {
			t.Errorf("line items: got %+v, want line 101 × 2", f.LineItems)
		}
		fo := fulfillmentOrders(t, s, 1)[0]
		if got, want := fo.Status, "in_progress"; got != want {
			t.Errorf("fulfillment order status: got %q, want %q", got, want)
		}
		if got, want := fulfillable(fo), []int{1, 1}; !slices.Equal(got, want) {
			t.Errorf("fulfillable: got %v, want %v", got, want)
		}
		o, _ := s.Order(1)
		if o.FulfillmentStatus == nil || *o.FulfillmentStatus != "partial" {
			t.Errorf("order fulfillment_status: got %v, want partial", o.FulfillmentStatus)
		}
		if !o.UpdatedAt.After(before.UpdatedAt) {
			t.Errorf("updated_at: got %v, want after %v", o.UpdatedAt, before.UpdatedAt)
		}
		if got, want := o.LineItems[0].FulfillableQuantity, 1; got != want {
			t.Errorf("line fulfillable_quantity: got %d, want %d", got, want)
		}
		if !s.Fulfillments(1)[0].NotifyCustomer {
			t.Errorf("notify_customer: got false, want true")
		}
	})

	t.Run("omitted lines fulfil the rest", func(t *testing.T) {
		resp, body := api(t, s, http.MethodPost, "fulfillments.json", fulfillmentBody("1Z999AA2", false, foGroup{FulfillmentOrderID: fo.ID}))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("status: got %d, want 201 (%s)", resp.StatusCode, body)
		}
		f := decode[struct {
			Fulfillment wireFulfillment `json:"fulfillment"`
		}](t, body).Fulfillment
		var got [][2]int64
		for _, li := range f.LineItems {
			got = append(got, [2]int64{li.ID, int64(li.Quantity)})
		}
		if want := [][2]int64{{101, 1}, {102, 1}}; !slices.Equal(got, want) {
			t.Errorf("line items: got %v, want %v", got, want)
		}
		fo := fulfillmentOrders(t, s, 1)[0]
		if fo.Status != "closed" || !slices.Equal(fulfillable(fo), []int{0, 0}) {
			t.Errorf("fulfillment order: got %q %v, want closed [0 0]", fo.Status, fulfillable(fo))
		}
		o, _ := s.Order(1)
		if o.FulfillmentStatus == nil || *o.FulfillmentStatus != "fulfilled" {
			t.Errorf("order fulfillment_status: got %v, want fulfilled", o.FulfillmentStatus)
		}
	})

	t.Run("closed fulfillment order", func(t *testing.T) {
		resp, body := api(t, s, http.MethodPost, "fulfillments.json", fulfillmentBody("1Z999AA3", false, foGroup{fo.ID, []foLine{{mug, 1}}}))
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("status: got %d, want 422 (%s)", resp.StatusCode, body)
		}
	})

	t.Run("list fulfillments", func(t *testing.T) {
		resp, body := api(t, s, http.MethodGet, "orders/1/fulfillments.json", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status: got %d, want 200", resp.StatusCode)
		}
		fs := decode[struct {
			Fulfillments []wireFulfillment `json:"fulfillments"`
		}](t, body).Fulfillments
		var got []string
		for _, f := range fs {
			got = append(got, f.TrackingNumber)
		}
		if want := []string{"1Z999AA1", "1Z999AA2"}; !slices.Equal(got, want) {
			t.Errorf("tracking numbers: got %v, want %v", got, want)
		}
	})

	t.Run("update tracking", func(t *testing.T) {
		id := s.Fulfillments(1)[0].ID
		body := map[string]any{"fulfillment": map[string]any{
			"tracking_info":   map[string]string{"company": "DHL Express", "number": "JD0146", "url": "https://www.dhl.com/track?JD0146"},
			"notify_customer": false,
		}}
		resp, b := api(t, s, http.MethodPost, "fulfillments/"+strconv.FormatInt(id, 10)+"/update_tracking.json", body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status: got %d, want 200 (%s)", resp.StatusCode, b)
		}
		f := decode[struct {
			Fulfillment wireFulfillment `json:"fulfillment"`
		}](t, b).Fulfillment
		if f.ID != id || f.TrackingCompany != "DHL Express" || !slices.Equal(f.TrackingNumbers, []string{"JD0146"}) {
			t.Errorf("response: got %+v, want the updated fulfillment", f)
		}
		stored := s.Fulfillments(1)[0]
		if stored.TrackingNumber != "JD0146" || stored.NotifyCustomer {
			t.Errorf("stored: got number %q, notify %v; want JD0146, false", stored.TrackingNumber, stored.NotifyCustomer)
		}
		if o, _ := s.Order(1); o.Fulfillments[0].TrackingNumber != "JD0146" {
			t.Errorf("order's fulfillments: got %q, want JD0146", o.Fulfillments[0].TrackingNumber)
		}
		resp, _ = api(t, s, http.MethodPost, "fulfillments/42/update_tracking.json", body)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("unknown fulfillment: got status %d, want 404", resp.StatusCode)
		}
	})

	t.Run("cancelled order", func(t *testing.T) {
		s.CancelOrder(2, "customer")
		resp, body := api(t, s, http.MethodPost, "fulfillments.json", fulfillmentBody("1Z4", false, foGroup{FulfillmentOrderID: other.ID}))
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("status: got %d, want 422 (%s)", resp.StatusCode, body)
		}
	})
}

func TestFailAfterCreate(t *testing.T) {
	s := NewServer(Options{Unlimited: true})
	defer s.Close()
	s.AddOrder(SampleOrder(1))
	s.AddOrder(SampleOrder(2))
	fo1, fo2 := fulfillmentOrders(t, s, 1)[0], fulfillmentOrders(t, s, 2)[0]
	s.FailAfterCreate(2)

	steps := []struct {
		name       string
		fo         int64
		wantStatus int
		wantOrder1 int // fulfillments on order 1 afterwards
	}{
		{"created, then 500", fo1.ID, 500, 1},
		{"retry finds nothing left: 422, not counted", fo1.ID, 422, 1},
		{"second injected failure", fo2.ID, 500, 1},
	}
	for _, st := range steps {
		resp, body := api(t, s, http.MethodPost, "fulfillments.json", fulfillmentBody("1Z-"+st.name, false, foGroup{FulfillmentOrderID: st.fo}))
		if resp.StatusCode != st.wantStatus {
			t.Fatalf("%s: got status %d, want %d (%s)", st.name, resp.StatusCode, st.wantStatus, body)
		}
		if got := len(s.Fulfillments(1)); got != st.wantOrder1 {
			t.Fatalf("%s: fulfillments on order 1: got %d, want %d", st.name, got, st.wantOrder1)
		}
	}
	// The fulfillment behind the 500 is visible to the check dropsync makes
	// before creating one.
	_, body := api(t, s, http.MethodGet, "orders/1/fulfillments.json", nil)
	fs := decode[struct {
		Fulfillments []wireFulfillment `json:"fulfillments"`
	}](t, body).Fulfillments
	if len(fs) != 1 || fs[0].TrackingNumber != "1Z-created, then 500" {
		t.Errorf("fulfillments after a 500: got %+v, want the one created", fs)
	}
	if got := len(s.Fulfillments(2)); got != 1 {
		t.Errorf("fulfillments on order 2: got %d, want 1", got)
	}
}

func TestRisks(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	s.AddOrder(SampleOrder(1))

	_, body := api(t, s, http.MethodGet, "orders/1/risks.json", nil)
	if got, want := string(body), `{"risks":[]}`; got != want {
		t.Errorf("no assessment: got %s, want %s", got, want)
	}
	for _, rec := range []string{"accept", "investigate", "cancel"} {
		t.Run(rec, func(t *testing.T) {
			if !s.SetRisk(1, rec) {
				t.Fatal("SetRisk: got false, want true")
			}
			_, body := api(t, s, http.MethodGet, "orders/1/risks.json", nil)
			risks := decode[struct {
				Risks []Risk `json:"risks"`
			}](t, body).Risks
			if len(risks) != 1 || risks[0].Recommendation != rec || risks[0].OrderID != 1 || risks[0].CauseCancel != (rec == "cancel") {
				t.Errorf("risks: got %+v, want one %q", risks, rec)
			}
		})
	}
	if resp, _ := api(t, s, http.MethodGet, "orders/9/risks.json", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown order: got status %d, want 404", resp.StatusCode)
	}
}
