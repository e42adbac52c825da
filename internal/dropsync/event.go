package dropsync

import (
	"time"
)

// Storefront webhook topics dropsync handles.
const (
	TopicOrdersCreate        = "orders/create"
	TopicOrdersUpdated       = "orders/updated"
	TopicOrdersPaid          = "orders/paid"
	TopicOrdersCancelled     = "orders/cancelled"
	TopicOrdersEdited        = "orders/edited"
	TopicRefundsCreate       = "refunds/create"
	TopicAppUninstalled      = "app/uninstalled"
	TopicCustomersDataReq    = "customers/data_request"
	TopicCustomersRedact     = "customers/redact"
	TopicShopRedact          = "shop/redact"
	SourceWebhook            = "webhook"
	SourcePoll               = "poll"
	SourceOperator           = "operator"
	SourceSupplier           = "supplier"
	SourceSupplierPoll       = "supplier_poll"
	SourceStorefrontCallback = "storefront"
)

// StorefrontEvent is a verified storefront notification: a webhook delivery or an order the
// poller found. Sale is set for order topics; Payload keeps the body of other topics.
type StorefrontEvent struct {
	Shop       string      `json:"shop"`
	Topic      string      `json:"topic"`
	WebhookID  string      `json:"webhook_id,omitempty"`
	Source     string      `json:"source"`
	ReceivedAt time.Time   `json:"received_at"`
	Sale       *Sale       `json:"sale,omitempty"`
	Refund     *Refund     `json:"refund,omitempty"`
	OrderID    int64       `json:"order_id,omitempty"`
	Compliance *Compliance `json:"compliance,omitempty"`
}

// Compliance is a privacy request (customers/data_request, customers/redact, shop/redact)
// reduced to ids: the customer's email and phone in Shopify's body are not kept, so the
// queued request itself holds no personal data.
type Compliance struct {
	CustomerID    int64   `json:"customer_id,omitempty"`
	OrderIDs      []int64 `json:"order_ids,omitempty"`
	DataRequestID int64   `json:"data_request_id,omitempty"`
}
