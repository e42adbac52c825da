// Package cjdropshippingtest provides a fake CJdropshipping API 2.0 over a real local HTTP
// server, built from the request and reply shapes of CJ's documentation
// (https://developers.cjdropshipping.com/en/api/api2/api/auth.html, …/shopping.html,
// …/product.html, …/standard/ps-code.html and the webhook pages): access and refresh tokens
// with their lifetimes and the five-minute limit on requesting one, createOrderV2 with
// its shipping fields and payType, getOrderDetail by CJ id or order number, deleteOrder that
// works only before payment, variant and stock queries, the {"code","result","message",
// "data","requestId"} envelope with CJ's error codes, the per-second limit (1600200), and
// ORDER webhook messages signed with the account's openId (and posted to a callback URL
// carrying the webhook secret, when one is set). A test can ship an order, change its
// status, expire tokens and inject faults (fail next n, accept then fail, rate limit, a
// balance that does not cover the order, refused refresh, delay). Tests and the demo share
// it; it is safe for concurrent use.
package cjdropshippingtest

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dropsync/dropsync/connectors/supplier/supplierfake"
)

// Prefix is the path of CJ's API below its host; the fake's base URL is URL()+Prefix.
const Prefix = "/api2.0/v1"

// PlacePath is createOrderV2's path below Prefix.
const PlacePath = "/shopping/order/createOrderV2"

// CJ order statuses.
const (
	StatusCreated   = "CREATED"
	StatusInCart    = "IN_CART"
	StatusUnpaid    = "UNPAID"
	StatusUnshipped = "UNSHIPPED"
	StatusShipped   = "SHIPPED"
	StatusDelivered = "DELIVERED"
	StatusCancelled = "CANCELLED"
)

// Options configure a fake CJ account.
type Options struct {
	// APIKey is required by getAccessToken ({"apiKey"}, or {"email","password"} with Email);
	// "" accepts any.
	APIKey string
	Email  string
	// OpenID is the account's id; it keys webhook signatures. Default 123456789.
	OpenID int64
	// Variants are the CJ variants the account can order.
	Variants []Variant
	// Logistics are the logistic names CJ knows; empty means any.
	Logistics []string
	// Countries are the destinations the logistics serve; empty means all.
	Countries []string
	// WebhookURL receives signed ORDER messages ("" means none). With WebhookSecret set, the
	// fake adds ?token=WebhookSecret, as the callback URL registered with CJ carries it; Event
	// carries it too.
	WebhookURL    string
	WebhookSecret string
	// MinInterval is the least gap between two calls, measured on the real clock (CJ allows
	// one a second); closer calls get 1600200. Zero means no limit.
	MinInterval time.Duration
	// TokenTTL and RefreshTTL are the tokens' lives (default 15 and 180 days); TokenGap is how
	// often a token may be requested with the API key (default five minutes). On Now's clock.
	TokenTTL, RefreshTTL, TokenGap time.Duration
	// AutoShip ships every paid order by itself, for the demo.
	AutoShip *AutoShip
	Now      func() time.Time
}

// Variant is one CJ variant with its stock in one warehouse.
type Variant struct {
	VID       string
	SKU       string
	ProductID string
	Name      string
	Price     string // sell price, USD
	Stock     int
	Warehouse string // country code of the warehouse; default CN
}

// AutoShip makes the fake ship every paid order After it was placed.
type AutoShip struct{ After time.Duration }

// Order is a CJ order as getOrderDetail returns it.
type Order struct {
	OrderID              string         `json:"orderId"`
	OrderNum             string         `json:"orderNum"`
	CJOrderID            string         `json:"cjOrderId"`
	ShippingCountryCode  string         `json:"shippingCountryCode"`
	ShippingProvince     string         `json:"shippingProvince"`
	ShippingCity         string         `json:"shippingCity"`
	ShippingPhone        string         `json:"shippingPhone"`
	ShippingAddress      string         `json:"shippingAddress"`
	ShippingCustomerName string         `json:"shippingCustomerName"`
	Remark               string         `json:"remark"`
	OrderStatus          string         `json:"orderStatus"`
	OrderAmount          number         `json:"orderAmount"`
	ProductAmount        number         `json:"productAmount"`
	PostageAmount        number         `json:"postageAmount"`
	LogisticName         string         `json:"logisticName"`
	TrackNumber          string         `json:"trackNumber"`
	TrackingURL          string         `json:"trackingUrl"`
	CreateDate           string         `json:"createDate"`
	PaymentDate          string         `json:"paymentDate"`
	OutWarehouseTime     string         `json:"outWarehouseTime"`
	IsComplete           int            `json:"isComplete"`
	FromCountryCode      string         `json:"fromCountryCode"`
	ProductList          []OrderProduct `json:"productList"`
	// Placed is the body of the createOrderV2 that created the order.
	Placed PlaceRequest `json:"-"`
}

