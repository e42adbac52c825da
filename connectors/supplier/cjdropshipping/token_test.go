package cjdropshipping

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dropsync/dropsync/connectors/supplier/cjdropshipping/cjdropshippingtest"
	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/redistest"
)

// placed places one order and returns its ref, so a test starts with a token in the store.
func placed(t *testing.T, s *Supplier, ext string) dropsync.SupplierOrderRef {
	t.Helper()
	so, err := s.PlaceOrder(context.Background(), order(ext))
	if err != nil {
		t.Fatalf("place: %v", err)
	}
	return dropsync.SupplierOrderRef{ID: so.ID, ExternalID: ext}
}

func TestTokenExpiredIsRefreshedOnce(t *testing.T) {
	clk := newClock()
	fake := newFake(t, cjdropshippingtest.Options{Now: clk.Now})
	s := newSupplier(testConfig(fake.BaseURL()), NewMemoryTokenStore(), clk.Now)
	ref := placed(t, s, "example.myshopify.com-1-cj")

	fake.ExpireTokens()
	if _, err := s.GetOrder(context.Background(), ref); err != nil {
		t.Fatalf("get with an expired token: %v", err)
	}
	if got, want := fake.Refreshes(), 1; got != want {
		t.Errorf("refreshes: got %d, want %d", got, want)
	}
	if got, want := fake.TokenRequests(), 1; got != want {
		t.Errorf("token requests with the API key: got %d, want %d", got, want)
	}
	// The renewed token is kept: the next call needs no renewal.
	if _, err := s.GetOrder(context.Background(), ref); err != nil {
		t.Fatalf("get again: %v", err)
	}
	if got := fake.Refreshes(); got != 1 {
		t.Errorf("refreshes after another call: got %d, want 1", got)
	}
}

// TestTokenRefusedAgainIsUnauthorized: CJ refuses the renewed token too. The connector
// renews once and repeats the call once, then gives up: no loop.
func TestTokenRefusedAgainIsUnauthorized(t *testing.T) {
	var calls, refreshes, keys atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/authentication/getAccessToken"):
			keys.Add(1)
			_, _ = w.Write([]byte(`{"code":200,"result":true,"message":"Success","data":{"openId":1,"accessToken":"a1",
				"accessTokenExpiryDate":"2026-12-13T18:00:00+08:00","refreshToken":"r1","refreshTokenExpiryDate":"2027-05-27T18:00:00+08:00"}}`))
		case strings.HasSuffix(r.URL.Path, "/authentication/refreshAccessToken"):
			refreshes.Add(1)
			_, _ = w.Write([]byte(`{"code":200,"result":true,"message":"Success","data":{"accessToken":"a2",
				"accessTokenExpiryDate":"2026-12-13T18:00:00+08:00","refreshToken":"r1","refreshTokenExpiryDate":"2027-05-27T18:00:00+08:00"}}`))
		default:
			calls.Add(1)
			_, _ = w.Write([]byte(`{"code":1600001,"result":false,"message":"Invalid API key or access token","data":null}`))
		}
	}))
	t.Cleanup(srv.Close)
	s := newSupplier(testConfig(srv.URL), NewMemoryTokenStore(), fixedNow)
	_, err := s.GetOrder(context.Background(), dropsync.SupplierOrderRef{ID: "2507110000180001"})
	checkErr(t, err, dropsync.EUNAUTHORIZED, "")
	if got := [3]int32{keys.Load(), refreshes.Load(), calls.Load()}; got != [3]int32{1, 1, 2} {
		t.Errorf("token requests, refreshes, calls: got %v, want [1 1 2]", got)
	}
}

