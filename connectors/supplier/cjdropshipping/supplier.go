// Package cjdropshipping is dropsync's connector for CJdropshipping (supplier kind
// cjdropshipping) over CJ's API 2.0. It keeps CJ's access token fresh and shared by every
// dropsync process, places, reads and cancels purchase orders as CJ orders, reads stock and
// cost of CJ variants, and authenticates and decodes CJ's webhook messages. Every CJ answer
// becomes one of dropsync's error codes so that the jobs layer can decide between retrying
// and giving up.
//
// Built from CJ's public documentation:
//   - Authentication: https://developers.cjdropshipping.com/en/api/api2/api/auth.html and
//     https://developers.cjdropshipping.cn/en/api/start/token.html (getAccessToken,
//     refreshAccessToken; access tokens live 15 days, refresh tokens 180; a token may be
//     requested with the API key once every five minutes; QPS 1)
//   - Orders: https://developers.cjdropshipping.com/en/api/api2/api/shopping.html
//     (createOrderV2 and its shipping fields, logisticName, fromCountryCode, payType;
//     getOrderDetail by CJ order id or by the merchant's order number; deleteOrder, which
//     works only before the order is confirmed; order statuses)
//   - Products and stock: https://developers.cjdropshipping.com/en/api/api2/api/product.html
//     (variant/queryByVid, stock/queryByVid, product/query by variantSku)
//   - Error codes: https://developers.cjdropshipping.com/en/api/api2/standard/ps-code.html
//     (the {"code","result","message","data","requestId"} envelope; 1600001 invalid token,
//     1600200 too many requests, 1603003 order number already used, …)
//   - Webhooks: https://developers.cjdropshipping.cn/en/api/start/webhook.html and
//     https://developers.cjdropshipping.cn/en/api/api2/api/webhook.html (ORDER and
//     LOGISTIC messages; the "sign" header, HMAC-SHA256 of the raw body keyed by the
//     account's openId, Base64)
//
// Token. The token comes from the API key (the documented {"apiKey"} form; a legacy key
// without "@api@" is sent as {"email","password"} with the configured email, the form older
// accounts use). It lives in the TokenStore, shared by all processes; one process at a time
// renews it, under the store's lock. It is renewed a day before it expires, with the refresh
// token while that lives and with the API key otherwise, and never with the API key twice
// within five minutes (CJ refuses that; dropsync answers ERATELIMITED with the wait instead of
// asking). A reply saying the token is invalid renews it once and repeats the request once; a
// second refusal is EUNAUTHORIZED, never a loop.
//
// Purchase orders. The purchase order id is CJ's orderNumber (CJ allows 50 characters; a
// longer id is sent without its ".myshopify.com", which is put back when CJ names the
// order). CJ documents no idempotency key, so PlaceOrder holds a per-order lock in the
// TokenStore, reads getOrderDetail by order number, and creates only when CJ has no such
// order; CJ itself refuses a second order with a number it holds (1603003), which is answered
// by reading the order it holds; a worker finding another placing the same order waits for it
// and returns that order. Orders are created with payType 2 (paid from the CJ balance at
// once, which is what ships them). An order CJ creates but cannot pay (it answers UNPAID, or
// a payment or balance error and the lookup then finds the order UNPAID) never ships, so it
// is not reported as placed: PlaceOrder answers EUNAVAILABLE telling the operator to top up
// the CJ balance or pay the order in CJ's dashboard, the task retries, and an order still
// unpaid when the retries run out ends failed, visible, rather than forwarded and silent.
// The shipping method is the configured logistic_name from the from_country warehouse.
//
// SKUs. The mappings CSV's supplier_sku is a CJ variant id (vid); "sku:<CJ variant SKU>"
// names a variant by its SKU instead. Line item properties and the order note travel in CJ's
// order remark (500 characters), the one free-text field an order has.
//
// Statuses. CREATED, IN_CART and UNPAID are accepted when an order is read (PlaceOrder
// refuses UNPAID, above), UNSHIPPED (paid, being packed) in_production, SHIPPED and DELIVERED
// shipped, CANCELLED cancelled. CJ ships an order as one parcel with one tracking number;
// getOrderDetail carries it with the logistics name and tracking URL, which is all a
// storefront fulfillment needs, so logistic/trackInfo (the carrier's scan events) is not
// called. getOrderDetail takes the merchant's order number as well as CJ's id (its orderId
// parameter "supports the customer order id and the CJ order id"); dropsync reads it that way.
//
// Stock and cost. Stock is the variant's inventory in the from_country warehouse; cost is its
// sell price, in USD (CJ prices in USD).
//
// Cancelling. CJ's API deletes an order only before it is confirmed and paid. dropsync tries,
// and reports ECONFLICT with Reason already_shipped once it has shipped, or
// ReasonNotCancellable when CJ refuses an unshipped paid order; the merchant then cancels it
// in CJ's dashboard. A deleted order is read back as cancelled; should CJ forget it instead,
// GetOrder answers ENOTFOUND, which the pipeline takes as cancelled too.
//
// Events. CJ signs webhook messages with the "sign" header, keyed by the account's openId.
// The openId is an account identifier (it is in every token reply, and anyone who has seen
// one message may know it), not a secret, so a signature alone does not make a message
// true. With webhook_secret configured, register the callback URL with the secret,
// https://<dropsync>/webhooks/suppliers/<id>?token=<webhook_secret>: every delivery must
// carry it (compared in constant time), a signature without it is refused, and an ORDER
// message's state is applied as it stands. Without webhook_secret, a delivery is accepted
// when its signature verifies with the openId dropsync has from the token, but as a hint
// only: the event names the order and the pipeline reads the order through the API, so a
// forged message can cost a read, never a false state. LOGISTIC messages are always hints.
// The tracking poll (GetOrder) finds what a lost message would have said.
//
// Rate limit. CJ allows one call a second per account (QPS 1) and answers 1600200 beyond
// that. Calls are paced through the TokenStore's Pacer so that all processes together keep
// the pace; a call that would wait more than a few seconds returns ERATELIMITED instead of
// holding a worker. 1600200 itself is ERATELIMITED with a one-second delay; 1600201 (quota
// used up) with an hour.
package cjdropshipping

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/connectors/supplier/supplierapi"
	"github.com/dropsync/dropsync/internal/dropsync"
)