// OrderProduct is one product line of an order.
type OrderProduct struct {
	VID        string `json:"vid"`
	Quantity   int    `json:"quantity"`
	SellPrice  number `json:"sellPrice"`
	LineItemID string `json:"lineItemId"`
}

// PlaceRequest is the body of createOrderV2.
type PlaceRequest struct {
	OrderNumber          string         `json:"orderNumber"`
	ShippingZip          string         `json:"shippingZip"`
	ShippingCountryCode  string         `json:"shippingCountryCode"`
	ShippingCountry      string         `json:"shippingCountry"`
	ShippingProvince     string         `json:"shippingProvince"`
	ShippingCity         string         `json:"shippingCity"`
	ShippingPhone        string         `json:"shippingPhone"`
	ShippingCustomerName string         `json:"shippingCustomerName"`
	ShippingAddress      string         `json:"shippingAddress"`
	ShippingAddress2     string         `json:"shippingAddress2"`
	Email                string         `json:"email"`
	Remark               string         `json:"remark"`
	PayType              number         `json:"payType"`
	LogisticName         string         `json:"logisticName"`
	FromCountryCode      string         `json:"fromCountryCode"`
	Products             []PlaceProduct `json:"products"`
}

// PlaceProduct is one product of a PlaceRequest.
type PlaceProduct struct {
	VID      string `json:"vid"`
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// Request is one request the fake received, as it arrived, its Path below Prefix.
type Request = supplierfake.Request

// Delivery is a webhook delivery as dropsync's receiver gets it.
type Delivery = supplierfake.Delivery

// Server is a running fake CJ. Its methods are safe for concurrent use.
type Server struct {
	opts Options
	srv  *supplierfake.Server

	mu        sync.Mutex
	variants  map[string]*Variant
	orders    map[string]*Order // by CJ id
	byNum     map[string]*Order
	list      []*Order
	placedAt  map[string]time.Time
	seq       int64
	tokenSeq  int
	access    map[string]time.Time // access token → expiry
	refresh   map[string]time.Time // refresh token → expiry
	lastAsk   time.Time            // the last getAccessToken that issued a token
	asked     int
	refreshed int
	refuseRef bool
	lastCall  time.Time // real clock, for MinInterval
	limited   int
	// unpaidNext and unpaidCode are the balance failures UnpaidNext asked for.
	unpaidNext int
	unpaidCode int
}

// NewServer starts a fake CJ on a local port. Close it when done.
func NewServer(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OpenID == 0 {
		opts.OpenID = 123456789
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 15 * 24 * time.Hour
	}
	if opts.RefreshTTL <= 0 {
		opts.RefreshTTL = 180 * 24 * time.Hour
	}
	if opts.TokenGap <= 0 {
		opts.TokenGap = 5 * time.Minute
	}
	opts.Countries = supplierfake.CountryCodes(opts.Countries)
	s := &Server{
		opts:     opts,
		variants: map[string]*Variant{},
		orders:   map[string]*Order{},
		byNum:    map[string]*Order{},
		placedAt: map[string]time.Time{},
		seq:      2507110000180000,
		access:   map[string]time.Time{},
		refresh:  map[string]time.Time{},
	}
	for _, v := range opts.Variants {
		if v.Warehouse == "" {
			v.Warehouse = "CN"
		}
		s.variants[v.VID] = &v // a copy: stock changes must not reach the caller's slice
	}
	s.srv = supplierfake.NewServer(Prefix, s.serve)
	if opts.AutoShip != nil {
		a := *opts.AutoShip
		supplierfake.AutoShip(s.srv, a.After, func() []string { return s.due(a) },
			func(num string) { _ = s.Ship(num) })
	}
	return s
}

// URL is the fake's scheme://host:port; its base URL is URL()+Prefix.
func (s *Server) URL() string { return s.srv.URL() }

// BaseURL is the fake's base URL, in place of https://developers.cjdropshipping.com/api2.0/v1.
func (s *Server) BaseURL() string { return s.srv.URL() + Prefix }

// Close stops the AutoShip loop and the server.
func (s *Server) Close() { s.srv.Close() }

// Order returns a copy of the order with the order number.
func (s *Server) Order(orderNumber string) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.byNum[orderNumber]
	if !ok {
		return Order{}, false
	}
	return o.clone(), true
}

