// Package http is dropsync's connector for suppliers of kind http: suppliers that speak the
// dropsync supplier protocol, HTTP v1 (supplier-http-v1). It places, reads and cancels
// purchase orders, reads stock and cost, and authenticates and decodes the events such a
// supplier posts to dropsync. It turns every supplier answer into dropsync's error codes so
// that the jobs layer can decide between retrying and giving up.
package http

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/connectors/supplier/supplierapi"
	"github.com/dropsync/dropsync/internal/dropsync"
)

// Defaults for a Config's optional fields.
const (
	DefaultTimeout        = 15 * time.Second
	DefaultShippingMethod = "standard"
)

// inventoryBatch is the most SKUs asked for in one GET /inventory: it keeps the query string
// well under the URL length limits of common servers and proxies.
const inventoryBatch = 100

// Config is one configured supplier of kind http.
type Config struct {
	ID, BaseURL, Token, WebhookSecret string
	Timeout                           time.Duration // per request; default 15s
	ShippingMethod                    string        // default "standard"
}

// Supplier is a client for one supplier that speaks supplier-http-v1. It is safe for
// concurrent use.
type Supplier struct {
	cfg    Config
	base   *url.URL
	badURL error // why BaseURL is unusable; every call returns it
	client *http.Client
	log    zerolog.Logger
	// now tells the time for Retry-After dates; a field so tests can pin it.
	now func() time.Time
}

// New returns a client for the configured supplier. A nil client means a default one whose
// timeout is cfg.Timeout and which does not follow redirects (a redirected POST would lose
// its body). An unusable BaseURL is reported as EINVALID by every call rather than here, so
// that config validation stays the one place that reports config problems at start.
func New(cfg Config, client *http.Client, log zerolog.Logger) *Supplier {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.ShippingMethod == "" {
		cfg.ShippingMethod = DefaultShippingMethod
	}
	if client == nil {
		client = supplierapi.NewClient(cfg.Timeout)
	}
	s := &Supplier{
		cfg:    cfg,
		client: client,
		log:    log.With().Str("supplier", cfg.ID).Logger(),
		now:    time.Now,
	}
	s.base, s.badURL = supplierapi.ParseBaseURL(cfg.BaseURL)
	return s
}

// ID is the supplier's configured id.
func (s *Supplier) ID() string { return s.cfg.ID }

// PlaceOrder sends the purchase order to the supplier with its ExternalID as the idempotency
// key, so that sending it again after a lost reply returns the order already created. Errors:
// EPERMANENT (Reason out_of_stock, unknown_sku, invalid_address, unsupported_country, …) when
// the supplier refuses it, ERATELIMITED with RetryAfter, EUNAVAILABLE for transient failures,
// EUNAUTHORIZED, ENOTFOUND and EINVALID.
func (s *Supplier) PlaceOrder(ctx context.Context, req dropsync.SupplierOrderRequest) (dropsync.SupplierOrder, error) {
	if err := supplierapi.CheckOrder(s.cfg.ID, req); err != nil {
		return dropsync.SupplierOrder{}, err
	}
	op := "place order " + req.ExternalID
	body, err := supplierapi.EncodeJSON(s.placeBody(req))
	if err != nil {
		return dropsync.SupplierOrder{}, dropsync.Wrap(dropsync.EINTERNAL, err, "supplier %s: %s: encode", s.cfg.ID, op)
	}
	call := call{
		op:      op,
		method:  http.MethodPost,
		path:    []string{"orders"},
		body:    body,
		headers: http.Header{"Idempotency-Key": {req.ExternalID}},
		redact:  supplierapi.PersonalData(req),
	}
	var o wireOrder
	if err := s.do(ctx, call, &o); err != nil {
		return dropsync.SupplierOrder{}, err
	}
	return s.order(op, o, dropsync.SupplierOrderRef{ExternalID: req.ExternalID})
}

// GetOrder reads the order the supplier holds. The protocol looks orders up by the
// supplier's own id only, so ref.ID is required. Errors: ENOTFOUND, EINVALID (no ref.ID),
// ERATELIMITED, EUNAVAILABLE, EUNAUTHORIZED.
func (s *Supplier) GetOrder(ctx context.Context, ref dropsync.SupplierOrderRef) (dropsync.SupplierOrder, error) {
	op := "get order " + supplierapi.RefName(ref)
	if ref.ID == "" {
		return dropsync.SupplierOrder{}, noSupplierID(s.cfg.ID, op)
	}
	var o wireOrder
	if err := s.do(ctx, call{op: op, method: http.MethodGet, path: []string{"orders", ref.ID}}, &o); err != nil {
		return dropsync.SupplierOrder{}, err
	}
	return s.order(op, o, ref)
}

