// Package printful is dropsync's connector for Printful (supplier kind printful), a
// print-on-demand supplier, over Printful's API v1. It places, reads and cancels purchase
// orders as Printful orders, reads availability and cost of the merchant's Printful variants,
// and authenticates and decodes Printful's webhook events. Every Printful answer becomes one
// of dropsync's error codes so that the jobs layer can decide between retrying and giving up.
//
// Built from Printful's public documentation:
//   - API v1 reference: https://developers.printful.com/docs/ (orders, external ids with the
//     "@" prefix, confirm, store variants, catalog variants, the {"code","result","error"}
//     envelope, the 120 calls per minute limit)
//   - Webhooks: https://www.printful.com/docs/webhooks (package_shipped, order_canceled,
//     order_failed, order_put_hold, order_updated; retried after 1, 4, 16, 64, 256 and 1024
//     minutes until answered with 200)
//
// Purchase orders. The purchase order id is the Printful order's external_id. Printful has no
// idempotency key, so PlaceOrder first reads GET /orders/@{external_id} and creates only when
// Printful has no such order; Printful itself also refuses a second order with an external_id
// it already holds, and a refused create is followed by the same read, so two workers racing
// end with one order. Orders are created confirmed (submitted for fulfilment, Printful charges
// the card on file) or as drafts the merchant confirms in Printful's dashboard, per the
// supplier's confirm setting. A draft counts as accepted. A refusal counts only once that
// read finds no order: when the read fails, its (retryable) error is returned instead.
//
// Variant mapping. The mappings CSV's supplier_sku names a variant of the merchant's Printful
// store: digits (or "sync:<id>") are a sync variant id, "@<id>" an external variant id.
// Catalog and warehouse variants are not supported: ordering them needs print files or
// Printful's warehousing programme, which a purchase order does not carry. Each order item's
// external_id is the supplier_sku it was placed with, so parcels name the SKUs they hold.
//
// Statuses. draft, pending and onhold are accepted (on hold needs the merchant in Printful's
// dashboard; dropsync keeps polling), inprocess is in_production, partial partially_shipped,
// fulfilled shipped, canceled cancelled and failed failed.
//
// Stock and cost. Printful prints on demand and reports availability, not counts: an
// available variant is reported with AvailableOnDemand units, an unavailable one with 0. The
// cost is the catalog variant's price, in USD (v1 catalog prices carry no currency).
//
// Refusals. Printful answers refusals with 400 and a sentence, not a code; the sentence is
// classified (out of stock or discontinued, unknown variant, unsupported country, invalid
// recipient) and the item it names ("Item 1: ...", or a variant id) becomes the refused SKU.
// A 400 that fits none of these is EINVALID, so a person looks at it.
//
// Cancelling. Printful cancels drafts and pending orders; once an order is in production
// Printful refuses, and dropsync reports ECONFLICT with Reason already_shipped when a parcel
// has left, or ReasonNotCancellable when Printful is printing it. Cancelling a cancelled
// order succeeds.
//
// Events. Printful does not sign webhook deliveries. dropsync authenticates them by a secret
// in the webhook URL registered with Printful: https://<dropsync>/webhooks/suppliers/<id>?token=<webhook_secret>,
// compared in constant time. Order events carry the whole order, so they are applied without
// another call; the tracking poll (GetOrder by id or by external id) finds parcels whose
// event was lost.
//
// Rate limit. Printful allows 120 calls a minute and answers 429 beyond that. A 429 (and a
// reply saying no calls remain) makes this process send nothing more to Printful until the
// window has passed: calls in the meantime return ERATELIMITED with the delay at once. The
// delay is Retry-After, else X-Ratelimit-Reset (seconds, or a Unix time), else the seconds
// named in the message, else a minute. The documentation does not name its rate-limit
// headers for v1; these are the ones an integrator would look for.
//
// Not supported by Printful's API, and how dropsync copes: line item properties (engravings,
// personalised text) have no field and are not sent; order notes have no field either, and
// the storefront order name goes to the packing slip's custom_order_id instead.
package printful

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/connectors/supplier/supplierapi"
	"github.com/dropsync/dropsync/internal/dropsync"
)

