package shopifytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var linkRE = regexp.MustCompile(`<([^>]+)>; rel="(next|previous)"`)

// links parses a Link header into rel → URL, checking it is well formed.
func links(t *testing.T, h string) map[string]string {
	t.Helper()
	out := map[string]string{}
	if h == "" {
		return out
	}
	for part := range strings.SplitSeq(h, ", ") {
		m := linkRE.FindStringSubmatch(part)
		if m == nil || m[0] != part {
			t.Fatalf("malformed Link part %q in %q", part, h)
		}
		out[m[2]] = m[1]
	}
	return out
}

type listedOrder struct {
	ID        int64     `json:"id"`
	UpdatedAt time.Time `json:"updated_at"`
}

// page fetches one page of orders from a full URL.
func page(t *testing.T, rawURL string) ([]listedOrder, map[string]string) {
	t.Helper()
	resp, body := request(t, http.MethodGet, rawURL, DefaultAccessToken, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: got status %d, want 200 (%s)", rawURL, resp.StatusCode, body)
	}
	return decode[struct {
		Orders []listedOrder `json:"orders"`
	}](t, body).Orders, links(t, resp.Header.Get("Link"))
}

// walk follows rel="next" links from rawURL to the end.
func walk(t *testing.T, rawURL string, between func(pageNo int)) (all []listedOrder, sizes []int) {
	t.Helper()
	for n := 1; rawURL != ""; n++ {
		got, l := page(t, rawURL)
		all = append(all, got...)
		sizes = append(sizes, len(got))
		rawURL = l["next"]
		if between != nil {
			between(n)
		}
	}
	return all, sizes
}

// addPaged adds 600 orders in a scrambled order, two per updated_at second,
// so the walk must order by updated_at and then id.
func addPaged(s *Server, t0 time.Time) {
	for k := range 600 {
		i := k * 7 % 600
		s.AddOrder(SampleOrder(int64(1000+i), WithCreatedAt(t0.Add(-time.Hour)), WithUpdatedAt(t0.Add(time.Duration(i/2)*time.Second))))
	}
}

func TestOrdersPagination(t *testing.T) {
	clock := newTestClock()
	t0 := clock.Now().Add(-24 * time.Hour)
	s := NewServer(Options{Unlimited: true, Now: clock.Now})
	defer s.Close()
	addPaged(s, t0)
	base := s.URL() + "/admin/api/" + DefaultVersion + "/orders.json"

	t.Run("full walk", func(t *testing.T) {
		got, sizes := walk(t, base+"?status=any&limit=250", nil)
		if want := []int{250, 250, 100}; !slices.Equal(sizes, want) {
			t.Fatalf("page sizes: got %v, want %v", sizes, want)
		}
		for i, o := range got {
			if want := int64(1000 + i); o.ID != want {
				t.Fatalf("order %d: got id %d, want %d (updated_at then id order)", i, o.ID, want)
			}
		}
	})

	t.Run("links and previous", func(t *testing.T) {
		p1, l1 := page(t, base+"?status=any&limit=250&fields=id,updated_at")
		if _, ok := l1["previous"]; ok || l1["next"] == "" {
			t.Fatalf("first page links: got %v, want next only", l1)
		}
		if !strings.HasPrefix(l1["next"], base+"?limit=250&page_info=") {
			t.Errorf("next link: got %q, want %s?limit=250&page_info=...", l1["next"], base)
		}
		p2, l2 := page(t, l1["next"])
		if l2["previous"] == "" || l2["next"] == "" {
			t.Fatalf("middle page links: got %v, want previous and next", l2)
		}
		p3, l3 := page(t, l2["next"])
		if _, ok := l3["next"]; ok || l3["previous"] == "" {
			t.Fatalf("last page links: got %v, want previous only", l3)
		}
		back2, _ := page(t, l3["previous"])
		if !slices.Equal(back2, p2) {
			t.Errorf("previous of last page: got %d orders from %d, want page 2 from %d", len(back2), back2[0].ID, p2[0].ID)
		}
		back1, lb := page(t, l2["previous"])
		if !slices.Equal(back1, p1) {
			t.Errorf("previous of page 2: got orders from %d, want page 1 from %d", back1[0].ID, p1[0].ID)
		}
		if _, ok := lb["previous"]; ok {
			t.Errorf("page 1 reached backwards: got a previous link, want none")
		}
		if got, want := len(p3), 100; got != want {
			t.Errorf("last page: got %d orders, want %d", got, want)
		}
	})

	t.Run("overlapping updated_at windows", func(t *testing.T) {
		// A poller reads [t0, t0+199s], then starts its next window 25s
		// earlier than the last one ended, as dropsync's reconciliation does.
		first, _ := walk(t, base+"?status=any&limit=100&fields=id,updated_at&updated_at_max="+url.QueryEscape(t0.Add(199*time.Second).Format(time.RFC3339)), nil)
		second, _ := walk(t, base+"?status=any&limit=100&fields=id,updated_at&updated_at_min="+url.QueryEscape(t0.Add(175*time.Second).Format(time.RFC3339)), nil)
		if got, want := len(first), 400; got != want {
			t.Errorf("first window: got %d orders, want %d (bounds are inclusive)", got, want)
		}
		if got, want := len(second), 250; got != want {
			t.Errorf("second window: got %d orders, want %d", got, want)
		}
		seen := map[listedOrder]bool{}
		dups := 0
		for _, o := range append(first, second...) {
			if seen[o] {
				dups++
			}
			seen[o] = true
		}
		if got, want := len(seen), 600; got != want {
			t.Errorf("distinct (id, updated_at) over both windows: got %d, want %d", got, want)
		}
		if got, want := dups, 50; got != want {
			t.Errorf("overlap: got %d, want %d", got, want)
		}
	})

	t.Run("order updated during a walk comes round again", func(t *testing.T) {
		var updated int64
		got, _ := walk(t, base+"?status=any&limit=250&fields=id,updated_at", func(pageNo int) {
			if pageNo == 1 {
				updated = 1003
				s.UpdateOrder(updated, func(o *Order) { o.Tags = "vip" })
			}
		})
		if got, want := len(got), 601; got != want {
			t.Fatalf("orders seen: got %d, want %d", got, want)
		}
		last := got[len(got)-1]
		if last.ID != updated || !last.UpdatedAt.After(got[3].UpdatedAt) {
			t.Errorf("last order: got %+v, want %d with a later updated_at than %v", last, updated, got[3].UpdatedAt)
		}
	})
}

