// Package suppliertest provides a supplier that speaks the dropsync supplier protocol, HTTP
// v1, over a real local HTTP server. It behaves like a careful real supplier (idempotent on
// external_id, keeps stock, validates what it is sent, signs its events) and lets a test
// ship parcels, correct tracking and inject faults. Tests, the demo and benchmarks share it,
// so it is safe for concurrent use and keeps everything in memory.
package suppliertest

import (
	"net/http"
	"sync"
	"time"

	"github.com/dropsync/dropsync/connectors/supplier/supplierfake"
)

// Order statuses of supplier-http-v1.
const (
	StatusAccepted         = "accepted"
	StatusInProduction     = "in_production"
	StatusPartiallyShipped = "partially_shipped"
	StatusShipped          = "shipped"
	StatusCancelled        = "cancelled"
	StatusFailed           = "failed"
)

// Options configure a fake supplier.
type Options struct {
	Token         string          // bearer token required (401 JSON error otherwise); "" accepts any
	Catalog       map[string]Item // sku → stock and cost; unknown sku → 422 unknown_sku
	Countries     []string        // countries shipped to; empty = all; else 422 unsupported_country
	WebhookURL    string          // where to POST order.updated events; "" = none
	WebhookSecret string
	Prefix        string    // id prefix, e.g. "SO" → "SO-1001"; default "SO"
	AutoShip      *AutoShip // ship accepted orders by itself (for the demo)
	Now           func() time.Time
}

// Item is the fake's stock and cost of one of its SKUs.
type Item struct {
	Available int
	UnitCost  string // decimal, as the protocol writes money
	Currency  string
}

// AutoShip makes the fake ship every accepted order After the given delay, as a real
// supplier would, so that the demo runs without a test driving it.
type AutoShip struct {
	After        time.Duration
	SplitParcels bool // one parcel per item when >1 item
}

// Order is an order the fake holds: the protocol's order object, plus the request that
// created it.
type Order struct {
	ID         string     `json:"id"`
	ExternalID string     `json:"external_id"`
	Status     string     `json:"status"`
	Shipments  []Shipment `json:"shipments"`
	// Placed is the body of the POST /orders that created the order.
	Placed    PlaceRequest `json:"-"`
	CreatedAt time.Time    `json:"-"`
}

// Shipment is one parcel of an order.
type Shipment struct {
	ID             string    `json:"id"`
	Carrier        string    `json:"carrier"`
	TrackingNumber string    `json:"tracking_number"`
	TrackingURL    string    `json:"tracking_url"`
	Items          []ItemQty `json:"items"`
	ShippedAt      time.Time `json:"shipped_at"`
}

// ItemQty is a quantity of one SKU.
type ItemQty struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// Parcel is what Ship sends. Empty fields are generated; no Items means everything not yet
// shipped.
type Parcel struct {
	Carrier        string
	TrackingNumber string
	TrackingURL    string
	Items          []ItemQty
}

// PlaceRequest is the body of POST /orders.
type PlaceRequest struct {
	ExternalID      string       `json:"external_id"`
	OrderName       string       `json:"order_name"`
	Currency        string       `json:"currency"`
	ShippingAddress Address      `json:"shipping_address"`
	Items           []OrderItem  `json:"items"`
	ShippingMethod  string       `json:"shipping_method"`
	Note            string       `json:"note"`
	PackingSlip     *PackingSlip `json:"packing_slip,omitempty"`
}

// Address is the shipping address of a PlaceRequest.
type Address struct {
	Name         string `json:"name"`
	Company      string `json:"company"`
	Address1     string `json:"address1"`
	Address2     string `json:"address2"`
	City         string `json:"city"`
	ProvinceCode string `json:"province_code"`
	Zip          string `json:"zip"`
	CountryCode  string `json:"country_code"`
	Phone        string `json:"phone"`
	Email        string `json:"email"`
}

// OrderItem is one item of a PlaceRequest.
type OrderItem struct {
	SKU        string     `json:"sku"`
	Quantity   int        `json:"quantity"`
	UnitCost   string     `json:"unit_cost"`
	Properties []Property `json:"properties,omitempty"`
}

// Property is a line item property of an OrderItem.
type Property struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// PackingSlip is the merchant's branding of a PlaceRequest.
type PackingSlip struct {
	StoreName string `json:"store_name"`
	Message   string `json:"message"`
}

