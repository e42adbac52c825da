package shopifytest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is a hand-set clock for the bucket and timestamps.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// request sends method to url with the given token ("" sends none) and a
// JSON body (nil sends none), and returns the response with its body read.
func request(t *testing.T, method, url, token string, body any) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("marshal request: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if token != "" {
		req.Header.Set("X-Shopify-Access-Token", token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s %s: %v", method, url, err)
	}
	return resp, b
}

// api calls a resource under the default version with the default token.
func api(t *testing.T, s *Server, method, resource string, body any) (*http.Response, []byte) {
	t.Helper()
	return request(t, method, s.URL()+"/admin/api/"+DefaultVersion+"/"+resource, DefaultAccessToken, body)
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func TestAuthAndVersions(t *testing.T) {
	s := NewServer(Options{AccessToken: "shpat_secret", Versions: []string{"2026-01", "2025-10"}})
	defer s.Close()

	tests := []struct {
		name        string
		path        string
		token       string
		wantStatus  int
		wantBody    string // exact body, when set
		wantVersion string // X-Shopify-API-Version
	}{
		{"right token, pinned version", "/admin/api/2026-01/shop.json", "shpat_secret", 200, "", "2026-01"},
		{"second accepted version", "/admin/api/2025-10/shop.json", "shpat_secret", 200, "", "2025-10"},
		{"no token", "/admin/api/2026-01/shop.json", "", 401, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`, "2026-01"},
		{"wrong token", "/admin/api/2026-01/shop.json", "shpat_other", 401, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`, "2026-01"},
		{"version not accepted", "/admin/api/2024-01/shop.json", "shpat_secret", 404, `{"errors":"Not Found"}`, "2026-01"},
		{"unversioned path", "/admin/shop.json", "shpat_secret", 404, `{"errors":"Not Found"}`, "2026-01"},
		{"unknown resource", "/admin/api/2026-01/nothing.json", "shpat_secret", 404, `{"errors":"Not Found"}`, "2026-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := request(t, http.MethodGet, s.URL()+tt.path, tt.token, nil)
			if got, want := resp.StatusCode, tt.wantStatus; got != want {
				t.Fatalf("status: got %d, want %d (body %s)", got, want, body)
			}
			if tt.wantBody != "" {
				if got, want := string(body), tt.wantBody; got != want {
					t.Errorf("body: got %s, want %s", got, want)
				}
			}
			if got, want := resp.Header.Get("X-Shopify-API-Version"), tt.wantVersion; got != want {
				t.Errorf("X-Shopify-API-Version: got %q, want %q", got, want)
			}
			if got := resp.Header.Get("X-Shopify-Shop-Api-Call-Limit"); !strings.HasSuffix(got, "/40") {
				t.Errorf("X-Shopify-Shop-Api-Call-Limit: got %q, want n/40", got)
			}
		})
	}

	calls := s.Calls()
	if got, want := len(calls), len(tests); got != want {
		t.Fatalf("calls recorded: got %d, want %d", got, want)
	}
	if got, want := calls[2].Version, "2026-01"; got != want {
		t.Errorf("recorded version: got %q, want %q", got, want)
	}
	if got, want := calls[4].Version, "2024-01"; got != want {
		t.Errorf("recorded version of a refused call: got %q, want %q", got, want)
	}
	if got, want := calls[4].Status, 404; got != want {
		t.Errorf("recorded status: got %d, want %d", got, want)
	}
	if got, want := s.CallCount("", "/admin/api/2024-01/*"), 1; got != want {
		t.Errorf("calls to an unpinned version: got %d, want %d", got, want)
	}
	if got, want := s.CallCount(http.MethodGet, "shop.json"), 5; got != want {
		t.Errorf("GET shop.json calls: got %d, want %d", got, want)
	}
}