func TestOrdersListParams(t *testing.T) {
	clock := newTestClock()
	s := NewServer(Options{Unlimited: true, Now: clock.Now})
	defer s.Close()
	for i := range 5 {
		s.AddOrder(SampleOrder(int64(i+1), WithUpdatedAt(sampleTime().Add(time.Duration(i)*time.Minute))))
	}
	s.CancelOrder(2, "customer")
	s.UpdateOrder(3, func(o *Order) { o.ClosedAt = ptr(sampleTime().Add(time.Hour)) })
	resp, _ := api(t, s, http.MethodGet, "orders.json?status=any&limit=2", nil)
	next := links(t, resp.Header.Get("Link"))["next"]
	pageInfo := strings.SplitN(next, "page_info=", 2)[1]

	t.Run("rejected", func(t *testing.T) {
		tests := []struct {
			name      string
			query     string
			wantField string
		}{
			{"limit above 250", "limit=251", "limit"},
			{"limit zero", "limit=0", "limit"},
			{"limit not a number", "limit=many", "limit"},
			{"page_info with a filter", "page_info=" + pageInfo + "&status=any", "page_info"},
			{"page_info with updated_at_min", "limit=2&page_info=" + pageInfo + "&updated_at_min=2026-01-01T00:00:00Z", "page_info"},
			{"page_info tampered", "page_info=bm90LWEtY3Vyc29y", "page_info"},
			{"bad time", "updated_at_min=yesterday", "updated_at_min"},
			{"bad status", "status=lost", "status"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp, body := api(t, s, http.MethodGet, "orders.json?"+tt.query, nil)
				if got, want := resp.StatusCode, http.StatusBadRequest; got != want {
					t.Fatalf("status: got %d, want %d (%s)", got, want, body)
				}
				errs := decode[struct {
					Errors map[string]string `json:"errors"`
				}](t, body).Errors
				if _, ok := errs[tt.wantField]; !ok {
					t.Errorf("errors: got %v, want a message for %q", errs, tt.wantField)
				}
			})
		}
	})

	t.Run("filters", func(t *testing.T) {
		tests := []struct {
			name  string
			query string
			want  []int64
		}{
			{"default is open orders", "", []int64{1, 4, 5}},
			{"any", "status=any", []int64{1, 2, 3, 4, 5}},
			{"cancelled", "status=cancelled", []int64{2}},
			{"closed", "status=closed", []int64{3}},
			{"updated window inclusive", "status=any&updated_at_min=2026-01-15T10:00:00Z&updated_at_max=2026-01-15T10:03:00Z", []int64{1, 4}},
			{"page_info carries the filters", "limit=2&page_info=" + pageInfo, []int64{2, 5}},
			{"since_id", "status=any&since_id=3", []int64{4, 5}},
			{"ids", "ids=1,5,9", []int64{1, 5}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, _ := page(t, s.URL()+"/admin/api/"+DefaultVersion+"/orders.json?"+tt.query)
				var ids []int64
				for _, o := range got {
					ids = append(ids, o.ID)
				}
				// Cancelling and closing advanced the updated_at of 2 and 3
				// past the others: the walk order is 1, 4, 5, 2, 3.
				slices.Sort(ids)
				if !slices.Equal(ids, tt.want) {
					t.Errorf("ids: got %v, want %v", ids, tt.want)
				}
			})
		}
	})

	t.Run("fields", func(t *testing.T) {
		resp, body := api(t, s, http.MethodGet, "orders.json?status=any&limit=2&fields=id,updated_at", nil)
		check := func(body []byte) {
			t.Helper()
			orders := decode[struct {
				Orders []map[string]json.RawMessage `json:"orders"`
			}](t, body).Orders
			if len(orders) == 0 {
				t.Fatal("no orders")
			}
			for _, o := range orders {
				if _, ok := o["id"]; len(o) != 2 || !ok {
					t.Errorf("fields=id,updated_at: got keys %v, want id and updated_at", keys(o))
				}
			}
		}
		check(body)
		next := links(t, resp.Header.Get("Link"))["next"]
		if !strings.Contains(next, "fields=id%2Cupdated_at") {
			t.Errorf("next link keeps fields: got %q", next)
		}
		_, body = request(t, http.MethodGet, next, DefaultAccessToken, nil)
		check(body)
	})
}

