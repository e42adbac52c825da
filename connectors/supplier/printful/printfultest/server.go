// Package printfultest provides a fake Printful API v1 over a real local HTTP server, built
// from the request and reply shapes of https://developers.printful.com/docs/ and the webhook
// events of https://www.printful.com/docs/webhooks: orders with external ids ("@" lookups),
// drafts and confirmed orders, store and catalog variants, the {"code","result","error"}
// envelope with Printful's worded refusals, rate limiting with X-Ratelimit headers and 429,
// and webhook deliveries authenticated by a token in the URL. A test can ship parcels, change
// an order's status, and inject faults (fail next n, accept then fail, rate limit, delay).
// Tests and the demo share it, so it is safe for concurrent use and keeps everything in
// memory.
package printfultest

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dropsync/dropsync/connectors/supplier/supplierfake"
)

// Printful order statuses.
const (
	StatusDraft     = "draft"
	StatusPending   = "pending"
	StatusFailed    = "failed"
	StatusCanceled  = "canceled"
	StatusOnHold    = "onhold"
	StatusInProcess = "inprocess"
	StatusPartial   = "partial"
	StatusFulfilled = "fulfilled"
)

// RateLimitWindow is Printful's rate-limit window.
const RateLimitWindow = time.Minute

// Options configure a fake Printful.
type Options struct {
	Token   string // bearer token required (401 otherwise); "" accepts any
	StoreID string // when set, X-PF-Store-Id must name this store (403 otherwise)
	// Variants are the sync variants of the merchant's store.
	Variants []Variant
	// Countries the fake ships to; empty means everywhere.
	Countries []string
	// WebhookURL receives events ("" means none); the fake adds ?token=WebhookSecret, as the
	// URL registered with Printful would carry it.
	WebhookURL    string
	WebhookSecret string
	// RateLimit is the calls allowed per minute; 0 means no limit.
	RateLimit int
	// AutoShip ships every confirmed order by itself, for the demo.
	AutoShip *AutoShip
	Now      func() time.Time
}

// Variant is one sync variant of the merchant's Printful store and its catalog variant.
type Variant struct {
	SyncVariantID    int64
	ExternalID       string // external variant id; "" for none
	CatalogVariantID int64
	Name             string
	Price            string // the catalog price: what Printful charges, in USD
	InStock          bool
}

// AutoShip makes the fake ship every confirmed order After it was placed, in one parcel.
type AutoShip struct{ After time.Duration }

// Order is a Printful order object as GET /orders/{id} returns it.
type Order struct {
	ID          int64        `json:"id"`
	ExternalID  string       `json:"external_id"`
	Store       int64        `json:"store"`
	Status      string       `json:"status"`
	Shipping    string       `json:"shipping"`
	Created     int64        `json:"created"`
	Updated     int64        `json:"updated"`
	Recipient   Recipient    `json:"recipient"`
	Items       []Item       `json:"items"`
	Costs       Costs        `json:"costs"`
	Shipments   []Shipment   `json:"shipments"`
	PackingSlip *PackingSlip `json:"packing_slip"`
}

// Recipient is an order's shipping address.
type Recipient struct {
	Name        string `json:"name"`
	Company     string `json:"company,omitempty"`
	Address1    string `json:"address1"`
	Address2    string `json:"address2,omitempty"`
	City        string `json:"city"`
	StateCode   string `json:"state_code,omitempty"`
	StateName   string `json:"state_name,omitempty"`
	CountryCode string `json:"country_code"`
	CountryName string `json:"country_name,omitempty"`
	Zip         string `json:"zip"`
	Phone       string `json:"phone,omitempty"`
	Email       string `json:"email,omitempty"`
}

// Item is an order line item.
type Item struct {
	ID                int64  `json:"id"`
	ExternalID        string `json:"external_id,omitempty"`
	VariantID         int64  `json:"variant_id"`
	SyncVariantID     int64  `json:"sync_variant_id,omitempty"`
	ExternalVariantID string `json:"external_variant_id,omitempty"`
	Quantity          int    `json:"quantity"`
	Price             string `json:"price"`
	Name              string `json:"name,omitempty"`
}

// Costs are what Printful charges for an order.
type Costs struct {
	Currency string `json:"currency"`
	Subtotal string `json:"subtotal"`
	Shipping string `json:"shipping"`
	Total    string `json:"total"`
}

// Shipment is one package of an order.
type Shipment struct {
	ID             int64          `json:"id"`
	Carrier        string         `json:"carrier"`
	Service        string         `json:"service"`
	TrackingNumber string         `json:"tracking_number"`
	TrackingURL    string         `json:"tracking_url"`
	Created        int64          `json:"created"`
	ShipDate       string         `json:"ship_date"`
	ShippedAt      int64          `json:"shipped_at"`
	Reshipment     bool           `json:"reshipment"`
	Items          []ShipmentItem `json:"items"`
}

// ShipmentItem is a quantity of one order item in a package.
type ShipmentItem struct {
	ItemID   int64 `json:"item_id"`
	Quantity int   `json:"quantity"`
}

// PackingSlip is an order's custom packing slip.
type PackingSlip struct {
	StoreName     string `json:"store_name,omitempty"`
	Message       string `json:"message,omitempty"`
	CustomOrderID string `json:"custom_order_id,omitempty"`
}

// PlaceRequest is the body of POST /orders.
type PlaceRequest struct {
	ExternalID  string       `json:"external_id"`
	Shipping    string       `json:"shipping"`
	Recipient   Recipient    `json:"recipient"`
	Items       []PlaceItem  `json:"items"`
	PackingSlip *PackingSlip `json:"packing_slip,omitempty"`
}