// Defaults for a Config's optional fields.
const (
	DefaultBaseURL     = "https://developers.cjdropshipping.com/api2.0/v1"
	DefaultTimeout     = 15 * time.Second
	DefaultFromCountry = "CN"
	// DefaultInterval is the gap between two calls: CJ allows one call a second.
	DefaultInterval = time.Second
)

// ReasonNotCancellable is the Reason of the ECONFLICT a cancel gets when CJ refuses to
// delete an order that is paid but not shipped.
const ReasonNotCancellable = dropsync.ReasonNotCancellable

const (
	// maxPaceWait is the longest a call waits for its slot; beyond it the call returns
	// ERATELIMITED so the task is retried later instead of holding a worker.
	maxPaceWait = 5 * time.Second
	// refreshMargin renews the token this long before CJ's expiry.
	refreshMargin = 24 * time.Hour
	// tokenRequestGap is how often CJ lets a token be requested with the API key.
	tokenRequestGap = 5 * time.Minute
)

// Config is one configured supplier of kind cjdropshipping. CJ ships by LogisticName, from
// the FromCountry warehouse (default CN); it has no shipping method of its own.
type Config struct {
	ID, BaseURL, Email, APIKey, WebhookSecret, LogisticName, FromCountry string
	Timeout                                                              time.Duration // per request; default 15s
}

// Supplier is a CJ client for one configured supplier. It is safe for concurrent use.
type Supplier struct {
	cfg    Config
	base   *url.URL
	badURL error
	client *http.Client
	store  TokenStore
	pacer  Pacer
	now    func() time.Time
	log    zerolog.Logger
	// interval is the gap kept between calls (DefaultInterval); a field so tests can
	// shorten it.
	interval time.Duration
	// lockWait is how long a call waits for another process's token renewal.
	lockWait time.Duration

	mu     sync.Mutex
	openID string // the account's openId, once known
}

