package cjdropshipping

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/connectors/supplier/suppliertest"
	"github.com/dropsync/dropsync/internal/dropsync"
)

// stub is a CJ that issues tokens and answers order creation with one reply, after finding
// no order by its number: a CJ that misbehaves in ways the fake does not.
func stub(t *testing.T, status int, header map[string]string, body string) string {
	t.Helper()
	answer := suppliertest.Answer(status, header, body)
	return suppliertest.Stub(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/authentication/getAccessToken"):
			_, _ = w.Write([]byte(`{"code":200,"result":true,"message":"Success","data":{"openId":1,"accessToken":"a1",
				"accessTokenExpiryDate":"2026-12-13T18:00:00+08:00","refreshToken":"r1","refreshTokenExpiryDate":"2027-05-27T18:00:00+08:00"}}`))
		case strings.HasSuffix(r.URL.Path, "/getOrderDetail"):
			_, _ = w.Write([]byte(`{"code":1600300,"result":false,"message":"order not found","data":null}`))
		default:
			answer(w, r)
		}
	}) + "/api2.0/v1"
}

func cjError(code int, msg string) string {
	return fmt.Sprintf(`{"code":%d,"result":false,"message":%q,"data":null,"requestId":"r-1"}`, code, msg)
}

func TestReplies(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     map[string]string
		body       string
		code       string
		reason     string
		retryAfter time.Duration
	}{
		{name: "variant not found", status: 200, body: cjError(1602000, "Variant not found: "+vidMug), code: dropsync.EPERMANENT, reason: dropsync.ReasonUnknownSKU},
		{name: "variant off shelf", status: 200, body: cjError(1602003, "Variant has been removed from shelves"), code: dropsync.EPERMANENT, reason: dropsync.ReasonOutOfStock},
		{name: "logistic invalid for the route", status: 200, body: cjError(1605001, "Logistic invalid, please reference freight calculate."), code: dropsync.EPERMANENT, reason: dropsync.ReasonUnsupportedCountry},
		{name: "country code unknown", status: 200, body: cjError(1605002, "country code not found"), code: dropsync.EPERMANENT, reason: dropsync.ReasonInvalidAddress},
		{name: "address field quoted", status: 200, body: cjError(16900403, "shippingAddress can not be empty for Steve Shipper, 123 Shipping Street"), code: dropsync.EPERMANENT, reason: dropsync.ReasonInvalidAddress},
		{name: "other parameter", status: 200, body: cjError(1600300, "Param error"), code: dropsync.EINVALID},
		{name: "logistic unknown", status: 200, body: cjError(1605000, "Logistic not found"), code: dropsync.EINVALID},
		{name: "balance", status: 200, body: cjError(1604000, "Balance is insufficient"), code: dropsync.EUNAVAILABLE},
		{name: "system busy", status: 200, body: cjError(1600000, "System busy"), code: dropsync.EUNAVAILABLE},
		{name: "too many", status: 200, body: cjError(1600200, "Too much request"), code: dropsync.ERATELIMITED, retryAfter: time.Second},
		{name: "quota used up", status: 200, body: cjError(1600201, "Quota has been used up"), code: dropsync.ERATELIMITED, retryAfter: time.Hour},
		{name: "http 429 with Retry-After", status: 429, header: map[string]string{"Retry-After": "7"}, code: dropsync.ERATELIMITED, retryAfter: 7 * time.Second},
		{name: "http 502 html", status: 502, body: "<html>bad gateway</html>", code: dropsync.EUNAVAILABLE},
		{name: "credentials", status: 200, body: cjError(1600004, "Authorization failed, Please check cj account"), code: dropsync.EUNAUTHORIZED},
		{name: "unknown code", status: 200, body: cjError(1699999, "Something new"), code: dropsync.EINVALID},
		{name: "malformed success", status: 200, body: `{"code":200,"result":true,"data":{"orderId":`, code: dropsync.EUNAVAILABLE},
		{name: "interface offline", status: 200, body: cjError(1600100, "Interface is offline"), code: dropsync.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSupplier(testConfig(stub(t, tt.status, tt.header, tt.body)), NewMemoryTokenStore(), fixedNow)
			req := order("example.myshopify.com-30-cj")
			req.Items = req.Items[1:] // one item: a refusal names it
			_, err := s.PlaceOrder(context.Background(), req)
			checkErr(t, err, tt.code, tt.reason)
			if got, _ := dropsync.RetryAfter(err); got != tt.retryAfter {
				t.Errorf("RetryAfter: got %v, want %v", got, tt.retryAfter)
			}
			if tt.code == dropsync.EPERMANENT && tt.reason != dropsync.ReasonInvalidAddress && tt.reason != dropsync.ReasonUnsupportedCountry {
				if got := dropsync.RefusedSKU(err); got != vidMug {
					t.Errorf("refused sku: got %q, want %q", got, vidMug)
				}
			}
		})
	}
}

func TestBadBaseURL(t *testing.T) {
	for _, base := range []string{"developers.cjdropshipping.com", "ftp://x.example", "http://"} {
		t.Run(base, func(t *testing.T) {
			s := newSupplier(testConfig(base), nil, fixedNow)
			_, err := s.GetOrder(context.Background(), dropsync.SupplierOrderRef{ID: "1"})
			checkErr(t, err, dropsync.EINVALID, "")
		})
	}
	s := New(Config{ID: "cj"}, nil, nil, nil, zerolog.Nop())
	if got, want := s.endpoint("shopping/order/getOrderDetail", nil), DefaultBaseURL+"/shopping/order/getOrderDetail"; got != want {
		t.Errorf("default endpoint: got %q, want %q", got, want)
	}
	if s.interval != DefaultInterval || s.cfg.FromCountry != "CN" {
		t.Errorf("defaults: interval %v from %q, want 1s from CN", s.interval, s.cfg.FromCountry)
	}
}

func TestNoLogisticName(t *testing.T) {
	cfg := testConfig("https://cj.example")
	cfg.LogisticName = ""
	_, err := newSupplier(cfg, nil, fixedNow).PlaceOrder(context.Background(), order("example.myshopify.com-31-cj"))
	checkErr(t, err, dropsync.EINVALID, "")
}

// TestRefusalEchoesWhatWasSent: CJ quotes the fields as it got them, which is not always as
// the purchase order has them (a compacted phone, the company joined to the second address
// line), and in any case: none of it reaches the error.
func TestRefusalEchoesWhatWasSent(t *testing.T) {
	req := order("example.myshopify.com-24-cj")
	a := &req.ShippingAddress
	a.Phone, a.Company, a.Address2 = "+1 (555) 555-0100 ext. 12", "Tea & Co Ltd", "Unit 5"
	msg := "shippingPhone +1555555010012 is invalid for TEA & CO LTD, UNIT 5 (steve SHIPPER, shippington)"
	s := newSupplier(testConfig(stub(t, 200, nil, cjError(16900403, msg))), NewMemoryTokenStore(), fixedNow)
	_, err := s.PlaceOrder(context.Background(), req)
	checkErr(t, err, dropsync.EPERMANENT, dropsync.ReasonInvalidAddress)
	got := strings.ToLower(dropsync.ErrorMessage(err))
	for _, pii := range []string{"1555555010012", "tea & co", "unit 5", "steve", "shipper", "shippington"} {
		if strings.Contains(got, pii) {
			t.Errorf("error message %q holds %q", got, pii)
		}
	}
	if !strings.Contains(got, "shippingphone") {
		t.Errorf("error message %q lost CJ's words", got)
	}
}