// PlaceItem is one item of a PlaceRequest.
type PlaceItem struct {
	ExternalID        string `json:"external_id,omitempty"`
	VariantID         int64  `json:"variant_id,omitempty"`
	SyncVariantID     int64  `json:"sync_variant_id,omitempty"`
	ExternalVariantID string `json:"external_variant_id,omitempty"`
	Quantity          int    `json:"quantity"`
	Name              string `json:"name,omitempty"`
}

// Parcel is what Ship sends. Empty fields are generated; no Items means everything not yet
// shipped.
type Parcel struct {
	Carrier        string
	TrackingNumber string
	TrackingURL    string
	Items          []ItemQty
}

// ItemQty is a quantity of the order item placed with the SKU (its external_id, or its
// variant reference).
type ItemQty struct {
	SKU      string
	Quantity int
}

// Request is one request the fake received, as it arrived.
type Request = supplierfake.Request

// Delivery is a webhook delivery as dropsync's receiver gets it.
type Delivery = supplierfake.Delivery

// Server is a running fake Printful. Its methods are safe for concurrent use.
type Server struct {
	opts Options
	srv  *supplierfake.Server

	mu       sync.Mutex
	variants map[int64]*Variant
	orders   map[int64]*Order
	byExt    map[string]*Order
	list     []*Order
	placedAt map[int64]time.Time
	seq      int64
	itemSeq  int64
	shipSeq  int64
	// Rate limit window.
	windowStart time.Time
	windowCalls int
}

// NewServer starts a fake Printful on a local port. Close it when done.
func NewServer(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.Countries = supplierfake.CountryCodes(opts.Countries)
	s := &Server{
		opts:     opts,
		variants: map[int64]*Variant{},
		orders:   map[int64]*Order{},
		byExt:    map[string]*Order{},
		placedAt: map[int64]time.Time{},
		seq:      121000000,
		itemSeq:  9000000,
		shipSeq:  28000000,
	}
	for _, v := range opts.Variants {
		s.variants[v.SyncVariantID] = &v // a copy: stock changes must not reach the caller's slice
	}
	s.srv = supplierfake.NewServer("", s.serve)
	if opts.AutoShip != nil {
		a := *opts.AutoShip
		// Delivery errors are dropped: dropsync's tracking poll is there for lost events.
		supplierfake.AutoShip(s.srv, a.After, func() []string { return s.due(a) },
			func(ext string) { _ = s.Ship(ext) })
	}
	return s
}

// URL is the fake's base URL (in place of https://api.printful.com).
func (s *Server) URL() string { return s.srv.URL() }

// Close stops the AutoShip loop and the server.
func (s *Server) Close() { s.srv.Close() }

// Order returns a copy of the order with the external id.
func (s *Server) Order(externalID string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.byExt[externalID]
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

// PlaceCount is the number of POST /orders received, faults and repeats included.
func (s *Server) PlaceCount() int { return s.srv.PlaceCount() }

// PlaceRequests returns the POST /orders received, oldest first.
func (s *Server) PlaceRequests() []Request { return s.Requests(http.MethodPost, "/orders") }

// Created is the number of distinct orders created.
func (s *Server) Created() int { return s.srv.Created() }

// RetryAfterSeconds is the wait the rate limit FailNext injects asks for: not Printful's
// one-minute window, so that a test tells a connector reading the reply from one falling
// back on the window.
const RetryAfterSeconds = 37

// FailNext makes the next n POST /orders answer the status without doing anything: 429 as
// Printful's rate limit (Retry-After and X-Ratelimit-Reset: RetryAfterSeconds), others as
// Printful's error envelope.
func (s *Server) FailNext(n, status int) { s.srv.FailNext(n, status) }

// AcceptThenFail makes the next n POST /orders that succeed answer 500 after creating the
// order: the reply is lost after Printful accepted.
func (s *Server) AcceptThenFail(n int) { s.srv.AcceptThenFail(n) }

// SetStock makes the variant the SKU names ("<sync id>", "sync:<id>" or "@<external id>")
// available (n > 0) or out of stock (n == 0): Printful knows no counts.
func (s *Server) SetStock(sku string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.variantBySKU(sku); v != nil {
		v.InStock = n > 0
	}
}

// SetDelay makes every request wait d before it is handled (0 = none). A client that gives
// up ends the wait.
func (s *Server) SetDelay(d time.Duration) { s.srv.SetDelay(d) }

func (s *Server) now() time.Time { return s.opts.Now().UTC() }

// variantBySKU finds a variant by a dropsync supplier_sku.
func (s *Server) variantBySKU(sku string) *Variant {
	if ext, ok := strings.CutPrefix(sku, "@"); ok {
		return s.variantByExternal(ext)
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(sku, "sync:"), 10, 64)
	if err != nil {
		return nil
	}
	return s.variants[id]
}

func (s *Server) variantByExternal(ext string) *Variant {
	for _, v := range s.variants {
		if v.ExternalID != "" && v.ExternalID == ext {
			return v
		}
	}
	return nil
}

func (o *Order) clone() Order {
	c := *o
	c.Items = append([]Item(nil), o.Items...)
	c.Shipments = make([]Shipment, len(o.Shipments))
	for i, sh := range o.Shipments {
		sh.Items = append([]ShipmentItem(nil), sh.Items...)
		c.Shipments[i] = sh
	}
	if o.PackingSlip != nil {
		ps := *o.PackingSlip
		c.PackingSlip = &ps
	}
	return c
}
