// Package shopifytest provides a fake Shopify Admin REST API for one shop,
// served over real HTTP, for dropsync's tests, demo and benchmarks.
//
// The fake behaves like Shopify where dropsync depends on it: access-token
// auth, API versions in the path, the leaky-bucket call limit with 429 and
// Retry-After, cursor pagination through the Link header, fulfillment orders
// whose quantities shrink as fulfillments are created, webhook registration,
// and webhook delivery signed with HMAC-SHA256. It also lets a test see every
// call that was made and inject the failures dropsync must survive (errors,
// and a fulfillment that is created although the response says 500).
//
// Everything the fake stores is copied in and out, and every method is safe
// for concurrent use.
package shopifytest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// Defaults for Options left empty.
const (
	DefaultShop        = "demo-store.myshopify.com"
	DefaultAccessToken = "shpat_dropsync_test_token"
	DefaultVersion     = "2026-01"
	DefaultBucketSize  = 40
	DefaultLeakRate    = 2.0
)

// Shopify's own wording for the errors a client may match on.
const (
	errInvalidToken = "[API] Invalid API key or access token (unrecognized login or wrong password)"
	errRateLimited  = "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
	errNotFound     = "Not Found"
)

// shopID and locationID are the fake shop's fixed ids.
const (
	shopID     = 63_500_000_001
	locationID = 71_200_000_001
)

// Options configures a Server. The zero value is a usable shop.
type Options struct {
	Shop        string           // myshopify domain; default DefaultShop
	AccessToken string           // requests must send X-Shopify-Access-Token equal to it, else 401; default DefaultAccessToken
	Versions    []string         // accepted API versions, default {DefaultVersion}; others get 404
	BucketSize  int              // call-limit bucket size; 0 = DefaultBucketSize
	LeakRate    float64          // calls per second the bucket drains; 0 = DefaultLeakRate
	Unlimited   bool             // disable the call limit (benchmarks, demo)
	Now         func() time.Time // clock for the bucket and timestamps; default time.Now
}

// Call is one request the fake received, whatever its outcome.
type Call struct {
	Method   string
	Path     string // URL path as received, "/admin/api/2026-01/orders.json"
	Resource string // path under the version root, "orders.json"; "" outside /admin/api/
	Version  string // API version in the path; "" outside /admin/api/
	Query    string // raw query string
	Status   int
	Time     time.Time
}

// Server is a running fake Shopify shop. Create it with NewServer and Close it
// when done.
type Server struct {
	ts       *httptest.Server
	shop     string
	token    string
	versions []string
	now      func() time.Time
	client   *http.Client

	mu           sync.Mutex
	bucket       bucket
	nextID       int64
	orders       map[int64]*orderRecord
	fulfillments map[int64]int64 // fulfillment id → order id
	fulfillOrder map[int64]int64 // fulfillment order id → order id
	webhooks     []Webhook
	calls        []Call
	rateLimited  int
	faults       []*fault
	failCreate   int
	eventIDs     map[string]string // webhook id → event id, so a redelivery keeps its event
}

type orderRecord struct {
	order Order
	fos   []*FulfillmentOrder
	risks []Risk
	wire  []byte // order's JSON, cached for list calls; nil after a change
}

// json returns the order's JSON, marshalling it at most once per change:
// pollers and benchmarks list the same orders again and again.
func (rec *orderRecord) json() ([]byte, error) {
	if rec.wire == nil {
		b, err := json.Marshal(rec.order)
		if err != nil {
			return nil, err
		}
		rec.wire = b
	}
	return rec.wire, nil
}

type fault struct {
	method string
	prefix string
	status int
	left   int
}