// Requests returns the requests received with the method and path (below Prefix); ""
// matches any.
func (s *Server) Requests(method, path string) []Request { return s.srv.Requests(method, path) }

// PlaceCount is the number of createOrderV2 calls received, faults and repeats included.
func (s *Server) PlaceCount() int { return s.srv.PlaceCount() }

// PlaceRequests returns the createOrderV2 calls received, oldest first.
func (s *Server) PlaceRequests() []Request { return s.Requests(http.MethodPost, PlacePath) }

// Created is the number of distinct orders created.
func (s *Server) Created() int { return s.srv.Created() }

// TokenRequests is the number of tokens issued for the API key (getAccessToken).
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.asked
}

// Refreshes is the number of tokens issued for a refresh token (refreshAccessToken).
func (s *Server) Refreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshed
}

// RateLimited is the number of calls refused with 1600200 for coming too fast.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited
}

// ExpireTokens makes every access token issued so far invalid, as when they expire.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.access = map[string]time.Time{}
}

// RefuseRefresh makes refreshAccessToken answer 1600003 (refresh token invalid) while on.
func (s *Server) RefuseRefresh(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseRef = on
}

// RetryAfterSeconds is the Retry-After of the rate limit FailNext injects: not the one
// second CJ's per-second limit suggests, so that a test tells a connector reading the header
// from one falling back on its default.
const RetryAfterSeconds = 3

// FailNext makes the next n createOrderV2 fail without doing anything: 429 as CJ's
// "Too much request" (code 1600200, with Retry-After: RetryAfterSeconds), others as the HTTP
// status with "System busy".
func (s *Server) FailNext(n, status int) { s.srv.FailNext(n, status) }

// UnpaidNext makes the next n createOrderV2 paying from the balance (payType 2) create the
// order and leave it UNPAID, as CJ does when the balance does not cover it: no stock is
// deducted and the order does not ship until it is paid (SetStatus UNSHIPPED, as paying in
// CJ's dashboard does). code is how CJ answers: 0 is success naming the unpaid order (with
// its cjPayUrl), else a CJ code such as 1604000 (balance insufficient), 1604001 or 1603101
// (payment failed).
func (s *Server) UnpaidNext(n, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unpaidNext, s.unpaidCode = n, code
}

// takeUnpaid uses up one of the failures UnpaidNext asked for. Call it with s.mu held.
func (s *Server) takeUnpaid() (unpaid bool, code int) {
	if s.unpaidNext <= 0 {
		return false, 0
	}
	s.unpaidNext--
	return true, s.unpaidCode
}

// AcceptThenFail makes the next n createOrderV2 that succeed answer 500 after creating the
// order: the reply is lost after CJ accepted.
func (s *Server) AcceptThenFail(n int) { s.srv.AcceptThenFail(n) }

// SetStock sets the stock of the variant a supplier_sku names (its vid, or "sku:" and its SKU).
func (s *Server) SetStock(sku string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v := s.variant(sku); v != nil {
		v.Stock = n
	}
}

// SetDelay makes every request wait d before it is handled (0 = none).
func (s *Server) SetDelay(d time.Duration) { s.srv.SetDelay(d) }

// OpenID is the account's openId as CJ writes it in tokens and signatures.
func (s *Server) OpenID() string { return formatInt(s.opts.OpenID) }

func (s *Server) now() time.Time { return s.opts.Now().UTC() }

func (s *Server) variant(sku string) *Variant {
	if v, ok := strings.CutPrefix(sku, "sku:"); ok {
		for _, x := range s.variants {
			if strings.EqualFold(x.SKU, v) {
				return x
			}
		}
		return nil
	}
	return s.variants[sku]
}

func (o *Order) clone() Order {
	c := *o
	c.ProductList = append([]OrderProduct(nil), o.ProductList...)
	c.Placed.Products = append([]PlaceProduct(nil), o.Placed.Products...)
	return c
}
