package printful

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dropsync/dropsync/connectors/supplier/supplierapi"
	"github.com/dropsync/dropsync/internal/dropsync"
)

// TokenParam is the query parameter of the webhook URL registered with Printful that carries
// the supplier's webhook secret: https://<dropsync>/webhooks/suppliers/<id>?token=<secret>.
const TokenParam = supplierapi.TokenParam

// Printful webhook event types dropsync acts on. Each carries the order it is about.
const (
	EventPackageShipped  = "package_shipped"
	EventPackageReturned = "package_returned"
	EventOrderCreated    = "order_created"
	EventOrderUpdated    = "order_updated"
	EventOrderCanceled   = "order_canceled"
	EventOrderFailed     = "order_failed"
	EventOrderPutHold    = "order_put_hold"
	EventOrderRemoveHold = "order_remove_hold"
)

var orderEvents = map[string]bool{
	EventPackageShipped: true, EventPackageReturned: true, EventOrderCreated: true,
	EventOrderUpdated: true, EventOrderCanceled: true, EventOrderFailed: true,
	EventOrderPutHold: true, EventOrderRemoveHold: true,
}

type wireEvent struct {
	Type  string `json:"type"`
	Store int64  `json:"store"`
	Data  struct {
		Shipment *wireShipment `json:"shipment"`
		Order    *wireOrder    `json:"order"`
	} `json:"data"`
}

// ParseEvent authenticates and decodes a Printful webhook delivery. Printful does not sign
// its deliveries, so the secret travels in the URL Printful was given (TokenParam); it is
// compared in constant time before anything is decoded. An order event gives one
// SupplierEvent carrying the order; other events (products, stock) and events for another
// store of the account give none. Errors: EUNAUTHORIZED (missing or wrong token, or no
// webhook secret configured), EINVALID (an authenticated body that is not a Printful event).
func (s *Supplier) ParseEvent(header http.Header, query url.Values, body []byte) ([]dropsync.SupplierEvent, error) {
	if err := supplierapi.CheckURLToken(s.cfg.ID, query, s.cfg.WebhookSecret); err != nil {
		return nil, err
	}

	var ev wireEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, dropsync.Wrap(dropsync.EINVALID, err, "supplier %s: event: malformed body", s.cfg.ID)
	}
	if !orderEvents[ev.Type] {
		return nil, nil
	}
	if s.cfg.StoreID != "" && ev.Store != 0 && strconv.FormatInt(ev.Store, 10) != strings.TrimSpace(s.cfg.StoreID) {
		return nil, nil // another store of the same Printful account
	}
	o := ev.Data.Order
	if o == nil || (o.ID == 0 && o.ExternalID == "") {
		return nil, dropsync.Errorf(dropsync.EINVALID, "supplier %s: event %s: no order", s.cfg.ID, ev.Type)
	}
	// The shipped package is the news; an order snapshot taken before it was added must not
	// lose it.
	if sh := ev.Data.Shipment; sh != nil && sh.ID != 0 && !hasShipment(o.Shipments, sh.ID) {
		o.Shipments = append(o.Shipments, *sh)
	}
	order := o.domain(s.now)
	if order.ID == "0" {
		order.ID = ""
	}
	return []dropsync.SupplierEvent{{
		Supplier: s.cfg.ID,
		Ref:      dropsync.SupplierOrderRef{ID: order.ID, ExternalID: order.ExternalID},
		Order:    &order,
	}}, nil
}

func hasShipment(list []wireShipment, id int64) bool {
	for _, sh := range list {
		if sh.ID == id {
			return true
		}
	}
	return false
}