// New returns a client for the configured supplier. store keeps the token (nil: a
// MemoryTokenStore, for one process). A nil client means a default one that does not follow
// redirects; cfg.Timeout bounds every request either way. now tells the time (nil:
// time.Now). An unusable BaseURL is reported as EINVALID by every call.
func New(cfg Config, client *http.Client, store TokenStore, now func() time.Time, log zerolog.Logger) *Supplier {
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.FromCountry == "" {
		cfg.FromCountry = DefaultFromCountry
	}
	cfg.FromCountry = strings.ToUpper(cfg.FromCountry)
	if client == nil {
		client = supplierapi.NewClient(0)
	}
	if now == nil {
		now = time.Now
	}
	if store == nil {
		store = NewMemoryTokenStore()
	}
	s := &Supplier{cfg: cfg, client: client, store: store, now: now,
		log: log.With().Str("supplier", cfg.ID).Logger(), interval: DefaultInterval, lockWait: 10 * time.Second}
	if p, ok := store.(Pacer); ok {
		s.pacer = p
	} else {
		// Paced per process: better than not at all.
		s.pacer = NewMemoryTokenStore()
	}
	s.base, s.badURL = supplierapi.ParseBaseURL(cfg.BaseURL)
	return s
}

// ID is the supplier's configured id.
func (s *Supplier) ID() string { return s.cfg.ID }

// PlaceOrder creates the purchase order at CJ with its ExternalID as the order number,
// unless CJ already holds an order with that number, which it returns instead. Errors:
// EPERMANENT (Reason out_of_stock, unknown_sku, invalid_address, unsupported_country) when CJ
// refuses it, ERATELIMITED with RetryAfter, EUNAVAILABLE for outages, timeouts, an empty
// balance and another worker placing the same order, EUNAUTHORIZED, EINVALID.
func (s *Supplier) PlaceOrder(ctx context.Context, req dropsync.SupplierOrderRequest) (dropsync.SupplierOrder, error) {
	if err := supplierapi.CheckOrder(s.cfg.ID, req); err != nil {
		return dropsync.SupplierOrder{}, err
	}
	op := "place order " + req.ExternalID
	if s.cfg.LogisticName == "" {
		return dropsync.SupplierOrder{}, dropsync.Errorf(dropsync.EINVALID, "supplier %s: %s: no logistic_name configured", s.cfg.ID, op)
	}
	num, err := s.orderNumber(req.ExternalID)
	if err != nil {
		return dropsync.SupplierOrder{}, s.named(op, err)
	}
	body, err := s.placeBody(req, num)
	if err != nil {
		return dropsync.SupplierOrder{}, s.named(op, err)
	}
	data, err := supplierapi.EncodeJSON(body)
	if err != nil {
		return dropsync.SupplierOrder{}, dropsync.Wrap(dropsync.EINTERNAL, err, "supplier %s: %s: encode", s.cfg.ID, op)
	}

	// One worker at a time places a purchase order: CJ has no idempotency key, so the lookup
	// and the create must not interleave with another worker's. A worker that finds the lock
	// taken waits for it, then finds the order the other one placed.
	unlock, err := s.placeLock(ctx, op, num)
	if err != nil {
		return dropsync.SupplierOrder{}, err
	}
	defer unlock()

	if o, found, err := s.lookup(ctx, op, num, req.ExternalID); err != nil || found {
		return o, err
	}
	var created wireCreated
	err = s.do(ctx, call{op: op, method: http.MethodPost, path: "shopping/order/createOrderV2", body: data,
		place: true, items: req.Items, redact: personalData(req, body)}, &created)
	if err != nil {
		if cjCode(err) == codeOrderExists {
			// CJ holds an order with this number: that order is the answer, paid or not.
			if o, found, lerr := s.lookup(ctx, op, num, req.ExternalID); lerr != nil || found {
				return o, lerr
			}
		}
		return dropsync.SupplierOrder{}, s.nameRefusedSKU(ctx, err, req.Items)
	}
	if created.OrderID == "" {
		// CJ leaves the id out when it renumbers the order; the order number finds it.
		if o, found, err := s.lookup(ctx, op, num, req.ExternalID); err != nil || found {
			return o, err
		}
		return dropsync.SupplierOrder{}, dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: %s: CJ accepted the order without naming it", s.cfg.ID, op)
	}
	if isUnpaid(created.OrderStatus) {
		return dropsync.SupplierOrder{}, s.unpaid(op, string(created.OrderID))
	}
	status := statuses[strings.ToUpper(created.OrderStatus)]
	if status == "" {
		status = dropsync.POAccepted
	}
	return dropsync.SupplierOrder{ID: string(created.OrderID), ExternalID: req.ExternalID, Status: string(status)}, nil
}