// NewServer starts a fake shop on a loopback port.
func NewServer(opts Options) *Server {
	s := &Server{
		shop:         opts.Shop,
		token:        opts.AccessToken,
		versions:     slices.Clone(opts.Versions),
		now:          opts.Now,
		nextID:       1_000_000_001,
		orders:       make(map[int64]*orderRecord),
		fulfillments: make(map[int64]int64),
		fulfillOrder: make(map[int64]int64),
		eventIDs:     make(map[string]string),
		// Shopify gives a webhook receiver five seconds to answer.
		client: &http.Client{Timeout: 5 * time.Second},
	}
	if s.shop == "" {
		s.shop = DefaultShop
	}
	if s.token == "" {
		s.token = DefaultAccessToken
	}
	if len(s.versions) == 0 {
		s.versions = []string{DefaultVersion}
	}
	if s.now == nil {
		s.now = time.Now
	}
	size, leak := opts.BucketSize, opts.LeakRate
	if size <= 0 {
		size = DefaultBucketSize
	}
	if leak <= 0 {
		leak = DefaultLeakRate
	}
	s.bucket = bucket{size: size, leak: leak, unlimited: opts.Unlimited}
	s.ts = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// URL is the shop's base URL ("http://127.0.0.1:PORT"), to be used as a
// shop's api_base_url.
func (s *Server) URL() string { return s.ts.URL }

// Shop is the shop's myshopify domain.
func (s *Server) Shop() string { return s.shop }

// Close shuts the server down, waiting for requests in flight.
func (s *Server) Close() { s.ts.Close() }

// clock returns the current time in UTC. Callers hold s.mu, so an injected
// clock need not be safe for concurrent use.
func (s *Server) clock() time.Time { return s.now().UTC() }

// stamp is a timestamp as Shopify writes it: UTC, to the second.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

func (s *Server) newID() int64 {
	id := s.nextID
	s.nextID++
	return id
}

// reply is a response worked out under the lock and written after it, so a
// slow client never holds up other requests.
type reply struct {
	status int
	body   []byte
	header http.Header
}

func jsonReply(status int, v any) reply {
	b, err := json.Marshal(v)
	if err != nil {
		return errorReply(http.StatusInternalServerError, fmt.Sprintf("shopifytest: %v", err))
	}
	return reply{status: status, body: b}
}

// errorReply answers with Shopify's {"errors": ...} shape; errs is a string,
// a list of strings or a map of field to messages, as Shopify varies it.
func errorReply(status int, errs any) reply {
	b, _ := json.Marshal(map[string]any{"errors": errs})
	return reply{status: status, body: b}
}

func notFound() reply { return errorReply(http.StatusNotFound, errNotFound) }

// maxBody bounds request bodies; real requests from dropsync are tiny.
const maxBody = 1 << 20

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	version, resource, isAPI := splitAPIPath(r.URL.Path)

	s.mu.Lock()
	now := s.clock()
	rep := s.handle(r, version, resource, isAPI, body, now)
	// Drained to now, so that calls refused before the limit (401, 404)
	// still report the bucket as it stands.
	s.bucket.drain(now)
	limit := fmt.Sprintf("%d/%d", s.bucket.used(), s.bucket.size)
	if rep.status == http.StatusTooManyRequests {
		s.rateLimited++
	}
	s.calls = append(s.calls, Call{
		Method: r.Method, Path: r.URL.Path, Resource: resource, Version: version,
		Query: r.URL.RawQuery, Status: rep.status, Time: now,
	})
	s.mu.Unlock()

	h := w.Header()
	for k, v := range rep.header {
		h[k] = v
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Shopify-Shop-Api-Call-Limit", limit)
	apiVersion := s.versions[0]
	if slices.Contains(s.versions, version) {
		apiVersion = version
	}
	h.Set("X-Shopify-API-Version", apiVersion)
	h.Set("X-Request-Id", uuid.NewString())
	w.WriteHeader(rep.status)
	_, _ = w.Write(rep.body)
}

// splitAPIPath splits "/admin/api/2026-01/orders/1.json" into its version and
// the resource path under it.
func splitAPIPath(p string) (version, resource string, ok bool) {
	rest, ok := strings.CutPrefix(p, "/admin/api/")
	if !ok {
		return "", "", false
	}
	version, resource, _ = strings.Cut(rest, "/")
	return version, resource, true
}

// handle runs one request through what Shopify checks, in Shopify's order:
// the path and version, the token, the call limit; then injected faults and
// finally the endpoint. Callers hold s.mu.
func (s *Server) handle(r *http.Request, version, resource string, isAPI bool, body []byte, now time.Time) reply {
	if !isAPI || !slices.Contains(s.versions, version) {
		return notFound()
	}
	if r.Header.Get("X-Shopify-Access-Token") != s.token {
		return errorReply(http.StatusUnauthorized, errInvalidToken)
	}
	if !s.bucket.take(now) {
		rep := errorReply(http.StatusTooManyRequests, errRateLimited)
		rep.header = http.Header{"Retry-After": {"2.0"}}
		return rep
	}
	if rep, ok := s.injectedFault(r.Method, r.URL.Path, resource); ok {
		return rep
	}
	return s.route(r, version, resource, body, now)
}

func (s *Server) injectedFault(method, fullPath, resource string) (reply, bool) {
	for i, f := range s.faults {
		if f.method != "" && f.method != method {
			continue
		}
		target := resource
		if strings.HasPrefix(f.prefix, "/") {
			target = fullPath
		}
		if !strings.HasPrefix(target, f.prefix) {
			continue
		}
		f.left--
		if f.left <= 0 {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		rep := errorReply(f.status, http.StatusText(f.status))
		if f.status == http.StatusTooManyRequests {
			rep = errorReply(f.status, errRateLimited)
			rep.header = http.Header{"Retry-After": {"2.0"}}
		}
		return rep, true
	}
	return reply{}, false
}

// route dispatches on the resource path. Ids sit in the last segment before
// ".json", which Go's ServeMux patterns cannot express, hence the switch.
func (s *Server) route(r *http.Request, version, resource string, body []byte, now time.Time) reply {
	seg := strings.Split(resource, "/")
	m := r.Method
	switch {
	case m == http.MethodGet && resource == "shop.json":
		return s.getShop()
	case m == http.MethodGet && resource == "orders.json":
		return s.listOrders(r, version)
	case m == http.MethodGet && len(seg) == 2 && seg[0] == "orders":
		if id, ok := jsonID(seg[1]); ok {
			return s.getOrder(id, r.URL.Query().Get("fields"))
		}
	case m == http.MethodGet && len(seg) == 3 && seg[0] == "orders":
		id, err := strconv.ParseInt(seg[1], 10, 64)
		if err != nil {
			break
		}
		switch seg[2] {
		case "fulfillment_orders.json":
			return s.listFulfillmentOrders(id)
		case "fulfillments.json":
			return s.listFulfillments(id)
		case "risks.json":
			return s.listRisks(id)
		}
	case m == http.MethodPost && resource == "fulfillments.json":
		return s.createFulfillment(body, now)
	case m == http.MethodPost && len(seg) == 3 && seg[0] == "fulfillments" && seg[2] == "update_tracking.json":
		if id, err := strconv.ParseInt(seg[1], 10, 64); err == nil {
			return s.updateTracking(id, body, now)
		}
	case m == http.MethodGet && resource == "webhooks.json":
		return s.listWebhooks(r)
	case m == http.MethodPost && resource == "webhooks.json":
		return s.createWebhook(version, body, now)
	case len(seg) == 2 && seg[0] == "webhooks":
		id, ok := jsonID(seg[1])
		if !ok {
			break
		}
		switch m {
		case http.MethodGet:
			return s.getWebhook(id)
		case http.MethodDelete:
			return s.deleteWebhook(id)
		}
	}
	return notFound()
}

// jsonID parses "123.json".
func jsonID(seg string) (int64, bool) {
	s, ok := strings.CutSuffix(seg, ".json")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil
}

// Calls returns every request received so far, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// CallCount counts the calls with the given method ("" for any) whose path
// matches pattern. The pattern is a path.Match glob over the path under the
// version root ("orders/*/fulfillments.json"), or over the whole URL path if
// it starts with "/"; "" matches every path.
func (s *Server) CallCount(method, pattern string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if method != "" && c.Method != method {
			continue
		}
		target := c.Resource
		if strings.HasPrefix(pattern, "/") {
			target = c.Path
		}
		if pattern != "" {
			if ok, err := path.Match(pattern, target); err != nil || !ok {
				continue
			}
		}
		n++
	}
	return n
}

// RateLimited counts the 429 responses served, from the bucket or injected.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rateLimited
}

// FailNext makes the next n calls with the given method ("" for any) whose
// path starts with pathPrefix answer status without being executed. The
// prefix is relative to the version root ("fulfillments.json", "orders/"),
// or the whole URL path if it starts with "/"; "" matches every call. The
// calls still pass auth and the call limit first, as on Shopify. Rules are
// tried in the order they were added.
func (s *Server) FailNext(method, pathPrefix string, status, n int) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{method: method, prefix: pathPrefix, status: status, left: n})
}

// FailAfterCreate makes the next n successful POST fulfillments.json calls
// create the fulfillment and then answer 500: the window in which a client
// crashes or times out after Shopify has acted, which dropsync must survive
// without creating a second fulfillment. Rejected (422) calls do not count.
func (s *Server) FailAfterCreate(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failCreate += max(n, 0)
}

// SetBucket changes the call limit at runtime, keeping the calls already in
// the bucket. size <= 0 disables the limit; leak is taken as given (0 makes a
// bucket that never drains, which pins a test at its limit).
func (s *Server) SetBucket(size int, leak float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bucket.set(s.clock(), size, leak)
}