// Request is one request the fake received, as it arrived: for assertions and golden files.
type Request = supplierfake.Request

// Server is a running fake supplier. Its methods are safe for concurrent use.
type Server struct {
	opts Options
	srv  *supplierfake.Server

	mu      sync.Mutex
	catalog map[string]Item
	orders  map[string]*Order // by external id
	byID    map[string]*Order // by the fake's id
	list    []*Order          // in creation order
	seq     int
	shipSeq int
}

// NewServer starts a fake supplier on a local port. Close it when done.
func NewServer(opts Options) *Server {
	if opts.Prefix == "" {
		opts.Prefix = "SO"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Countries = supplierfake.CountryCodes(opts.Countries)
	s := &Server{
		opts:    opts,
		catalog: make(map[string]Item, len(opts.Catalog)),
		orders:  map[string]*Order{},
		byID:    map[string]*Order{},
		seq:     1000,
	}
	// A copy: stock changes must not reach the caller's map.
	for sku, it := range opts.Catalog {
		s.catalog[sku] = it
	}
	s.srv = supplierfake.NewServer("", s.serve)
	if opts.AutoShip != nil {
		a := *opts.AutoShip
		// Delivery errors are dropped: dropsync's tracking poll is there for lost events.
		supplierfake.AutoShip(s.srv, a.After, func() []dueShipment { return s.due(a) },
			func(d dueShipment) { _ = s.Ship(d.externalID, d.parcels...) })
	}
	return s
}

// URL is the fake's base_url.
func (s *Server) URL() string { return s.srv.URL() }

// Close stops the AutoShip loop and the server. Requests held by SetDelay end at once.
func (s *Server) Close() { s.srv.Close() }

// Order returns a copy of the order with the external id.
func (s *Server) Order(externalID string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[externalID]
	if !ok {
		return Order{}, false
	}
	return o.clone(), true
}

// Orders returns copies of every order, oldest first.
func (s *Server) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Order, len(s.list))
	for i, o := range s.list {
		out[i] = o.clone()
	}
	return out
}

// Requests returns the requests received with the method and path; "" matches any.
func (s *Server) Requests(method, path string) []Request { return s.srv.Requests(method, path) }

// PlaceCount is the number of POST /orders calls received, faults and repeats included.
func (s *Server) PlaceCount() int { return s.srv.PlaceCount() }

// PlaceRequests returns the POST /orders calls received, oldest first.
func (s *Server) PlaceRequests() []Request { return s.Requests(http.MethodPost, "/orders") }

// Created is the number of distinct orders created.
func (s *Server) Created() int { return s.srv.Created() }

// RetryAfterSeconds is the Retry-After of a 429 FailNext injects: a wait no client would
// assume on its own, so that a test tells a connector reading the header from one falling
// back on a default.
const RetryAfterSeconds = 7

// FailNext makes the next n POST /orders answer status without doing anything; a 429 carries
// Retry-After: RetryAfterSeconds.
func (s *Server) FailNext(n int, status int) { s.srv.FailNext(n, status) }

// AcceptThenFail makes the next n POST /orders that succeed answer 500 instead, after the
// order is created (or found): the reply is lost after the supplier accepted, and a retry
// with the same external_id must get the order.
func (s *Server) AcceptThenFail(n int) { s.srv.AcceptThenFail(n) }

// SetStock sets the SKU's available stock; an unknown SKU joins the catalog without a cost.
func (s *Server) SetStock(sku string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.catalog[sku]
	it.Available = n
	s.catalog[sku] = it
}

// SetDelay makes every request wait d before it is handled (0 = none), like a slow supplier.
// A client that gives up ends the wait.
func (s *Server) SetDelay(d time.Duration) { s.srv.SetDelay(d) }

func (s *Server) now() time.Time { return s.opts.Now().UTC() }

func (o *Order) clone() Order {
	c := *o
	c.Shipments = make([]Shipment, len(o.Shipments))
	for i, sh := range o.Shipments {
		sh.Items = append([]ItemQty(nil), sh.Items...)
		c.Shipments[i] = sh
	}
	c.Placed.Items = append([]OrderItem(nil), o.Placed.Items...)
	return c
}