// Defaults for a Config's optional fields.
const (
	DefaultBaseURL        = "https://api.printful.com"
	DefaultTimeout        = 15 * time.Second
	DefaultShippingMethod = "STANDARD"
)

// AvailableOnDemand is the stock reported for a variant Printful can print now: Printful
// reports availability, not counts, and no storefront order comes near this many.
const AvailableOnDemand = 10000

// ReasonNotCancellable is the Reason of the ECONFLICT a cancel gets when Printful is already
// producing the order although nothing has shipped yet.
const ReasonNotCancellable = dropsync.ReasonNotCancellable

// Config is one configured supplier of kind printful.
type Config struct {
	ID, BaseURL, Token, WebhookSecret, StoreID, ShippingMethod string
	// Confirm submits orders for fulfilment at once; false leaves drafts to confirm by hand.
	Confirm bool
	Timeout time.Duration // per request; default 15s
}

// Supplier is a Printful client for one configured supplier. It is safe for concurrent use.
type Supplier struct {
	cfg    Config
	base   *url.URL
	badURL error // why BaseURL is unusable; every call returns it
	client *http.Client
	now    func() time.Time
	log    zerolog.Logger

	mu sync.Mutex
	// blockedUntil is when Printful's rate limit lets this process call again.
	blockedUntil time.Time
}

// New returns a client for the configured supplier. A nil client means a default one that
// does not follow redirects (a redirected POST loses its body); cfg.Timeout bounds every
// request either way. now tells the time (nil: time.Now). An unusable BaseURL is reported as
// EINVALID by every call, so that config validation stays the one place reporting config
// problems at start.
func New(cfg Config, client *http.Client, now func() time.Time, log zerolog.Logger) *Supplier {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.ShippingMethod == "" {
		cfg.ShippingMethod = DefaultShippingMethod
	}
	if client == nil {
		client = supplierapi.NewClient(0)
	}
	if now == nil {
		now = time.Now
	}
	s := &Supplier{cfg: cfg, client: client, now: now, log: log.With().Str("supplier", cfg.ID).Logger()}
	s.base, s.badURL = supplierapi.ParseBaseURL(cfg.BaseURL)
	return s
}

// ID is the supplier's configured id.
func (s *Supplier) ID() string { return s.cfg.ID }

// PlaceOrder creates the purchase order at Printful with its ExternalID as the order's
// external_id, unless Printful already holds an order with that external_id, which it
// returns instead. Errors: EPERMANENT (Reason out_of_stock, unknown_sku, invalid_address,
// unsupported_country) when Printful refuses it, ERATELIMITED with RetryAfter, EUNAVAILABLE
// for outages, timeouts and garbled replies, EUNAUTHORIZED, EINVALID.
func (s *Supplier) PlaceOrder(ctx context.Context, req dropsync.SupplierOrderRequest) (dropsync.SupplierOrder, error) {
	if err := supplierapi.CheckOrder(s.cfg.ID, req); err != nil {
		return dropsync.SupplierOrder{}, err
	}
	op := "place order " + req.ExternalID
	body, err := s.placeBody(req)
	if err != nil {
		return dropsync.SupplierOrder{}, s.wrapErr(op, err)
	}
	data, err := supplierapi.EncodeJSON(body)
	if err != nil {
		return dropsync.SupplierOrder{}, dropsync.Wrap(dropsync.EINTERNAL, err, "supplier %s: %s: encode", s.cfg.ID, op)
	}

	// A retry after a lost reply must find the order the first attempt created.
	if o, found, err := s.lookup(ctx, op, req.ExternalID); err != nil || found {
		return o, err
	}
	c := call{
		op: op, method: http.MethodPost, path: []string{"orders"},
		query: url.Values{"confirm": {strconv.FormatBool(s.cfg.Confirm)}},
		body:  data, redact: supplierapi.PersonalData(req), items: req.Items, refusable: true,
	}
	var o wireOrder
	if err := s.do(ctx, c, &o); err != nil {
		if code := dropsync.ErrorCode(err); code == dropsync.EPERMANENT || code == dropsync.EINVALID {
			// Printful refuses a second order with an external_id it holds: another worker
			// may have placed this one since the lookup. The refusal is final only once
			// Printful is known to hold no such order; while that is unknown (the read was
			// rate limited, timed out, met an outage), the read's error stands, so the task
			// is retried rather than the purchase order failed with Printful holding it.
			o, found, lerr := s.lookup(ctx, op, req.ExternalID)
			switch {
			case lerr != nil:
				return dropsync.SupplierOrder{}, lerr
			case found:
				return o, nil
			}
		}
		return dropsync.SupplierOrder{}, err
	}
	return s.order(op, o, dropsync.SupplierOrderRef{ExternalID: req.ExternalID})
}