// placeLock takes the lock on placing the order number, waiting up to lockWait while
// another worker holds it.
func (s *Supplier) placeLock(ctx context.Context, op, num string) (unlock func(), _ error) {
	deadline := time.Now().Add(s.lockWait)
	for {
		unlock, ok, err := s.store.Lock(ctx, "place:"+num, 4*s.cfg.Timeout+2*maxPaceWait)
		switch {
		case err != nil:
			return nil, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "supplier %s: %s: lock", s.cfg.ID, op)
		case ok:
			return unlock, nil
		case time.Now().After(deadline):
			return nil, dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: %s: another worker is placing it", s.cfg.ID, op)
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, dropsync.Wrap(dropsync.EUNAVAILABLE, ctx.Err(), "supplier %s: %s: waiting for another worker placing it", s.cfg.ID, op)
		case <-t.C:
		}
	}
}

// lookup reads the order with the order number before (or after) creating it; found is
// false when CJ has none. An order CJ holds unpaid is found, with the error unpaid: placing
// it is not done until it is paid.
func (s *Supplier) lookup(ctx context.Context, op, num, externalID string) (dropsync.SupplierOrder, bool, error) {
	o, err := s.detail(ctx, op+": look up", num)
	if found, err := supplierapi.Found(err); !found {
		return dropsync.SupplierOrder{}, false, err
	}
	so, err := s.order(op, o, dropsync.SupplierOrderRef{ExternalID: externalID})
	if err != nil {
		return dropsync.SupplierOrder{}, false, err
	}
	if isUnpaid(o.OrderStatus) {
		return dropsync.SupplierOrder{}, true, s.unpaid(op, so.ID)
	}
	return so, true, nil
}

// isUnpaid reports whether CJ holds the order without payment. dropsync always pays from
// the balance (payType 2), so an unpaid order is one the balance did not cover.
func isUnpaid(status string) bool { return strings.EqualFold(strings.TrimSpace(status), "UNPAID") }

// unpaid is the error of an order CJ created but could not pay: it never ships as it is, so
// it must not count as placed. EUNAVAILABLE makes the task retry (and the retry's lookup ask
// again); an order still unpaid when the retries run out ends failed, where the operator sees
// it. The message names CJ's order id only, never the customer.
func (s *Supplier) unpaid(op, id string) error {
	return dropsync.Errorf(dropsync.EUNAVAILABLE,
		"supplier %s: %s: CJ holds order %s unpaid (the CJ balance did not cover it): top up the CJ balance or pay the order in CJ's dashboard; dropsync retries",
		s.cfg.ID, op, id)
}

// GetOrder reads the order by CJ's id, or by the purchase order id when the id is not known.
// Errors: ENOTFOUND, ERATELIMITED, EUNAVAILABLE, EUNAUTHORIZED, EINVALID (no ref).
func (s *Supplier) GetOrder(ctx context.Context, ref dropsync.SupplierOrderRef) (dropsync.SupplierOrder, error) {
	op := "get order " + supplierapi.RefName(ref)
	id, err := s.orderKey(op, ref)
	if err != nil {
		return dropsync.SupplierOrder{}, err
	}
	o, err := s.detail(ctx, op, id)
	if err != nil {
		return dropsync.SupplierOrder{}, err
	}
	return s.order(op, o, ref)
}

