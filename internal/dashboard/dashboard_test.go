package dashboard_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/dropsync/dropsync/internal/dashboard"
	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/redistest"
	"github.com/dropsync/dropsync/jobs"
)

const token = "dashboard-test-token-0123456789"

// newRedis returns a client on a Redis database of the test's own.
func newRedis(t *testing.T) redis.UniversalClient {
	t.Helper()
	opt, err := redis.ParseURL(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// serve starts the dashboard the way dropsync mounts it, under /monitoring/.
func serve(t *testing.T, rdb redis.UniversalClient, readOnly bool) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/monitoring/", dashboard.New(dashboard.Options{
		RootPath: "/monitoring", Redis: rdb, Token: token, ReadOnly: readOnly,
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

type reply struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, method, url string, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func errorCode(t *testing.T, body string) string {
	t.Helper()
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", body, err)
	}
	if e.Error.Message == "" {
		t.Errorf("error body %q has no message", body)
	}
	return e.Error.Code
}

func TestAuth(t *testing.T) {
	rdb := newRedis(t)
	srv := serve(t, rdb, false)
	paths := map[string]string{
		"ui index":    "/monitoring/",
		"ui route":    "/monitoring/queues/intake",
		"ui asset":    "/monitoring/favicon.ico",
		"ui manifest": "/monitoring/manifest.json",
		"api":         "/monitoring/api/queues",
		"api servers": "/monitoring/api/servers",
	}
	creds := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{name: "no token", want: http.StatusUnauthorized},
		{name: "wrong bearer", header: map[string]string{"Authorization": "Bearer not-the-token"}, want: http.StatusUnauthorized},
		{name: "wrong basic password", header: map[string]string{"Authorization": basic("ops", "not-the-token")}, want: http.StatusUnauthorized},
		{name: "token as basic user name", header: map[string]string{"Authorization": basic(token, "")}, want: http.StatusUnauthorized},
		{name: "token with a suffix", header: map[string]string{"Authorization": "Bearer " + token + "x"}, want: http.StatusUnauthorized},
		{name: "bearer", header: map[string]string{"Authorization": "Bearer " + token}, want: http.StatusOK},
		{name: "basic with any user", header: map[string]string{"Authorization": basic("ops", token)}, want: http.StatusOK},
		{name: "basic with empty user", header: map[string]string{"Authorization": basic("", token)}, want: http.StatusOK},
	}
	for pname, path := range paths {
		for _, c := range creds {
			t.Run(pname+"/"+c.name, func(t *testing.T) {
				r := do(t, "GET", srv.URL+path, c.header)
				if got, want := r.status, c.want; got != want {
					t.Fatalf("GET %s status %d, want %d (body %.200q)", path, got, want, r.body)
				}
				if c.want != http.StatusUnauthorized {
					return
				}
				if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Basic") {
					t.Errorf("WWW-Authenticate %q, want Basic", got)
				}
				if got, want := errorCode(t, r.body), "unauthorized"; got != want {
					t.Errorf("error code %q, want %q", got, want)
				}
			})
		}
	}
}

func TestEmptyTokenRefusesEverything(t *testing.T) {
	rdb := newRedis(t)
	mux := http.NewServeMux()
	mux.Handle("/monitoring/", dashboard.New(dashboard.Options{RootPath: "/monitoring", Redis: rdb}))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for name, h := range map[string]map[string]string{
		"no header":   nil,
		"empty basic": {"Authorization": basic("ops", "")},
		"empty bear":  {"Authorization": "Bearer "},
	} {
		t.Run(name, func(t *testing.T) {
			if got, want := do(t, "GET", srv.URL+"/monitoring/api/queues", h).status, http.StatusUnauthorized; got != want {
				t.Errorf("status %d, want %d", got, want)
			}
		})
	}
}