// lookup reads the order with the external id; found is false when Printful has none.
func (s *Supplier) lookup(ctx context.Context, op, externalID string) (dropsync.SupplierOrder, bool, error) {
	var o wireOrder
	err := s.do(ctx, call{op: op + ": look up", method: http.MethodGet, path: []string{"orders", "@" + externalID}}, &o)
	if found, err := supplierapi.Found(err); !found {
		return dropsync.SupplierOrder{}, false, err
	}
	so, err := s.order(op, o, dropsync.SupplierOrderRef{ExternalID: externalID})
	return so, err == nil, err
}

// GetOrder reads the order by Printful's id, or by the purchase order id when the id is not
// known. Errors: ENOTFOUND, ERATELIMITED, EUNAVAILABLE, EUNAUTHORIZED, EINVALID (no ref).
func (s *Supplier) GetOrder(ctx context.Context, ref dropsync.SupplierOrderRef) (dropsync.SupplierOrder, error) {
	op := "get order " + supplierapi.RefName(ref)
	id, err := s.orderPath(op, ref)
	if err != nil {
		return dropsync.SupplierOrder{}, err
	}
	var o wireOrder
	if err := s.do(ctx, call{op: op, method: http.MethodGet, path: []string{"orders", id}}, &o); err != nil {
		return dropsync.SupplierOrder{}, err
	}
	return s.order(op, o, ref)
}

// CancelOrder cancels the order at Printful; cancelling a cancelled order succeeds. Errors:
// ECONFLICT with Reason already_shipped once a parcel has left, or ReasonNotCancellable while
// Printful produces it; ENOTFOUND, ERATELIMITED, EUNAVAILABLE, EUNAUTHORIZED, EINVALID.
func (s *Supplier) CancelOrder(ctx context.Context, ref dropsync.SupplierOrderRef) (dropsync.SupplierOrder, error) {
	op := "cancel order " + supplierapi.RefName(ref)
	id, err := s.orderPath(op, ref)
	if err != nil {
		return dropsync.SupplierOrder{}, err
	}
	cur, err := s.GetOrder(ctx, ref)
	if err != nil {
		return dropsync.SupplierOrder{}, err
	}
	if done, err := s.cancelled(op, cur); done || err != nil {
		return cur, err
	}
	var o wireOrder
	derr := s.do(ctx, call{op: op, method: http.MethodDelete, path: []string{"orders", id}}, &o)
	if derr == nil {
		return s.order(op, o, ref)
	}
	if code := dropsync.ErrorCode(derr); code != dropsync.EINVALID && code != dropsync.EPERMANENT {
		return dropsync.SupplierOrder{}, derr
	}
	// Printful refused: the order moved on since it was read.
	if cur, err = s.GetOrder(ctx, ref); err != nil {
		return dropsync.SupplierOrder{}, err
	}
	if done, err := s.cancelled(op, cur); done || err != nil {
		return cur, err
	}
	return dropsync.SupplierOrder{}, derr
}

// cancelled reports whether the order is cancelled already, or the error a cancel gets.
func (s *Supplier) cancelled(op string, o dropsync.SupplierOrder) (bool, error) {
	switch {
	case o.Status == string(dropsync.POCancelled):
		return true, nil
	case len(o.Shipments) > 0:
		return false, &dropsync.Error{Code: dropsync.ECONFLICT, Reason: dropsync.ReasonAlreadyShipped,
			Message: "supplier " + s.cfg.ID + ": " + op + ": a parcel has shipped"}
	case o.Status == string(dropsync.POInProduction):
		return false, &dropsync.Error{Code: dropsync.ECONFLICT, Reason: ReasonNotCancellable,
			Message: "supplier " + s.cfg.ID + ": " + op + ": Printful is producing the order and no longer cancels it"}
	}
	return false, nil
}

