package supplierfake

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// echo answers every request with its body, 200.
func echo(w http.ResponseWriter, r *http.Request, body []byte) {
	WriteJSON(w, http.StatusOK, http.Header{"X-Seen": {r.URL.Path}}, string(body), nil)
}

func newServer(t *testing.T, prefix string, h Handler) *Server {
	t.Helper()
	s := NewServer(prefix, h)
	t.Cleanup(s.Close)
	return s
}

func do(t *testing.T, method, url, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestRequests(t *testing.T) {
	s := newServer(t, "/api/v1", echo)
	resp := do(t, http.MethodPost, s.URL()+"/api/v1/orders?confirm=true", `{"a":1}`)
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" ||
		resp.Header.Get("X-Seen") != "/api/v1/orders" || string(data) != `"{\"a\":1}"` {
		t.Errorf("reply: got %d %v %s", resp.StatusCode, resp.Header, data)
	}
	do(t, http.MethodGet, s.URL()+"/api/v1/orders/1", "")
	do(t, http.MethodGet, s.URL()+"/elsewhere", "")

	tests := []struct {
		method, path string
		want         []string // paths, in order
	}{
		{"", "", []string{"/orders", "/orders/1", "/elsewhere"}},
		{http.MethodPost, "", []string{"/orders"}},
		{"", "/orders/1", []string{"/orders/1"}},
		{http.MethodDelete, "", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, r := range s.Requests(tt.method, tt.path) {
			got = append(got, r.Path)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Requests(%q, %q): got %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
	r := s.Requests(http.MethodPost, "/orders")[0]
	if r.RawQuery != "confirm=true" || string(r.Body) != `{"a":1}` {
		t.Errorf("recorded request: got %+v", r)
	}
	// A copy: changing it changes nothing recorded.
	r.Body[0], r.Header["X"] = 'x', []string{"y"}
	if again := s.Requests(http.MethodPost, "/orders")[0]; string(again.Body) != `{"a":1}` || again.Header.Get("X") != "" {
		t.Errorf("recorded request changed through a copy: %+v", again)
	}
}

func TestDelay(t *testing.T) {
	s := newServer(t, "", echo)
	s.SetDelay(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL()+"/slow", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("delayed request: got a reply, want the client to give up")
	}
	if got := len(s.Requests("", "/slow")); got != 1 {
		t.Errorf("delayed request recorded: got %d, want 1", got)
	}

	// Close ends a request held by the delay.
	done := make(chan error, 1)
	go func() {
		resp, err := http.Get(s.URL() + "/held")
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for len(s.Requests("", "/held")) == 0 {
		time.Sleep(time.Millisecond)
	}
	s.Close()
	<-done

	s = newServer(t, "", echo)
	s.SetDelay(time.Millisecond)
	if resp := do(t, http.MethodGet, s.URL()+"/x", ""); resp.StatusCode != http.StatusOK {
		t.Errorf("short delay: got %d, want 200", resp.StatusCode)
	}
}

func TestFaultsAndCounts(t *testing.T) {
	s := NewServer("", echo)
	defer s.Close()
	if _, ok := s.TakeFailure(); ok {
		t.Error("TakeFailure without FailNext: got a failure")
	}
	s.FailNext(2, http.StatusBadGateway)
	for i := range 2 {
		if status, ok := s.TakeFailure(); !ok || status != http.StatusBadGateway {
			t.Errorf("failure %d: got %d, %v, want 502, true", i, status, ok)
		}
	}
	if _, ok := s.TakeFailure(); ok {
		t.Error("third TakeFailure: got a failure, want two only")
	}
	s.AcceptThenFail(1)
	if !s.TakeLostReply() || s.TakeLostReply() {
		t.Error("TakeLostReply: want true once, then false")
	}
	s.CountPlace()
	s.CountPlace()
	s.CountCreated()
	if s.PlaceCount() != 2 || s.Created() != 1 {
		t.Errorf("counts: got %d placed, %d created, want 2, 1", s.PlaceCount(), s.Created())
	}
}

func TestDeliver(t *testing.T) {
	var (
		mu   sync.Mutex
		got  []string
		held = make(chan struct{})
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.URL.Path+" "+string(body))
		mu.Unlock()
		switch r.URL.Path {
		case "/refuse":
			w.WriteHeader(http.StatusAccepted)
		case "/hold":
			select {
			case <-held:
			case <-r.Context().Done():
			}
		}
	}))
	defer receiver.Close()
	defer close(held)
	s := NewServer("", echo)

	post := func(path string) *http.Request {
		req, err := http.NewRequest(http.MethodPost, receiver.URL+path, strings.NewReader("event"))
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	if status, err := s.Deliver(post("/refuse")); err != nil || status != http.StatusAccepted {
		t.Errorf("Deliver: got %d, %v, want 202", status, err)
	}
	if err := s.PostWebhook(post("/ok")); err != nil {
		t.Errorf("PostWebhook answered 200: got %v", err)
	}
	if err := s.PostWebhook(post("/refuse")); err == nil || err.Error() != "webhook answered 202" {
		t.Errorf("PostWebhook answered 202: got %v, want webhook answered 202", err)
	}
	mu.Lock()
	if want := []string{"/refuse event", "/ok event", "/refuse event"}; !slices.Equal(got, want) {
		t.Errorf("deliveries: got %q, want %q", got, want)
	}
	mu.Unlock()

	// Close ends a delivery waiting on a slow receiver.
	done := make(chan error, 1)
	go func() { done <- s.PostWebhook(post("/hold")) }()
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 4 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	s.Close()
	if err := <-done; err == nil || !strings.HasPrefix(err.Error(), "webhook: ") {
		t.Errorf("delivery ended by Close: got %v, want a webhook error", err)
	}
}

func TestAutoShip(t *testing.T) {
	s := NewServer("", echo)
	var mu sync.Mutex
	queue := []string{"po-1", "po-2"}
	shipped := make(chan string, 10)
	AutoShip(s, time.Millisecond, func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := queue
		queue = nil
		return out
	}, func(id string) { shipped <- id })
	if a, b := <-shipped, <-shipped; a != "po-1" || b != "po-2" {
		t.Errorf("shipped: got %s, %s, want po-1, po-2", a, b)
	}
	s.Close() // waits for the loop
	mu.Lock()
	queue = []string{"po-3"}
	mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	select {
	case id := <-shipped:
		t.Errorf("shipped %s after Close", id)
	default:
	}
}

func TestWriteJSONFallback(t *testing.T) {
	w := httptest.NewRecorder()
	WriteJSON(w, http.StatusOK, nil, func() {}, []byte(`{"error":"encode"}`))
	if w.Code != http.StatusInternalServerError || w.Body.String() != `{"error":"encode"}` {
		t.Errorf("unencodable body: got %d %s, want 500 and the fallback", w.Code, w.Body)
	}
}

func TestBearerAuthorized(t *testing.T) {
	tests := []struct {
		name, token, header string
		want                bool
	}{
		{"right token", "tok", "Bearer tok", true},
		{"wrong token", "tok", "Bearer tik", false},
		{"no scheme", "tok", "tok", false},
		{"missing", "tok", "", false},
		{"any accepted", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			if got := BearerAuthorized(r, tt.token); got != tt.want {
				t.Errorf("BearerAuthorized: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSegmentsAndCountryCodes(t *testing.T) {
	u, _ := url.Parse("http://fake.example/orders/%40SO%2F1/cancel/")
	if got, ok := Segments(u); !ok || !slices.Equal(got, []string{"orders", "@SO/1", "cancel"}) {
		t.Errorf("Segments: got %q, %v", got, ok)
	}
	if got := CountryCodes([]string{" us", "Ca "}); !slices.Equal(got, []string{"US", "CA"}) {
		t.Errorf("CountryCodes: got %q, want US, CA", got)
	}
}
