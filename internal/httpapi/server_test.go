package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/internal/config"
	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/httpapi"
	"github.com/dropsync/dropsync/internal/invoice"
	"github.com/dropsync/dropsync/internal/redisstore"
)

const (
	shop  = "api-test.myshopify.com"
	token = "api-test-admin-token-0123"
)

type fakeDeps struct{ pingErr error }

func (fakeDeps) Order(_ context.Context, s string, id int64) (dropsync.Order, error) {
	if id != 1 {
		return dropsync.Order{}, dropsync.Errorf(dropsync.ENOTFOUND, "no order %d", id)
	}
	return dropsync.Order{Sale: dropsync.Sale{Shop: s, ID: 1, Name: "#1001", Currency: "USD"}, State: dropsync.StateHeld,
		HoldReason: "payment: order is pending", Holds: []dropsync.Hold{{Rule: "payment", Reason: "order is pending"}}}, nil
}
func (f fakeDeps) Orders(ctx context.Context, s string, st dropsync.OrderState, limit int) ([]dropsync.Order, error) {
	o, _ := f.Order(ctx, s, 1)
	return []dropsync.Order{o}, nil
}
func (fakeDeps) Mappings(context.Context, string) ([]dropsync.Mapping, error) { return nil, nil }
func (fakeDeps) ReplaceMappings(context.Context, string, []dropsync.Mapping) (int64, error) {
	return 1, nil
}
func (f fakeDeps) Release(ctx context.Context, s string, id int64, override bool, note string) (dropsync.Order, error) {
	return f.Order(ctx, s, id)
}
func (fakeDeps) Invoice(context.Context, string) (invoice.Invoice, error) {
	return invoice.Invoice{}, dropsync.Errorf(dropsync.ENOTFOUND, "no invoice")
}
func (fakeDeps) Export(context.Context, string, int64) (redisstore.DataExport, error) {
	return redisstore.DataExport{}, dropsync.Errorf(dropsync.ENOTFOUND, "no export")
}
func (fakeDeps) Exports(context.Context, string) ([]int64, error) { return nil, nil }
func (f fakeDeps) Ping(context.Context) error                     { return f.pingErr }

func newServer(t *testing.T, deps fakeDeps) *httptest.Server {
	t.Helper()
	cfg, err := config.Parse([]byte(`admin: {token: `+token+`}
shops:
  - domain: `+shop+`
    access_token: x
    webhook_secret: y
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	api := httpapi.New(cfg, httpapi.Deps{Orders: deps, Mappings: deps, Releaser: deps, Invoices: deps,
		Exports: deps, Redis: deps}, zerolog.Nop())
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return srv
}

// Every admin route refuses a request without the admin token, and answers JSON errors.
func TestAdminRoutesNeedTheToken(t *testing.T) {
	srv := newServer(t, fakeDeps{})
	routes := []struct{ method, path string }{
		{"GET", "/api/v1/shops/" + shop + "/orders"},
		{"GET", "/api/v1/shops/" + shop + "/orders?state=held"},
		{"GET", "/api/v1/shops/" + shop + "/orders/1"},
		{"POST", "/api/v1/shops/" + shop + "/orders/1/release"},
		{"GET", "/api/v1/shops/" + shop + "/mappings"},
		{"PUT", "/api/v1/shops/" + shop + "/mappings"},
		{"GET", "/api/v1/invoices/INV-2026-000001"},
		{"GET", "/api/v1/invoices/INV-2026-000001.pdf"},
		{"GET", "/api/v1/shops/" + shop + "/data-requests"},
		{"GET", "/api/v1/shops/" + shop + "/data-requests/1"},
		{"GET", "/api/v1/nothing-here"},
	}
	for _, r := range routes {
		for _, auth := range []struct {
			name, header string
			want         bool
		}{
			{"none", "", false},
			{"wrong bearer", "Bearer nope", false},
			{"token as user name", basic(token, ""), false},
			{"bearer", "Bearer " + token, true},
			{"basic password", basic("anyone", token), true},
		} {
			req, _ := http.NewRequest(r.method, srv.URL+r.path, strings.NewReader(""))
			if auth.header != "" {
				req.Header.Set("Authorization", auth.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body httpapi.ErrorBody
			json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			if got := resp.StatusCode == 401; got == auth.want {
				t.Errorf("%s %s with %s: status %d", r.method, r.path, auth.name, resp.StatusCode)
			}
			if resp.StatusCode >= 400 && body.Error.Code == "" {
				t.Errorf("%s %s with %s: %d without a JSON error body", r.method, r.path, auth.name, resp.StatusCode)
			}
		}
	}
}

func basic(user, pass string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

func TestErrorsAreJSONWithFittingStatus(t *testing.T) {
	srv := newServer(t, fakeDeps{pingErr: errors.New("connection refused")})
	for _, tc := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/no/such/path", 404, "not_found"},
		{"GET", "/api/v1/shops/unknown.myshopify.com/orders/1", 404, "not_found"},
		{"GET", "/api/v1/shops/" + shop + "/orders/2", 404, "not_found"},
		{"GET", "/api/v1/shops/" + shop + "/orders?state=bogus", 400, "invalid"},
		{"GET", "/api/v1/shops/" + shop + "/orders?limit=0", 400, "invalid"},
		{"DELETE", "/api/v1/shops/" + shop + "/orders/1", 405, "method_not_allowed"},
		{"POST", "/api/v1/shops/" + shop + "/orders/1/release", 200, ""},
		{"GET", "/readyz", 503, "unavailable"},
		{"GET", "/healthz", 200, ""},
		{"POST", "/webhooks/suppliers/nobody", 404, "not_found"},
	} {
		req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body httpapi.ErrorBody
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || body.Error.Code != tc.code {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, resp.StatusCode, body.Error.Code, tc.status, tc.code)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s %s: content type %q", tc.method, tc.path, ct)
		}
	}
}
