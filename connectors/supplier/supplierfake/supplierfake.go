// Package supplierfake is the plumbing every fake supplier shares, whatever API it speaks: a
// real local HTTP server that records each request, can hold requests for a delay and then
// hands them to the fake's API; the faults a test injects into order placement; the counts
// of placements and of orders created; webhook delivery; and the AutoShip loop. Close ends
// them all. The fakes (http/suppliertest, printful/printfultest,
// cjdropshipping/cjdropshippingtest) keep their API, their state and their replies.
//
// It does not import testing: the demo runs the fakes inside the dropsync binary.
package supplierfake

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// MaxBody bounds what a fake reads of a request body and of a webhook receiver's reply.
const MaxBody = 1 << 20

// maxRequests bounds the recorded requests, so a long demo or benchmark does not grow
// without end; the oldest are dropped first.
const maxRequests = 10000

// Request is one request a fake received, as it arrived: for assertions and golden files.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
}

// Delivery is a webhook delivery as dropsync's receiver gets it.
type Delivery struct {
	Header http.Header
	Query  url.Values
	Body   []byte
}

// Handler is a fake's API: it answers one request whose body has been read (up to one byte
// over MaxBody, so that the API can refuse a body over the limit).
type Handler func(w http.ResponseWriter, r *http.Request, body []byte)

// Server runs a fake's API on a local port. Its methods are safe for concurrent use.
type Server struct {
	srv    *httptest.Server
	hook   *http.Client
	prefix string
	handle Handler

	mu       sync.Mutex
	requests []Request
	delay    time.Duration
	placed   int
	created  int
	// Faults for order placement.
	failNext       int
	failStatus     int
	acceptThenFail int

	stop      chan struct{}
	loops     sync.WaitGroup // the AutoShip loop, which Close waits for
	closeOnce sync.Once
}

// NewServer starts a server on a local port that hands every request to handle. prefix is
// cut from the paths of recorded requests, for an API that lives below a path ("" for
// none). Close it when done.
func NewServer(prefix string, handle Handler) *Server {
	s := &Server{
		hook:   &http.Client{Timeout: 10 * time.Second},
		prefix: prefix,
		handle: handle,
		stop:   make(chan struct{}),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// URL is the server's scheme://host:port.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the AutoShip loop, ends deliveries and requests held by SetDelay, and stops the
// server.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.stop)
		s.loops.Wait()
		s.srv.Close()
	})
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	s.mu.Lock()
	s.record(r, body)
	delay := s.delay
	s.mu.Unlock()
	if err != nil {
		return // the client went away
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.stop:
			t.Stop()
			return
		}
	}
	s.handle(w, r, body)
}

func (s *Server) record(r *http.Request, body []byte) {
	s.requests = append(s.requests, Request{
		Method:   r.Method,
		Path:     strings.TrimPrefix(r.URL.Path, s.prefix),
		RawQuery: r.URL.RawQuery,
		Header:   r.Header.Clone(),
		Body:     body,
	})
	// Trimming at twice the bound keeps recording amortised O(1).
	if len(s.requests) >= 2*maxRequests {
		s.requests = append([]Request(nil), s.requests[len(s.requests)-maxRequests:]...)
	}
}

// Requests returns copies of the requests received with the method and path (below the
// prefix); "" matches any.
func (s *Server) Requests(method, path string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.requests {
		if (method == "" || r.Method == method) && (path == "" || r.Path == path) {
			r.Header = r.Header.Clone()
			r.Body = append([]byte(nil), r.Body...)
			out = append(out, r)
		}
	}
	return out
}

// SetDelay makes every request wait d before it is handled (0 = none), like a slow supplier.
// A client that gives up ends the wait.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// CountPlace counts a request placing an order. A fake counts it before anything can fail,
// so that a test sees every attempt.
func (s *Server) CountPlace() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.placed++
}

// PlaceCount is the number of requests placing an order, faults and repeats included.
func (s *Server) PlaceCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.placed
}

// CountCreated counts an order the fake created.
func (s *Server) CountCreated() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.created++
}

// Created is the number of distinct orders created.
func (s *Server) Created() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.created
}

// FailNext makes the next n placements fail with the status, without doing anything; the
// fake answers it in its supplier's way.
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext, s.failStatus = n, status
}

// AcceptThenFail makes the next n placements that succeed answer a server error after the
// order is created: the reply is lost after the supplier accepted.
func (s *Server) AcceptThenFail(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acceptThenFail = n
}

// TakeFailure uses up one of the failures FailNext asked for: ok is whether this placement
// fails, and status is how.
func (s *Server) TakeFailure() (status int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext <= 0 {
		return 0, false
	}
	s.failNext--
	return s.failStatus, true
}

// TakeLostReply uses up one of the failures AcceptThenFail asked for: it reports whether
// this placement, which succeeded, must answer a server error. Call it only for a success.
func (s *Server) TakeLostReply() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acceptThenFail <= 0 {
		return false
	}
	s.acceptThenFail--
	return true
}

// Deliver sends a webhook request and drains the receiver's reply, returning its status.
// Close ends a delivery still waiting on a slow receiver.
func (s *Server) Deliver(req *http.Request) (int, error) {
	ctx, cancel := context.WithCancel(req.Context())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	resp, err := s.hook.Do(req.WithContext(ctx))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxBody))
	return resp.StatusCode, nil
}

// PostWebhook delivers the request as a supplier that counts only a 200 as delivered does
// (Printful and CJ retry a delivery until they get one): the error says that the delivery
// failed, or what the receiver answered instead.
func (s *Server) PostWebhook(req *http.Request) error {
	status, err := s.Deliver(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("webhook answered %d", status)
	}
	return nil
}

// AutoShip starts the fake's AutoShip loop: until Close, every quarter of after (within
// 5ms and 200ms) it ships each of the parcels due lists, one ship call each. Close waits
// for the loop to return. Call it before Close.
func AutoShip[T any](s *Server, after time.Duration, due func() []T, ship func(T)) {
	s.loops.Add(1)
	go func() {
		defer s.loops.Done()
		t := time.NewTicker(min(max(after/4, 5*time.Millisecond), 200*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
			for _, p := range due() {
				select {
				case <-s.stop:
					return
				default:
				}
				ship(p)
			}
		}
	}()
}

// WriteJSON writes a reply: the header, Content-Type application/json, the status and the
// body as JSON. A body that cannot be encoded is answered with 500 and fallback, which the
// fake writes in its supplier's error shape.
func WriteJSON(w http.ResponseWriter, status int, header http.Header, body any, fallback []byte) {
	data, err := json.Marshal(body)
	if err != nil {
		status, data = http.StatusInternalServerError, fallback
	}
	for k, v := range header {
		w.Header()[k] = v
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// BearerAuthorized reports whether the request carries "Authorization: Bearer <token>",
// compared in constant time. An empty token accepts any request.
func BearerAuthorized(r *http.Request, token string) bool {
	if token == "" {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

// Segments splits the escaped path, so an id holding an escaped "/" stays one segment. ok is
// false when a segment is badly escaped.
func Segments(u *url.URL) (segments []string, ok bool) {
	parts := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	for i, p := range parts {
		v, err := url.PathUnescape(p)
		if err != nil {
			return nil, false
		}
		parts[i] = v
	}
	return parts, true
}

// CountryCodes returns the codes trimmed and in upper case, as the fakes compare them.
func CountryCodes(codes []string) []string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = strings.ToUpper(strings.TrimSpace(c))
	}
	return out
}
