package dropsync

import (
	"github.com/shopspring/decimal"
)

// SupplierOrderRequest is what dropsync asks a supplier to ship: one purchase order. Its
// ExternalID is the purchase order id, the supplier's idempotency key. It carries the
// customer's address: never log it.
type SupplierOrderRequest struct {
	ExternalID      string          `json:"external_id"`
	OrderName       string          `json:"order_name"`
	Currency        string          `json:"currency"`
	ShippingAddress Address         `json:"shipping_address"`
	Email           string          `json:"email,omitempty"`
	Items           []SupplierItem  `json:"items"`
	ShippingMethod  string          `json:"shipping_method,omitempty"`
	Note            string          `json:"note,omitempty"`
	PackingSlip     *PackingSlip    `json:"packing_slip,omitempty"`
	Total           decimal.Decimal `json:"-"`
}

// SupplierItem is one supplier SKU and quantity to ship, with its cost per supplier unit.
type SupplierItem struct {
	SKU        string          `json:"sku"`
	Quantity   int             `json:"quantity"`
	UnitCost   decimal.Decimal `json:"unit_cost"`
	Properties []Property      `json:"properties,omitempty"`
	// Title is the storefront line's title, for suppliers that print it.
	Title string `json:"title,omitempty"`
}

// PackingSlip is the merchant's branding for the parcel.
type PackingSlip struct {
	StoreName string `json:"store_name,omitempty"`
	Message   string `json:"message,omitempty"`
}

// SupplierOrder is a supplier's view of one order it accepted.
type SupplierOrder struct {
	ID         string     `json:"id"`
	ExternalID string     `json:"external_id"`
	Status     string     `json:"status"`
	Shipments  []Shipment `json:"shipments"`
}

// SupplierOrderRef names an order at a supplier: by the supplier's id when known, else by
// dropsync's external id (the purchase order id).
type SupplierOrderRef struct {
	ID         string
	ExternalID string
}

// SupplierEvent is what a supplier's webhook said about one order. When Order is nil the
// event is only a hint and the order must be read from the supplier.
type SupplierEvent struct {
	Supplier string
	Ref      SupplierOrderRef
	Order    *SupplierOrder
}

// Stock is a supplier's live availability and cost of one of its SKUs.
type Stock struct {
	SKU       string `json:"sku"`
	Available int    `json:"available"`
	UnitCost  Money  `json:"unit_cost"`
}

// Supplier rejection reasons (supplier-http-v1 422 codes), shared by every connector.
const (
	ReasonOutOfStock         = "out_of_stock"
	ReasonUnknownSKU         = "unknown_sku"
	ReasonInvalidAddress     = "invalid_address"
	ReasonUnsupportedCountry = "unsupported_country"
	ReasonAlreadyShipped     = "already_shipped"
	// ReasonNotCancellable: the supplier cannot cancel the order any more (in production,
	// paid) although nothing has shipped; someone must settle it with the supplier.
	ReasonNotCancellable = "not_cancellable"
	// ReasonNotSent marks a failure before any request left dropsync (e.g. a local rate
	// limiter refused it): the remote side cannot have acted on it.
	ReasonNotSent = "not_sent"
)

// Rejection returns the permanent error a supplier gives for a purchase order it refuses.
func Rejection(reason, sku, message string) *Error {
	e := &Error{Code: EPERMANENT, Reason: reason, Message: message, SKU: sku}
	if e.Message == "" {
		e.Message = reason
	}
	if sku != "" {
		e.Message += " (sku " + sku + ")"
	}
	return e
}
