package suppliertest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// Proxy sits between a connector and its fake and passes requests through, except that it
// can lose the reply of a request after the fake has answered it: the connector sees a
// timeout while the supplier has done the work, which is the failure idempotency exists for.
// It needs nothing from the fake, so every connector is tested the same way.
type Proxy struct {
	upstream string
	srv      *httptest.Server
	client   *http.Client

	mu    sync.Mutex
	drops map[Route]int
	stop  chan struct{}
	once  sync.Once
}

// NewProxy starts a proxy in front of upstream (scheme://host[:port]); it is closed when t
// ends. Requests keep their path and query.
func NewProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	p := &Proxy{
		upstream: upstream,
		client:   &http.Client{},
		drops:    map[Route]int{},
		stop:     make(chan struct{}),
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

// URL is the proxy's scheme://host:port.
func (p *Proxy) URL() string { return p.srv.URL }

// LoseReply makes the next n requests on the route reach the fake and then never answer:
// the reply is held until the client gives up.
func (p *Proxy) LoseReply(r Route, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.drops[r] += n
}

// Close releases held replies and stops the proxy.
func (p *Proxy) Close() {
	p.once.Do(func() {
		close(p.stop)
		p.srv.Close()
	})
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, p.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := p.client.Do(req)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(resp.Body)

	if p.lose(Route{Method: r.Method, Path: r.URL.Path}) {
		select {
		case <-r.Context().Done():
		case <-p.stop:
		}
		return
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(reply)
}

func (p *Proxy) lose(r Route) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drops[r] > 0 {
		p.drops[r]--
		return true
	}
	return false
}