// customerSale is an order with every kind of customer data a storefront sends.
func customerSale() *dropsync.Sale {
	at := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	addr := &dropsync.Address{FirstName: "Henrietta", LastName: "Vanderbloom", Name: "Henrietta Vanderbloom",
		Company: "Bloomworks Ltd", Address1: "742 Quillfeather Lane", Address2: "Flat 9", City: "Tillingbourne",
		Province: "Surrey", Zip: "GU5 0QX", Country: "United Kingdom", CountryCode: "GB", Phone: "+44 7700 900123"}
	return &dropsync.Sale{
		Shop: "redact-store.myshopify.com", ID: 820982911946154508, Name: "#1042",
		CreatedAt: at, UpdatedAt: at, FinancialStatus: "paid", Currency: "GBP",
		CustomerID: 207119551, Email: "henrietta.v@example.org", Phone: "+44 7700 900456",
		ShippingAddress: addr, BillingAddress: addr, Note: "Ring the bell twice, Henrietta",
		Tags: "vip-henrietta",
		Lines: []dropsync.Line{{
			ID: 466157049, VariantID: 39072856, SKU: "MUG-ENGRAVED-11OZ", Title: "Engraved mug",
			Quantity: 2, CurrentQuantity: 2, FulfillableQuantity: 2, Price: decimal.RequireFromString("18.50"),
			Properties: []dropsync.Property{{Name: "Engraving", Value: "To Bartholomew, forever yours"}},
		}},
		TotalPrice: decimal.RequireFromString("37.00"),
	}
}

// personal are the customer's data in customerSale: none may show.
var personal = []string{"Henrietta", "Vanderbloom", "Bloomworks", "Quillfeather", "Flat 9", "Tillingbourne",
	"GU5 0QX", "7700", "henrietta.v@example.org", "Ring the bell", "vip-henrietta", "Bartholomew", "207119551"}

// shown are the task's non-personal fields an operator needs.
var shown = []string{"redact-store.myshopify.com", "820982911946154508", "orders/create", "MUG-ENGRAVED-11OZ",
	`"quantity":2`, `"total_price":"37"`, "#1042", "GBP", "paid"}

