package cjdropshippingtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dropsync/dropsync/connectors/supplier/suppliertest"
)

var t0 = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

func newServer(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.APIKey == "" {
		opts.APIKey = "CJ1@api@key"
	}
	if opts.Variants == nil {
		opts.Variants = []Variant{{VID: "v1", SKU: "CJ-V1", ProductID: "p1", Price: "4.20", Stock: 3}}
	}
	s := NewServer(opts)
	t.Cleanup(s.Close)
	return s
}

type testEnvelope struct {
	Code    int             `json:"code"`
	Result  bool            `json:"result"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

// call sends one request, with the access token unless it is "", and decodes CJ's
// envelope.
func call(t *testing.T, s *Server, method, path, token string, body any) testEnvelope {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("CJ-Access-Token", token)
	}
	var env testEnvelope
	suppliertest.Call(t, method, s.BaseURL()+path, h, body, &env)
	return env
}

type tokens struct {
	OpenID       json.Number `json:"openId"`
	AccessToken  string      `json:"accessToken"`
	RefreshToken string      `json:"refreshToken"`
}

func TestTokens(t *testing.T) {
	clk := suppliertest.NewClock(t0)
	s := newServer(t, Options{Now: clk.Now, TokenTTL: time.Hour})
	if env := call(t, s, http.MethodPost, "/authentication/getAccessToken", "", map[string]string{"apiKey": "wrong"}); env.Code != codeWrongKey {
		t.Errorf("wrong key: got %+v", env)
	}
	env := call(t, s, http.MethodPost, "/authentication/getAccessToken", "", map[string]string{"apiKey": "CJ1@api@key"})
	var tok tokens
	if env.Code != 200 || json.Unmarshal(env.Data, &tok) != nil || tok.AccessToken == "" || tok.OpenID != "123456789" {
		t.Fatalf("token: got %+v", env)
	}
	if env := call(t, s, http.MethodPost, "/authentication/getAccessToken", "", map[string]string{"apiKey": "CJ1@api@key"}); env.Code != codeTooMany {
		t.Errorf("second token within five minutes: got %+v, want 1600200", env)
	}
	if env := call(t, s, http.MethodGet, "/product/variant/queryByVid?vid=v1", tok.AccessToken, nil); env.Code != 200 {
		t.Errorf("call with the token: got %+v", env)
	}
	clk.Add(time.Hour)
	if env := call(t, s, http.MethodGet, "/product/variant/queryByVid?vid=v1", tok.AccessToken, nil); env.Code != codeInvalidToken {
		t.Errorf("call with an expired token: got %+v, want 1600001", env)
	}
	env = call(t, s, http.MethodPost, "/authentication/refreshAccessToken", "", map[string]string{"refreshToken": tok.RefreshToken})
	var fresh tokens
	if env.Code != 200 || json.Unmarshal(env.Data, &fresh) != nil || fresh.AccessToken == tok.AccessToken || fresh.RefreshToken != tok.RefreshToken {
		t.Fatalf("refresh: got %+v", env)
	}
	s.RefuseRefresh(true)
	if env := call(t, s, http.MethodPost, "/authentication/refreshAccessToken", "", map[string]string{"refreshToken": tok.RefreshToken}); env.Code != codeInvalidRefresh {
		t.Errorf("refused refresh: got %+v, want 1600003", env)
	}
	s.ExpireTokens()
	if env := call(t, s, http.MethodGet, "/product/variant/queryByVid?vid=v1", fresh.AccessToken, nil); env.Code != codeInvalidToken {
		t.Errorf("call after ExpireTokens: got %+v, want 1600001", env)
	}
	if s.TokenRequests() != 1 || s.Refreshes() != 1 {
		t.Errorf("token requests, refreshes: got %d, %d, want 1, 1", s.TokenRequests(), s.Refreshes())
	}
}

func token(t *testing.T, s *Server) string {
	t.Helper()
	env := call(t, s, http.MethodPost, "/authentication/getAccessToken", "", map[string]string{"apiKey": "CJ1@api@key"})
	var tok tokens
	_ = json.Unmarshal(env.Data, &tok)
	return tok.AccessToken
}

func order(num string, payType any) map[string]any {
	return map[string]any{
		"orderNumber": num, "shippingCountryCode": "US", "shippingCountry": "United States", "shippingProvince": "KY",
		"shippingCity": "Town", "shippingCustomerName": "A B", "shippingAddress": "1 Main St", "payType": payType,
		"logisticName": "CJPacket Ordinary", "fromCountryCode": "CN", "products": []map[string]any{{"vid": "v1", "quantity": 1}},
	}
}

func TestPayTypesAndDelete(t *testing.T) {
	tests := []struct {
		name      string
		payType   any
		status    string
		deletable bool
	}{
		{"balance", 2, StatusUnshipped, false},
		{"create only", 3, StatusCreated, true},
		{"page payment", "", StatusUnpaid, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, Options{})
			tok := token(t, s)
			env := call(t, s, http.MethodPost, "/shopping/order/createOrderV2", tok, order("po-1", tt.payType))
			var created struct {
				OrderID     string `json:"orderId"`
				OrderStatus string `json:"orderStatus"`
			}
			if env.Code != 200 || json.Unmarshal(env.Data, &created) != nil || created.OrderStatus != tt.status {
				t.Fatalf("create: got %+v", env)
			}
			if env := call(t, s, http.MethodPost, "/shopping/order/createOrderV2", tok, order("po-1", tt.payType)); env.Code != codeOrderExists {
				t.Errorf("second create with the number: got %+v, want 1603003", env)
			}
			env = call(t, s, http.MethodDelete, "/shopping/order/deleteOrder?orderId="+created.OrderID, tok, nil)
			if (env.Code == 200) != tt.deletable {
				t.Errorf("delete: got %+v, want deletable %v", env, tt.deletable)
			}
			env = call(t, s, http.MethodGet, "/shopping/order/getOrderDetail?orderId=po-1", tok, nil)
			var o Order
			if env.Code != 200 || json.Unmarshal(env.Data, &o) != nil || o.OrderID != created.OrderID {
				t.Errorf("detail by order number: got %+v", env)
			}
		})
	}
}

func TestStockAndPace(t *testing.T) {
	s := newServer(t, Options{MinInterval: time.Hour})
	tok := token(t, s)
	if env := call(t, s, http.MethodGet, "/product/stock/queryByVid?vid=v1", tok, nil); env.Code != codeTooMany {
		t.Errorf("second call within the interval: got %+v, want 1600200", env)
	}
	if s.RateLimited() != 1 {
		t.Errorf("rate limited: got %d, want 1", s.RateLimited())
	}
}

func TestAutoShipSigned(t *testing.T) {
	got := make(chan []byte, 2)
	sigs := make(chan string, 2)
	queries := make(chan string, 2)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- b
		sigs <- r.Header.Get("Sign")
		queries <- r.URL.RawQuery
	}))
	t.Cleanup(hook.Close)
	s := newServer(t, Options{WebhookURL: hook.URL + "/webhooks/suppliers/cj?tenant=7", WebhookSecret: "s3cret",
		AutoShip: &AutoShip{After: 10 * time.Millisecond}})
	tok := token(t, s)
	call(t, s, http.MethodPost, "/shopping/order/createOrderV2", tok, order("po-9", 2))
	select {
	case body := <-got:
		if sig := <-sigs; sig != Sign(s.OpenID(), body) {
			t.Errorf("sign: got %q, want the body's signature", sig)
		}
		if q := <-queries; q != "tenant=7&token=s3cret" {
			t.Errorf("callback query: got %q, want the URL's own and the webhook secret", q)
		}
		var m struct {
			Type   string `json:"type"`
			Params struct {
				OrderNumber string `json:"orderNumber"`
				OrderStatus string `json:"orderStatus"`
				TrackNumber string `json:"trackNumber"`
			} `json:"params"`
		}
		if json.Unmarshal(body, &m) != nil || m.Type != "ORDER" || m.Params.OrderNumber != "po-9" ||
			m.Params.OrderStatus != StatusShipped || m.Params.TrackNumber == "" {
			t.Errorf("message: got %s", body)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no ORDER message")
	}
}

// TestUnpaidNext: a balance that does not cover the order leaves it created and UNPAID, with
// or without an error code; it ships only once paid.
func TestUnpaidNext(t *testing.T) {
	tests := []struct {
		name string
		code int
	}{
		{"created unpaid", 0},
		{"balance insufficient", codeBalance},
		{"payment failed", codeOrderPayFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newServer(t, Options{})
			tok := token(t, s)
			s.UnpaidNext(1, tt.code)
			env := call(t, s, http.MethodPost, "/shopping/order/createOrderV2", tok, order("po-3", 2))
			var created struct {
				OrderStatus string `json:"orderStatus"`
				CJPayURL    string `json:"cjPayUrl"`
			}
			switch {
			case tt.code != 0 && env.Code != tt.code:
				t.Errorf("create: got %+v, want code %d", env, tt.code)
			case tt.code == 0 && (env.Code != 200 || json.Unmarshal(env.Data, &created) != nil || created.OrderStatus != StatusUnpaid || created.CJPayURL == ""):
				t.Errorf("create: got %+v, want the unpaid order with its pay URL", env)
			}
			o, ok := s.Order("po-3")
			if !ok || o.OrderStatus != StatusUnpaid || o.PaymentDate != "" {
				t.Fatalf("order: got %+v, %v, want it held unpaid", o, ok)
			}
			if s.Created() != 1 {
				t.Errorf("created: got %d, want 1", s.Created())
			}
			if err := s.Ship("po-3"); err == nil {
				t.Error("ship unpaid: got no error")
			}
			if env := call(t, s, http.MethodGet, "/product/stock/queryByVid?vid=v1", tok, nil); !strings.Contains(string(env.Data), `"storageNum":3`) {
				t.Errorf("stock after an unpaid order: got %s, want 3 left", env.Data)
			}
			// Paid in CJ's dashboard, it ships; the next create pays again.
			if err := s.SetStatus("po-3", StatusUnshipped); err != nil {
				t.Fatal(err)
			}
			if err := s.Ship("po-3"); err != nil {
				t.Errorf("ship once paid: %v", err)
			}
			env = call(t, s, http.MethodPost, "/shopping/order/createOrderV2", tok, order("po-4", 2))
			if env.Code != 200 || json.Unmarshal(env.Data, &created) != nil || created.OrderStatus != StatusUnshipped {
				t.Errorf("next create: got %+v, want it paid", env)
			}
		})
	}
}

func TestFailNextRateLimit(t *testing.T) {
	s := newServer(t, Options{})
	tok := token(t, s)
	s.FailNext(1, http.StatusTooManyRequests)
	var env testEnvelope
	_, h := suppliertest.Call(t, http.MethodPost, s.BaseURL()+PlacePath, http.Header{"CJ-Access-Token": {tok}}, order("po-5", 2), &env)
	if env.Code != codeTooMany || h.Get("Retry-After") != strconv.Itoa(RetryAfterSeconds) {
		t.Errorf("rate limited create: got %+v with Retry-After %q, want 1600200 with %d", env, h.Get("Retry-After"), RetryAfterSeconds)
	}
	if got := len(s.PlaceRequests()); got != 1 || s.PlaceCount() != 1 || s.Created() != 0 {
		t.Errorf("place requests, count, created: got %d, %d, %d, want 1, 1, 0", got, s.PlaceCount(), s.Created())
	}
}