func TestRefusedRefreshFallsBackToTheKey(t *testing.T) {
	tests := []struct {
		name  string
		after time.Duration // since the first token request
		code  string
		asked int
	}{
		{"five minutes later", 6 * time.Minute, "", 2},
		{"within five minutes", time.Minute, dropsync.ERATELIMITED, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			fake := newFake(t, cjdropshippingtest.Options{Now: clk.Now})
			s := newSupplier(testConfig(fake.BaseURL()), NewMemoryTokenStore(), clk.Now)
			ref := placed(t, s, "example.myshopify.com-2-cj")
			fake.ExpireTokens()
			fake.RefuseRefresh(true)
			clk.Add(tt.after)
			_, err := s.GetOrder(context.Background(), ref)
			if tt.code != "" {
				checkErr(t, err, tt.code, "")
				if got, _ := dropsync.RetryAfter(err); got != 5*time.Minute-tt.after {
					t.Errorf("RetryAfter: got %v, want %v", got, 5*time.Minute-tt.after)
				}
			} else if err != nil {
				t.Fatalf("get: %v", err)
			}
			if got := fake.TokenRequests(); got != tt.asked {
				t.Errorf("token requests with the API key: got %d, want %d", got, tt.asked)
			}
		})
	}
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	clk := newClock()
	fake := newFake(t, cjdropshippingtest.Options{Now: clk.Now})
	store := NewMemoryTokenStore()
	s := newSupplier(testConfig(fake.BaseURL()), store, clk.Now)
	ref := placed(t, s, "example.myshopify.com-3-cj")
	first, _ := store.Load(context.Background())
	if first.OpenID != fake.OpenID() || !first.AccessExpiry.Equal(shipTime.Add(15*24*time.Hour)) || first.AccessExpiry.Location() != time.UTC {
		t.Fatalf("stored token: got open id %q expiry %v", first.OpenID, first.AccessExpiry)
	}

	clk.Add(14*24*time.Hour + 12*time.Hour) // half a day before expiry
	if _, err := s.GetOrder(context.Background(), ref); err != nil {
		t.Fatalf("get: %v", err)
	}
	if got := fake.Refreshes(); got != 1 {
		t.Errorf("refreshes: got %d, want 1", got)
	}
	renewed, _ := store.Load(context.Background())
	if renewed.AccessToken == first.AccessToken || renewed.OpenID != first.OpenID || renewed.RefreshToken != first.RefreshToken {
		t.Errorf("renewed token: got %+v, want a new access token keeping open id and refresh token", redact(renewed))
	}
	// No call was refused: the renewal came first.
	for _, r := range fake.Requests(http.MethodGet, "") {
		if r.Header.Get("CJ-Access-Token") == first.AccessToken && strings.Contains(r.Path, "getOrderDetail") && r.RawQuery == "orderId="+ref.ID {
			t.Errorf("the old token was used after renewal was due")
		}
	}
}

func redact(t Token) Token {
	t.AccessToken, t.RefreshToken = t.AccessToken[:4]+"…", t.RefreshToken[:4]+"…"
	return t
}

func TestWrongKeyIsUnauthorized(t *testing.T) {
	fake := newFake(t, cjdropshippingtest.Options{})
	cfg := testConfig(fake.BaseURL())
	cfg.APIKey = "CJ4711@api@revoked"
	s := newSupplier(cfg, NewMemoryTokenStore(), fixedNow)
	for _, round := range []string{"first", "second, within five minutes"} {
		_, err := s.Inventory(context.Background(), []string{vidTowel})
		checkErr(t, err, dropsync.EUNAUTHORIZED, "")
		if got := len(fake.Requests(http.MethodPost, "/authentication/getAccessToken")); got != 1 {
			t.Errorf("%s: token requests sent: got %d, want 1", round, got)
		}
	}
}

func TestLegacyKeyUsesEmail(t *testing.T) {
	fake := newFake(t, cjdropshippingtest.Options{APIKey: "5c0ffee5c0ffee5c0ffee5c0ffee5c0f", Email: "merchant@example.com"})
	cfg := testConfig(fake.BaseURL())
	cfg.APIKey = "5c0ffee5c0ffee5c0ffee5c0ffee5c0f"
	s := newSupplier(cfg, NewMemoryTokenStore(), fixedNow)
	if _, err := s.Inventory(context.Background(), []string{vidTowel}); err != nil {
		t.Fatalf("inventory: %v", err)
	}
	reqs := fake.Requests(http.MethodPost, "/authentication/getAccessToken")
	var body map[string]string
	if len(reqs) != 1 || json.Unmarshal(reqs[0].Body, &body) != nil || body["email"] != "merchant@example.com" || body["apiKey"] != "" {
		t.Errorf("token request: got %v", body)
	}
}

// TestProcessesShareOneToken starts several connectors on one store, as several dropsync
// processes on one Redis: CJ is asked for one token, whoever asks first.
func TestProcessesShareOneToken(t *testing.T) {
	stores := map[string]func(t *testing.T) []TokenStore{
		"memory": func(t *testing.T) []TokenStore {
			m := NewMemoryTokenStore()
			return []TokenStore{m, m, m, m}
		},
		"redis": func(t *testing.T) []TokenStore {
			url := redistest.URL(t)
			var out []TokenStore
			for range 4 {
				out = append(out, NewRedisTokenStore(clientFor(t, url), "cj"))
			}
			return out
		},
	}
	for name, mk := range stores {
		t.Run(name, func(t *testing.T) {
			fake := newFake(t, cjdropshippingtest.Options{})
			fake.SetDelay(30 * time.Millisecond) // the renewal is in flight while the others look
			var wg sync.WaitGroup
			errs := make([]error, 4)
			for i, st := range mk(t) {
				s := newSupplier(testConfig(fake.BaseURL()), st, fixedNow)
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = s.Inventory(context.Background(), []string{vidMug})
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("process %d: %v", i, err)
				}
			}
			if got := fake.TokenRequests(); got != 1 {
				t.Errorf("token requests: got %d, want 1", got)
			}
		})
	}
}
