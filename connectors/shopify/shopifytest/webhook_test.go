package shopifytest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

func TestWebhookRegistration(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	create := func(topic, address string) (*http.Response, []byte) {
		return api(t, s, http.MethodPost, "webhooks.json", map[string]any{
			"webhook": map[string]string{"topic": topic, "address": address, "format": "json"},
		})
	}

	resp, body := create("orders/create", "https://dropsync.example.com/webhooks/shopify")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: got status %d, want 201 (%s)", resp.StatusCode, body)
	}
	w := decode[struct {
		Webhook Webhook `json:"webhook"`
	}](t, body).Webhook
	if w.ID == 0 || w.Topic != "orders/create" || w.Format != "json" || w.APIVersion != DefaultVersion {
		t.Errorf("created webhook: got %+v", w)
	}

	tests := []struct {
		name       string
		topic      string
		address    string
		wantStatus int
		wantBody   string
	}{
		{"duplicate topic and address", "orders/create", "https://dropsync.example.com/webhooks/shopify", 422,
			`{"errors":{"address":["for this topic has already been taken"]}}`},
		{"same address, other topic", "orders/updated", "https://dropsync.example.com/webhooks/shopify", 201, ""},
		{"same topic, other address", "orders/create", "https://backup.example.com/webhooks/shopify", 201, ""},
		{"loopback http for tests and the demo", "orders/cancelled", "http://127.0.0.1:8080/webhooks/shopify", 201, ""},
		{"plain http elsewhere", "orders/paid", "http://dropsync.example.com/webhooks/shopify", 422, ""},
		{"compliance topic", "customers/redact", "https://dropsync.example.com/webhooks/shopify", 422, ""},
		{"blank topic", "", "https://dropsync.example.com/webhooks/shopify", 422, ""},
		{"blank address", "orders/paid", "", 422, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := create(tt.topic, tt.address)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status: got %d, want %d (%s)", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantBody != "" && string(body) != tt.wantBody {
				t.Errorf("body: got %s, want %s", body, tt.wantBody)
			}
		})
	}

	_, body = api(t, s, http.MethodGet, "webhooks.json", nil)
	listed := decode[struct {
		Webhooks []Webhook `json:"webhooks"`
	}](t, body).Webhooks
	if got, want := len(listed), 4; got != want {
		t.Fatalf("listed webhooks: got %d, want %d", got, want)
	}
	_, body = api(t, s, http.MethodGet, "webhooks.json?topic=orders/create", nil)
	if got := decode[struct {
		Webhooks []Webhook `json:"webhooks"`
	}](t, body).Webhooks; len(got) != 2 {
		t.Errorf("webhooks for orders/create: got %d, want 2", len(got))
	}

	path := "webhooks/" + strconv.FormatInt(w.ID, 10) + ".json"
	if resp, _ := api(t, s, http.MethodDelete, path, nil); resp.StatusCode != http.StatusOK {
		t.Errorf("delete: got status %d, want 200", resp.StatusCode)
	}
	if resp, _ := api(t, s, http.MethodDelete, path, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("delete again: got status %d, want 404", resp.StatusCode)
	}
	if got, want := len(s.Webhooks()), 3; got != want {
		t.Errorf("webhooks after delete: got %d, want %d", got, want)
	}
	// Deleted, the pair may be registered again.
	if resp, body := create("orders/create", "https://dropsync.example.com/webhooks/shopify"); resp.StatusCode != http.StatusCreated {
		t.Errorf("re-register after delete: got status %d, want 201 (%s)", resp.StatusCode, body)
	}
}

// received is what a webhook receiver saw.
type received struct {
	header http.Header
	body   []byte
}

func TestDeliver(t *testing.T) {
	const secret = "hush-app-secret"
	clock := newTestClock()
	s := NewServer(Options{Now: clock.Now})
	defer s.Close()
	s.AddOrder(SampleOrder(1, WithUnicodeCustomer()))
	body := s.OrderJSON(1)

	var (
		mu  sync.Mutex
		got []received
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{r.Header.Clone(), b})
		mu.Unlock()
	}))
	defer receiver.Close()

	resp, err := s.Deliver(t.Context(), receiver.URL, "orders/create", secret, body)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	resp.Body.Close()
	firstID := resp.Request.Header.Get("X-Shopify-Webhook-Id")
	resp, err = s.DeliverWithID(t.Context(), receiver.URL, "orders/create", secret, firstID, body)
	if err != nil {
		t.Fatalf("DeliverWithID: %v", err)
	}
	resp.Body.Close()
	resp, err = s.Deliver(t.Context(), receiver.URL, "orders/create", secret, body)
	if err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	resp.Body.Close()

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 3 {
		t.Fatalf("deliveries: got %d, want 3", len(got))
	}
	for i, d := range got {
		// Verify as a receiver must: HMAC of the raw body with the secret.
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(d.body)
		want := m.Sum(nil)
		sig, err := base64.StdEncoding.DecodeString(d.header.Get("X-Shopify-Hmac-Sha256"))
		if err != nil || !hmac.Equal(sig, want) {
			t.Errorf("delivery %d: signature does not verify with the secret", i)
		}
		if string(d.body) != string(body) {
			t.Errorf("delivery %d: body changed in transit", i)
		}
		checks := map[string]string{
			"Content-Type":          "application/json",
			"X-Shopify-Topic":       "orders/create",
			"X-Shopify-Shop-Domain": DefaultShop,
			"X-Shopify-Api-Version": DefaultVersion,
		}
		for h, want := range checks {
			if got := d.header.Get(h); got != want {
				t.Errorf("delivery %d: %s: got %q, want %q", i, h, got, want)
			}
		}
		if _, err := time.Parse(time.RFC3339Nano, d.header.Get("X-Shopify-Triggered-At")); err != nil {
			t.Errorf("delivery %d: X-Shopify-Triggered-At %q: %v", i, d.header.Get("X-Shopify-Triggered-At"), err)
		}
		if d.header.Get("X-Shopify-Webhook-Id") == "" || d.header.Get("X-Shopify-Event-Id") == "" {
			t.Errorf("delivery %d: missing webhook or event id", i)
		}
	}
	wid := func(i int) string { return got[i].header.Get("X-Shopify-Webhook-Id") }
	eid := func(i int) string { return got[i].header.Get("X-Shopify-Event-Id") }
	if wid(1) != wid(0) || eid(1) != eid(0) {
		t.Errorf("redelivery: got ids %s/%s, want %s/%s", wid(1), eid(1), wid(0), eid(0))
	}
	if wid(2) == wid(0) || eid(2) == eid(0) {
		t.Errorf("new delivery reused ids %s/%s", wid(2), eid(2))
	}
	if Sign("other-secret", body) == got[0].header.Get("X-Shopify-Hmac-Sha256") {
		t.Errorf("signature verifies with the wrong secret")
	}
}

func TestSign(t *testing.T) {
	// Computed independently: printf '%s' '{"id":1}' | openssl dgst -sha256 -hmac secret -binary | base64
	if got, want := Sign("secret", []byte(`{"id":1}`)), "A971iWIMgT8Zj9A9eWfikrFj7wQ16/Qwcc4OlRl2PLc="; got != want {
		t.Errorf("Sign: got %s, want %s", got, want)
	}
}