func TestCallLimit(t *testing.T) {
	clock := newTestClock()
	s := NewServer(Options{Now: clock.Now})
	defer s.Close()

	for i := 1; i <= 40; i++ {
		resp, body := api(t, s, http.MethodGet, "shop.json", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("call %d: got status %d, want 200 (%s)", i, resp.StatusCode, body)
		}
		if got, want := resp.Header.Get("X-Shopify-Shop-Api-Call-Limit"), strconv.Itoa(i)+"/40"; got != want {
			t.Fatalf("call %d: call limit header got %q, want %q", i, got, want)
		}
	}

	// The 41st call finds the bucket full and must not be executed.
	resp, body := api(t, s, http.MethodPost, "webhooks.json", map[string]any{
		"webhook": map[string]string{"topic": "orders/create", "address": "https://hooks.example.com/shopify", "format": "json"},
	})
	if got, want := resp.StatusCode, http.StatusTooManyRequests; got != want {
		t.Fatalf("41st call: got status %d, want %d", got, want)
	}
	if got, want := resp.Header.Get("Retry-After"), "2.0"; got != want {
		t.Errorf("Retry-After: got %q, want %q", got, want)
	}
	if got, want := string(body), `{"errors":"Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."}`; got != want {
		t.Errorf("429 body: got %s, want %s", got, want)
	}
	if got, want := resp.Header.Get("X-Shopify-Shop-Api-Call-Limit"), "40/40"; got != want {
		t.Errorf("call limit header on 429: got %q, want %q", got, want)
	}
	if got := len(s.Webhooks()); got != 0 {
		t.Errorf("webhooks after a refused create: got %d, want 0", got)
	}
	if got, want := s.RateLimited(), 1; got != want {
		t.Errorf("RateLimited: got %d, want %d", got, want)
	}

	// One second drains two calls' worth.
	clock.Advance(time.Second)
	for i := range 2 {
		if resp, _ := api(t, s, http.MethodGet, "shop.json", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("call %d after 1s: got status %d, want 200", i+1, resp.StatusCode)
		}
	}
	if resp, _ := api(t, s, http.MethodGet, "shop.json", nil); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third call after 1s: got status %d, want 429", resp.StatusCode)
	}
	if got, want := s.RateLimited(), 2; got != want {
		t.Errorf("RateLimited: got %d, want %d", got, want)
	}

	// Raising the limit at runtime keeps what is in the bucket.
	s.SetBucket(400, 20)
	resp, _ = api(t, s, http.MethodGet, "shop.json", nil)
	if got, want := resp.Header.Get("X-Shopify-Shop-Api-Call-Limit"), "41/400"; got != want {
		t.Errorf("after SetBucket(400, 20): got %q, want %q", got, want)
	}
	// Disabling it lets any burst through.
	s.SetBucket(0, 0)
	for i := range 500 {
		if resp, _ := api(t, s, http.MethodGet, "shop.json", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("unlimited call %d: got status %d, want 200", i+1, resp.StatusCode)
		}
	}
	if got, want := s.RateLimited(), 2; got != want {
		t.Errorf("RateLimited after unlimited burst: got %d, want %d", got, want)
	}
}

func TestCallLimitUnlimitedAndRefusedCallsFree(t *testing.T) {
	clock := newTestClock()
	s := NewServer(Options{Now: clock.Now, BucketSize: 3, LeakRate: 1})
	defer s.Close()

	// Calls refused before the limit (bad token, bad version) cost nothing.
	for range 5 {
		request(t, http.MethodGet, s.URL()+"/admin/api/"+DefaultVersion+"/shop.json", "wrong", nil)
		request(t, http.MethodGet, s.URL()+"/admin/api/2020-01/shop.json", DefaultAccessToken, nil)
	}
	var got []int
	for range 4 {
		resp, _ := api(t, s, http.MethodGet, "shop.json", nil)
		got = append(got, resp.StatusCode)
	}
	if want := []int{200, 200, 200, 429}; !slices.Equal(got, want) {
		t.Errorf("statuses with bucket 3: got %v, want %v", got, want)
	}

	u := NewServer(Options{Unlimited: true})
	defer u.Close()
	for i := range 100 {
		if resp, _ := api(t, u, http.MethodGet, "shop.json", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("unlimited call %d: got status %d, want 200", i+1, resp.StatusCode)
		}
	}
}

func TestFailNext(t *testing.T) {
	s := NewServer(Options{Unlimited: true})
	defer s.Close()
	s.AddOrder(SampleOrder(1))
	s.FailNext(http.MethodGet, "orders/", 503, 2)
	s.FailNext("", "shop.json", 429, 1)

	tests := []struct {
		name     string
		method   string
		resource string
		want     int
	}{
		{"first matching call fails", http.MethodGet, "orders/1.json", 503},
		{"list does not match the prefix", http.MethodGet, "orders.json", 200},
		{"second matching call fails", http.MethodGet, "orders/1/fulfillment_orders.json", 503},
		{"rule used up", http.MethodGet, "orders/1.json", 200},
		{"injected 429", http.MethodGet, "shop.json", 429},
		{"429 rule used up", http.MethodGet, "shop.json", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := api(t, s, tt.method, tt.resource, nil)
			if got := resp.StatusCode; got != tt.want {
				t.Fatalf("status: got %d, want %d (%s)", got, tt.want, body)
			}
			if tt.want == 429 && resp.Header.Get("Retry-After") != "2.0" {
				t.Errorf("Retry-After: got %q, want %q", resp.Header.Get("Retry-After"), "2.0")
			}
		})
	}
	if got, want := s.RateLimited(), 1; got != want {
		t.Errorf("RateLimited: got %d, want %d", got, want)
	}
}

func TestShop(t *testing.T) {
	s := NewServer(Options{Shop: "acme-goods.myshopify.com"})
	defer s.Close()
	resp, body := api(t, s, http.MethodGet, "shop.json", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status: got %d, want 200", resp.StatusCode)
	}
	shop := decode[struct {
		Shop struct {
			Name            string `json:"name"`
			Domain          string `json:"domain"`
			MyshopifyDomain string `json:"myshopify_domain"`
			Currency        string `json:"currency"`
			PlanName        string `json:"plan_name"`
		} `json:"shop"`
	}](t, body).Shop
	if got, want := shop.MyshopifyDomain, "acme-goods.myshopify.com"; got != want {
		t.Errorf("myshopify_domain: got %q, want %q", got, want)
	}
	if shop.Name == "" || shop.Domain == "" || shop.Currency == "" || shop.PlanName == "" {
		t.Errorf("shop has empty fields: %+v", shop)
	}
}
