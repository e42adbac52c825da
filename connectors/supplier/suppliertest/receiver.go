package suppliertest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Receiver is a webhook endpoint that collects a fake's deliveries as dropsync's HTTP API
// would get them, answering each with 200.
type Receiver struct {
	srv *httptest.Server

	mu         sync.Mutex
	deliveries []Delivery
}

// NewReceiver starts a receiver on a local port; it is closed when t ends.
func NewReceiver(t testing.TB) *Receiver {
	t.Helper()
	rc := &Receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serveHTTP))
	t.Cleanup(rc.srv.Close)
	return rc
}

// URL is the receiver's scheme://host:port; it takes deliveries on any path.
func (rc *Receiver) URL() string { return rc.srv.URL }

// Deliveries returns the deliveries received, oldest first.
func (rc *Receiver) Deliveries() []Delivery {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Delivery(nil), rc.deliveries...)
}

func (rc *Receiver) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.deliveries = append(rc.deliveries, Delivery{Header: r.Header.Clone(), Query: r.URL.Query(), Body: body})
}