func ingestTask(t *testing.T) *asynq.Task {
	t.Helper()
	task, err := jobs.NewIngestTask(dropsync.StorefrontEvent{
		Shop: "redact-store.myshopify.com", Topic: dropsync.TopicOrdersCreate, WebhookID: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
		Source: dropsync.SourceWebhook, ReceivedAt: time.Date(2026, 3, 14, 9, 27, 0, 0, time.UTC), Sale: customerSale(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return task
}

func checkRedacted(t *testing.T, out string) {
	t.Helper()
	for _, p := range personal {
		if strings.Contains(out, p) {
			t.Errorf("output shows customer data %q:\n%s", p, out)
		}
	}
	for _, s := range shown {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	if !strings.Contains(out, dashboard.Redacted) {
		t.Errorf("output has no %q marker:\n%s", dashboard.Redacted, out)
	}
}

func TestRedactIngestPayload(t *testing.T) {
	task := ingestTask(t)
	// The payload really holds the data this test expects to disappear.
	for _, p := range personal {
		if !strings.Contains(string(task.Payload()), p) {
			t.Fatalf("fixture payload lacks %q; the test would prove nothing", p)
		}
	}
	checkRedacted(t, dashboard.Redact(task.Payload()))
}

// TestRedactThroughDashboard reads a queued ingest task through the dashboard's API, the way
// the UI does, so the formatters are proven wired, not only written.
func TestRedactThroughDashboard(t *testing.T) {
	rdb := newRedis(t)
	client := asynq.NewClientFromRedisClient(rdb)
	if _, err := client.Enqueue(ingestTask(t)); err != nil {
		t.Fatal(err)
	}
	srv := serve(t, rdb, false)
	auth := map[string]string{"Authorization": "Bearer " + token}
	for name, path := range map[string]string{
		"pending list": "/monitoring/api/queues/intake/pending_tasks",
		"task detail":  "/monitoring/api/queues/intake/tasks/ingest:redact-store.myshopify.com:wh:b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
	} {
		t.Run(name, func(t *testing.T) {
			r := do(t, "GET", srv.URL+path, auth)
			if r.status != http.StatusOK {
				t.Fatalf("GET %s status %d: %s", path, r.status, r.body)
			}
			// The API wraps the payload in a JSON string; unquote it to compare plainly.
			var v any
			if err := json.Unmarshal([]byte(r.body), &v); err != nil {
				t.Fatal(err)
			}
			checkRedacted(t, strings.Join(jsonStrings(v), "\n"))
		})
	}
}

// jsonStrings lists every string in a decoded JSON value.
func jsonStrings(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, e := range t {
			out = append(out, jsonStrings(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, e := range t {
			out = append(out, jsonStrings(e)...)
		}
		return out
	}
	return nil
}

func TestRedact(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want string
	}{
		{name: "empty", in: "", want: ""},
		{name: "not json", in: "Henrietta\x00\x01", want: "[11 bytes, not JSON: not shown]"},
		{name: "json with trailing text", in: `{"shop":"a"} Henrietta`, want: "[22 bytes, not JSON: not shown]"},
		{name: "bare string", in: `"henrietta.v@example.org"`, want: `"[redacted]"`},
		{name: "new field hidden by default", in: `{"shop":"a","loyalty_nickname":"Hen"}`, want: `{"loyalty_nickname":"[redacted]","shop":"a"}`},
		{name: "unknown object hidden whole", in: `{"customer":{"id":1,"email":"h@example.org"}}`, want: `{"customer":"[redacted]"}`},
		{name: "unknown array hidden whole", in: `{"orders_to_redact":[1,2]}`, want: `{"orders_to_redact":"[redacted]"}`},
		{name: "null kept", in: `{"note":null}`, want: `{"note":null}`},
		{name: "key spellings", in: `{"OrderID":7,"orderId":8,"po_id":"p"}`, want: `{"OrderID":7,"orderId":8,"po_id":"p"}`},
		{name: "numbers keep precision", in: `{"amount":12345678901234567890.01}`, want: `{"amount":12345678901234567890.01}`},
		{name: "tracking event", in: `{"Supplier":"acme","Ref":{"ID":"A-1","ExternalID":"s-1-acme"},"Order":{"status":"shipped","shipments":[{"carrier":"DHL","tracking_number":"JJD000","items":[{"sku":"X","quantity":1}]}]}}`,
			want: `{"Order":{"shipments":[{"carrier":"DHL","items":[{"quantity":1,"sku":"X"}],"tracking_number":"[redacted]"}],"status":"shipped"},"Ref":{"ExternalID":"s-1-acme","ID":"A-1"},"Supplier":"acme"}`},
		{name: "line properties", in: `{"lines":[{"sku":"M","properties":[{"name":"Engraving","value":"Bartholomew"}]}]}`,
			want: `{"lines":[{"properties":"[redacted]","sku":"M"}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := dashboard.Redact([]byte(c.in)); got != c.want {
				t.Errorf("Redact(%q)\n got %s\nwant %s", c.in, got, c.want)
			}
		})
	}
}

func TestWrites(t *testing.T) {
	rdb := newRedis(t)
	client := asynq.NewClientFromRedisClient(rdb)
	if _, err := client.Enqueue(asynq.NewTask("order:verify", []byte(`{}`)), asynq.Queue("intake")); err != nil {
		t.Fatal(err)
	}
	inspector := asynq.NewInspectorFromRedisClient(rdb)
	paused := func() bool {
		t.Helper()
		qi, err := inspector.GetQueueInfo("intake")
		if err != nil {
			t.Fatal(err)
		}
		return qi.Paused
	}
	readWrite := serve(t, rdb, false)
	readOnly := serve(t, rdb, true)
	auth := "Bearer " + token
	host := strings.TrimPrefix(readWrite.URL, "http://")
	cases := []struct {
		name       string
		srv        *httptest.Server
		method     string
		path       string
		header     map[string]string
		want       int
		wantCode   string
		wantPaused bool
	}{
		{name: "read-only refuses delete", srv: readOnly, method: "DELETE", path: "/monitoring/api/queues/intake",
			header: map[string]string{"Authorization": auth, "Origin": readOnly.URL}, want: http.StatusForbidden, wantCode: "forbidden"},
		{name: "read-only refuses pause", srv: readOnly, method: "POST", path: "/monitoring/api/queues/intake:pause",
			header: map[string]string{"Authorization": auth, "Origin": readOnly.URL}, want: http.StatusForbidden, wantCode: "forbidden"},
		{name: "read-only still reads", srv: readOnly, method: "GET", path: "/monitoring/api/queues/intake",
			header: map[string]string{"Authorization": auth}, want: http.StatusOK},
		{name: "auth before origin", srv: readWrite, method: "POST", path: "/monitoring/api/queues/intake:pause",
			header: map[string]string{"Origin": "https://evil.example"}, want: http.StatusUnauthorized, wantCode: "unauthorized"},
		{name: "cross-origin post", srv: readWrite, method: "POST", path: "/monitoring/api/queues/intake:pause",
			header: map[string]string{"Authorization": auth, "Origin": "https://evil.example"}, want: http.StatusForbidden, wantCode: "forbidden"},
		{name: "cross-origin same host other port", srv: readWrite, method: "POST", path: "/monitoring/api/queues/intake:pause",
			header: map[string]string{"Authorization": auth, "Origin": "http://127.0.0.1:1"}, want: http.StatusForbidden, wantCode: "forbidden"},
		{name: "null origin", srv: readWrite, method: "POST", path: "/monitoring/api/queues/intake:pause",
			header: map[string]string{"Authorization": auth, "Origin": "null"}, want: http.StatusForbidden, wantCode: "forbidden"},
		{name: "cross-site referer", srv: readWrite, method: "DELETE", path: "/monitoring/api/queues/intake",
			header: map[string]string{"Authorization": auth, "Referer": "https://evil.example/monitoring/"}, want: http.StatusForbidden, wantCode: "forbidden"},
		{name: "no origin nor referer", srv: readWrite, method: "POST", path: "/monitoring/api/queues/intake:pause",
			header: map[string]string{"Authorization": auth}, want: http.StatusForbidden, wantCode: "forbidden"},
		{name: "same-origin post", srv: readWrite, method: "POST", path: "/monitoring/api/queues/intake:pause",
			header: map[string]string{"Authorization": auth, "Origin": readWrite.URL}, want: http.StatusNoContent, wantPaused: true},
		{name: "same-origin referer", srv: readWrite, method: "POST", path: "/monitoring/api/queues/intake:resume",
			header: map[string]string{"Authorization": auth, "Referer": "http://" + host + "/monitoring/queues/intake"}, want: http.StatusNoContent},
	}
	// The cases run in order: only the two same-origin ones may change the queue.
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, c.method, c.srv.URL+c.path, c.header)
			if r.status != c.want {
				t.Fatalf("%s %s status %d, want %d (body %.200q)", c.method, c.path, r.status, c.want, r.body)
			}
			if c.wantCode != "" {
				if got := errorCode(t, r.body); got != c.wantCode {
					t.Errorf("error code %q, want %q", got, c.wantCode)
				}
			}
			if got := paused(); got != c.wantPaused {
				t.Errorf("queue paused %v after the request, want %v", got, c.wantPaused)
			}
		})
	}
	if qs, err := inspector.Queues(); err != nil || len(qs) != 1 {
		t.Errorf("queues after the refused deletes: %v, %v; want [intake]", qs, err)
	}
}