func keys(m map[string]json.RawMessage) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestGetOrder(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	s.AddOrder(SampleOrder(450789469, WithUnicodeCustomer()))

	resp, body := api(t, s, http.MethodGet, "orders/450789469.json", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status: got %d, want 200", resp.StatusCode)
	}
	got := decode[struct {
		Order json.RawMessage `json:"order"`
	}](t, body).Order
	if want := s.OrderJSON(450789469); string(got) != string(want) {
		t.Errorf("GET order and OrderJSON differ:\n got %s\nwant %s", got, want)
	}

	resp, body = api(t, s, http.MethodGet, "orders/1.json", nil)
	if got, want := fmt.Sprint(resp.StatusCode, " ", string(body)), `404 {"errors":"Not Found"}`; got != want {
		t.Errorf("unknown order: got %s, want %s", got, want)
	}
	if s.OrderJSON(1) != nil {
		t.Errorf("OrderJSON of an unknown order: got a body, want nil")
	}
}

func TestUpdateAndCancelOrder(t *testing.T) {
	clock := newTestClock()
	s := NewServer(Options{Now: clock.Now})
	defer s.Close()
	o := SampleOrder(7, WithUpdatedAt(clock.Now()))
	s.AddOrder(o)

	// The clock has not moved: updated_at must still advance.
	if !s.UpdateOrder(7, func(o *Order) { o.Note = "leave at the door" }) {
		t.Fatal("UpdateOrder: got false, want true")
	}
	got, _ := s.Order(7)
	if want := o.UpdatedAt.Add(time.Second); !got.UpdatedAt.Equal(want) {
		t.Errorf("updated_at after update: got %v, want %v", got.UpdatedAt, want)
	}
	if got.Note != "leave at the door" {
		t.Errorf("note: got %q, want the edit", got.Note)
	}

	clock.Advance(time.Hour)
	if !s.CancelOrder(7, "fraud") {
		t.Fatal("CancelOrder: got false, want true")
	}
	got, _ = s.Order(7)
	if got.CancelledAt == nil || !got.CancelledAt.Equal(clock.Now()) || got.CancelReason == nil || *got.CancelReason != "fraud" {
		t.Errorf("cancelled_at, cancel_reason: got %v, %v, want %v, fraud", got.CancelledAt, got.CancelReason, clock.Now())
	}
	if !got.UpdatedAt.Equal(clock.Now()) {
		t.Errorf("updated_at after cancel: got %v, want %v", got.UpdatedAt, clock.Now())
	}
	if fos := s.FulfillmentOrders(7); len(fos) != 1 || fos[0].Status != "closed" {
		t.Errorf("fulfillment orders after cancel: got %+v, want one closed", fos)
	}
	if s.UpdateOrder(8, func(*Order) {}) || s.CancelOrder(8, "other") {
		t.Errorf("unknown order: got true, want false")
	}

	// What Order hands out is a copy.
	got.LineItems[0].SKU = "CHANGED"
	again, _ := s.Order(7)
	if again.LineItems[0].SKU == "CHANGED" {
		t.Errorf("Order returned storage that a caller can change")
	}
}

func ptr[T any](v T) *T { return &v }