// CancelOrder asks the supplier to cancel the order; cancelling a cancelled order succeeds.
// Errors: ECONFLICT with Reason already_shipped once a parcel has left, ENOTFOUND, EINVALID
// (no ref.ID), ERATELIMITED, EUNAVAILABLE, EUNAUTHORIZED.
func (s *Supplier) CancelOrder(ctx context.Context, ref dropsync.SupplierOrderRef) (dropsync.SupplierOrder, error) {
	op := "cancel order " + supplierapi.RefName(ref)
	if ref.ID == "" {
		return dropsync.SupplierOrder{}, noSupplierID(s.cfg.ID, op)
	}
	var o wireOrder
	c := call{op: op, method: http.MethodPost, path: []string{"orders", ref.ID, "cancel"}, cancel: true}
	if err := s.do(ctx, c, &o); err != nil {
		return dropsync.SupplierOrder{}, err
	}
	return s.order(op, o, ref)
}

// Inventory returns the supplier's stock and cost of the SKUs it knows; SKUs it does not know
// are absent. SKUs are asked for in batches, each batch one request. Errors: ERATELIMITED,
// EUNAVAILABLE, EUNAUTHORIZED, EINVALID.
func (s *Supplier) Inventory(ctx context.Context, skus []string) ([]dropsync.Stock, error) {
	wanted := make(map[string]bool, len(skus))
	var unique []string
	for _, sku := range skus {
		if sku != "" && !wanted[sku] {
			wanted[sku] = true
			unique = append(unique, sku)
		}
	}
	var out []dropsync.Stock
	for start := 0; start < len(unique); start += inventoryBatch {
		batch := unique[start:min(start+inventoryBatch, len(unique))]
		escaped := make([]string, len(batch))
		for i, sku := range batch {
			escaped[i] = url.QueryEscape(sku)
		}
		op := "inventory"
		// The commas stay literal: they separate SKUs, and a comma inside a SKU is escaped.
		c := call{op: op, method: http.MethodGet, path: []string{"inventory"}, rawQuery: "skus=" + strings.Join(escaped, ",")}
		var reply wireInventory
		if err := s.do(ctx, c, &reply); err != nil {
			return nil, err
		}
		for _, it := range reply.Items {
			if !wanted[it.SKU] {
				continue
			}
			if it.UnitCost == nil {
				return nil, dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: %s: sku %s has no unit_cost", s.cfg.ID, op, it.SKU)
			}
			out = append(out, dropsync.Stock{
				SKU:       it.SKU,
				Available: it.Available,
				UnitCost:  dropsync.Money{Amount: *it.UnitCost, Currency: it.Currency},
			})
		}
	}
	return out, nil
}

// order turns a decoded order into dropsync's, checking that it is the order asked for: an
// answer about another order is as useless as a garbled one.
func (s *Supplier) order(op string, o wireOrder, ref dropsync.SupplierOrderRef) (dropsync.SupplierOrder, error) {
	if o.ID == "" {
		o.ID = ref.ID
	}
	if o.ExternalID == "" {
		o.ExternalID = ref.ExternalID
	}
	switch {
	case o.ID == "":
		return dropsync.SupplierOrder{}, dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: %s: reply has no order id", s.cfg.ID, op)
	case ref.ID != "" && o.ID != ref.ID:
		return dropsync.SupplierOrder{}, dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: %s: reply is about order %s", s.cfg.ID, op, o.ID)
	case ref.ExternalID != "" && o.ExternalID != ref.ExternalID:
		return dropsync.SupplierOrder{}, dropsync.Errorf(dropsync.EUNAVAILABLE, "supplier %s: %s: reply is about external id %s", s.cfg.ID, op, o.ExternalID)
	}
	return o.domain(), nil
}

func noSupplierID(supplier, op string) error {
	return dropsync.Errorf(dropsync.EINVALID,
		"supplier %s: %s: the http protocol looks orders up by the supplier's order id, which is not known", supplier, op)
}