// orderPath is the {id} of /orders/{id}: Printful's id, or "@" and the external id.
func (s *Supplier) orderPath(op string, ref dropsync.SupplierOrderRef) (string, error) {
	switch {
	case ref.ID != "":
		return ref.ID, nil
	case ref.ExternalID != "":
		return "@" + ref.ExternalID, nil
	}
	return "", dropsync.Errorf(dropsync.EINVALID, "supplier %s: %s: no order id or external id", s.cfg.ID, op)
}

// Inventory returns availability and cost of the SKUs Printful knows; others are absent.
// Each SKU costs two calls (the store variant, then its catalog variant). Errors:
// ERATELIMITED, EUNAVAILABLE, EUNAUTHORIZED, EINVALID.
func (s *Supplier) Inventory(ctx context.Context, skus []string) ([]dropsync.Stock, error) {
	seen := map[string]bool{}
	var out []dropsync.Stock
	for _, sku := range skus {
		if sku == "" || seen[sku] {
			continue
		}
		seen[sku] = true
		ref, err := parseVariantRef(sku)
		if err != nil {
			continue // not a Printful variant: Printful cannot know it
		}
		st, known, err := s.stock(ctx, sku, ref)
		if err != nil {
			return nil, err
		}
		if known {
			out = append(out, st)
		}
	}
	return out, nil
}

func (s *Supplier) stock(ctx context.Context, sku string, ref variantRef) (dropsync.Stock, bool, error) {
	op := "inventory of " + sku
	var sv wireSyncVariant
	err := s.do(ctx, call{op: op, method: http.MethodGet, path: []string{"store", "variants", ref.path()}}, &sv)
	if found, err := supplierapi.Found(err); !found {
		return dropsync.Stock{}, false, err
	}
	if sv.VariantID == 0 {
		return dropsync.Stock{}, false, dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: %s: reply names no catalog variant", s.cfg.ID, op)
	}
	var cv wireCatalogVariant
	err = s.do(ctx, call{op: op, method: http.MethodGet, path: []string{"products", "variant", strconv.FormatInt(sv.VariantID, 10)}}, &cv)
	if found, err := supplierapi.Found(err); !found {
		return dropsync.Stock{}, false, err
	}
	if cv.Variant.Price == nil {
		return dropsync.Stock{}, false, dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: %s: reply has no price", s.cfg.ID, op)
	}
	available := 0
	if cv.Variant.InStock && sv.available() {
		available = AvailableOnDemand
	}
	currency := cv.Variant.Currency
	if currency == "" {
		currency = "USD"
	}
	return dropsync.Stock{SKU: sku, Available: available,
		UnitCost: dropsync.Money{Amount: *cv.Variant.Price, Currency: currency}}, true, nil
}

// order turns a decoded order into dropsync's, checking that it is the order asked for: an
// answer about another order is as useless as a garbled one.
func (s *Supplier) order(op string, o wireOrder, ref dropsync.SupplierOrderRef) (dropsync.SupplierOrder, error) {
	so := o.domain(s.now)
	switch {
	case so.ID == "" || so.ID == "0":
		return dropsync.SupplierOrder{}, dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: %s: reply has no order id", s.cfg.ID, op)
	case ref.ID != "" && so.ID != ref.ID:
		return dropsync.SupplierOrder{}, dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: %s: reply is about order %s", s.cfg.ID, op, so.ID)
	case ref.ExternalID != "" && so.ExternalID != ref.ExternalID:
		return dropsync.SupplierOrder{}, dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: %s: reply is about external id %q", s.cfg.ID, op, so.ExternalID)
	}
	return so, nil
}

// wrapErr names the supplier and operation in an error built without them.
func (s *Supplier) wrapErr(op string, err error) error {
	e, ok := err.(*dropsync.Error)
	if !ok {
		return dropsync.Wrap(dropsync.EINTERNAL, err, "supplier %s: %s", s.cfg.ID, op)
	}
	c := *e
	c.Message = "supplier " + s.cfg.ID + ": " + op + ": " + e.Message
	return &c
}