func (s *Supplier) detail(ctx context.Context, op, id string) (wireOrder, error) {
	var o wireOrder
	err := s.do(ctx, call{op: op, method: http.MethodGet, path: "shopping/order/getOrderDetail",
		query: url.Values{"orderId": {id}}, lookup: true}, &o)
	if err == nil && o.OrderID == "" && o.OrderNum == "" {
		err = dropsync.Errorf(dropsync.ENOTFOUND, "supplier %s: %s: CJ has no such order", s.cfg.ID, op)
	}
	return o, err
}

// CancelOrder deletes the order at CJ; cancelling a cancelled order succeeds. Errors:
// ECONFLICT with Reason already_shipped once the parcel has left, or ReasonNotCancellable
// when CJ will not delete a paid order; ENOTFOUND, ERATELIMITED, EUNAVAILABLE, EUNAUTHORIZED,
// EINVALID.
func (s *Supplier) CancelOrder(ctx context.Context, ref dropsync.SupplierOrderRef) (dropsync.SupplierOrder, error) {
	op := "cancel order " + supplierapi.RefName(ref)
	cur, err := s.GetOrder(ctx, ref)
	if err != nil {
		return dropsync.SupplierOrder{}, err
	}
	if done, err := s.cancelled(op, cur); done || err != nil {
		return cur, err
	}
	var deleted string
	derr := s.do(ctx, call{op: op, method: http.MethodDelete, path: "shopping/order/deleteOrder",
		query: url.Values{"orderId": {cur.ID}}, cancel: true}, &deleted)
	if derr == nil {
		cur.Status = string(dropsync.POCancelled)
		return cur, nil
	}
	if dropsync.ErrorCode(derr) != dropsync.ECONFLICT {
		return dropsync.SupplierOrder{}, derr
	}
	// CJ refused: read what the order is now, so a late shipment is named as such.
	if now, err := s.GetOrder(ctx, ref); err == nil {
		if done, err := s.cancelled(op, now); done || err != nil {
			return now, err
		}
	}
	return dropsync.SupplierOrder{}, derr
}

func (s *Supplier) cancelled(op string, o dropsync.SupplierOrder) (bool, error) {
	switch {
	case o.Status == string(dropsync.POCancelled):
		return true, nil
	case len(o.Shipments) > 0 || o.Status == string(dropsync.POShipped):
		return false, &dropsync.Error{Code: dropsync.ECONFLICT, Reason: dropsync.ReasonAlreadyShipped,
			Message: "supplier " + s.cfg.ID + ": " + op + ": the parcel has shipped"}
	}
	return false, nil
}

// orderKey is what getOrderDetail looks an order up by: CJ's id, else the order number.
func (s *Supplier) orderKey(op string, ref dropsync.SupplierOrderRef) (string, error) {
	if ref.ID != "" {
		return ref.ID, nil
	}
	if ref.ExternalID != "" {
		num, err := s.orderNumber(ref.ExternalID)
		if err != nil {
			return "", s.named(op, err)
		}
		return num, nil
	}
	return "", dropsync.Errorf(dropsync.EINVALID, "supplier %s: %s: no order id or external id", s.cfg.ID, op)
}

// Inventory returns stock (in the from_country warehouse) and cost of the SKUs CJ knows;
// others are absent. Each SKU costs two paced calls. Errors: ERATELIMITED, EUNAVAILABLE,
// EUNAUTHORIZED, EINVALID.
func (s *Supplier) Inventory(ctx context.Context, skus []string) ([]dropsync.Stock, error) {
	seen := map[string]bool{}
	var out []dropsync.Stock
	for _, sku := range skus {
		if strings.TrimSpace(sku) == "" || seen[sku] {
			continue
		}
		seen[sku] = true
		st, known, err := s.stock(ctx, sku)
		if err != nil {
			return nil, err
		}
		if known {
			out = append(out, st)
		}
	}
	return out, nil
}

func (s *Supplier) stock(ctx context.Context, sku string) (dropsync.Stock, bool, error) {
	op := "inventory of " + sku
	v, known, err := s.variant(ctx, op, sku)
	if err != nil || !known {
		return dropsync.Stock{}, false, err
	}
	var rows []wireStock
	err = s.do(ctx, call{op: op, method: http.MethodGet, path: "product/stock/queryByVid",
		query: url.Values{"vid": {v.VID}}, lookup: true}, &rows)
	if found, err := supplierapi.Found(err); !found {
		return dropsync.Stock{}, false, err
	}
	available := 0
	for _, r := range rows {
		if strings.EqualFold(r.CountryCode, s.cfg.FromCountry) {
			available += r.total()
		}
	}
	return dropsync.Stock{SKU: sku, Available: available,
		UnitCost: dropsync.Money{Amount: *v.SellPrice, Currency: "USD"}}, true, nil
}

// variant reads the CJ variant a supplier_sku names; known is false when CJ has none.
func (s *Supplier) variant(ctx context.Context, op, sku string) (wireVariant, bool, error) {
	ref := parseSKU(sku)
	var v wireVariant
	var err error
	if ref.sku != "" {
		var p wireProduct
		err = s.do(ctx, call{op: op, method: http.MethodGet, path: "product/query",
			query: url.Values{"variantSku": {ref.sku}}, lookup: true}, &p)
		if err == nil {
			for _, pv := range p.Variants {
				if strings.EqualFold(pv.VariantSKU, ref.sku) {
					v = pv
				}
			}
		}
	} else {
		err = s.do(ctx, call{op: op, method: http.MethodGet, path: "product/variant/queryByVid",
			query: url.Values{"vid": {ref.vid}}, lookup: true}, &v)
	}
	if found, err := supplierapi.Found(err); !found {
		return wireVariant{}, false, err
	}
	if v.VID == "" {
		return wireVariant{}, false, nil
	}
	if v.SellPrice == nil {
		return wireVariant{}, false, dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: %s: reply has no sell price", s.cfg.ID, op)
	}
	return v, true, nil
}

// nameRefusedSKU finds which item a refusal that names none is about, when the order has
// several: CJ's "Variant not found" and inventory refusals do not say which.
func (s *Supplier) nameRefusedSKU(ctx context.Context, err error, items []dropsync.SupplierItem) error {
	var e *dropsync.Error
	if !errors.As(err, &e) || e.Code != dropsync.EPERMANENT || e.SKU != "" || len(items) < 2 {
		return err
	}
	for _, it := range items {
		st, known, serr := s.stock(ctx, it.SKU)
		if serr != nil {
			return err // the refusal stands for the whole order
		}
		if (e.Reason == dropsync.ReasonUnknownSKU && !known) ||
			(e.Reason == dropsync.ReasonOutOfStock && known && st.Available < it.Quantity) {
			c := *e
			c.SKU, c.Message = it.SKU, e.Message+" (sku "+it.SKU+")"
			return &c
		}
	}
	return err
}

// order turns a decoded order into dropsync's, checking it is the order asked for.
func (s *Supplier) order(op string, o wireOrder, ref dropsync.SupplierOrderRef) (dropsync.SupplierOrder, error) {
	so := o.domain(s.externalID, s.now)
	switch {
	case so.ID == "":
		return dropsync.SupplierOrder{}, dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: %s: reply has no order id", s.cfg.ID, op)
	case ref.ID != "" && so.ID != ref.ID:
		return dropsync.SupplierOrder{}, dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: %s: reply is about order %s", s.cfg.ID, op, so.ID)
	case ref.ExternalID != "" && so.ExternalID != ref.ExternalID:
		return dropsync.SupplierOrder{}, dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: %s: reply is about order number %q", s.cfg.ID, op, o.OrderNum)
	}
	return so, nil
}

// named puts the supplier and operation in front of an error's message (after the supplier
// when the message names it already).
func (s *Supplier) named(op string, err error) error {
	var e *dropsync.Error
	if !errors.As(err, &e) {
		return dropsync.Wrap(dropsync.EINTERNAL, err, "supplier %s: %s", s.cfg.ID, op)
	}
	c := *e
	prefix := "supplier " + s.cfg.ID + ": "
	c.Message = prefix + op + ": " + strings.TrimPrefix(e.Message, prefix)
	return &c
}
