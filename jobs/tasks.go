// Package jobs is dropsync's pipeline: the asynq task vocabulary (type names, payloads and
// constructors, all in this file), the handlers that move an order from the storefront to
// suppliers and back, the middleware written once for every task, the retry policy, and the
// periodic work. Every handler is safe to run twice: it re-reads the order, acts only on the
// state it finds, and every external effect carries an idempotency key or is checked first.
package jobs

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// Task type names.
const (
	TypeOrderIngest  = "order:ingest"  // a storefront event about an order to store
	TypeOrderVerify  = "order:verify"  // check an order and plan its purchase orders
	TypePOForward    = "po:forward"    // place one purchase order at its supplier
	TypePOTracking   = "po:tracking"   // merge what a supplier says about a purchase order
	TypePOPoll       = "po:poll"       // read a supplier's open purchase orders (periodic)
	TypeShipmentPush = "shipment:push" // record one parcel as a storefront fulfillment
	TypeOrderCancel  = "order:cancel"  // cancel an order's purchase orders at the suppliers
	TypeInvoiceIssue = "invoice:issue" // issue the order's invoice or credit notes
	TypeShopPoll     = "shop:poll"     // reconcile a shop's recently updated orders (periodic)
	TypeShopEvent    = "shop:event"    // a storefront event about the shop or a customer
	TypeShopSweep    = "shop:sweep"    // re-drive unfinished orders, delete expired ones (periodic)
	TypeOrderPurge   = "order:purge"   // erase the tasks holding a redacted order's data
)

// Queues and their priorities: intake first so webhooks are never starved, storefront and
// supplier work next, periodic reconciliation last.
const (
	QueueIntake      = "intake"
	QueueFulfilment  = "fulfilment"
	QueueTracking    = "tracking"
	QueueMaintenance = "maintenance"
)

// Queues maps queue names to their asynq priority weights.
var Queues = map[string]int{QueueIntake: 6, QueueFulfilment: 4, QueueTracking: 3, QueueMaintenance: 1}

// Headers every order task carries, so middleware can log and mark failures without
// decoding payloads.
const (
	HeaderShop    = "shop"
	HeaderOrderID = "order_id"
)

// How long finished tasks are kept, which is also how long their ids block duplicates.
// Shopify retries a webhook for 4 hours; its dedupe id must outlive that.
const (
	webhookRetention = 48 * time.Hour
	stepRetention    = 2 * time.Hour
)

// IngestPayload carries one storefront event about an order.
type IngestPayload struct {
	Event dropsync.StorefrontEvent `json:"event"`
}

// OrderPayload names an order and the verification round a task belongs to.
type OrderPayload struct {
	Shop    string `json:"shop"`
	OrderID int64  `json:"order_id"`
	Round   int    `json:"round,omitempty"`
}

// POPayload names one purchase order.
type POPayload struct {
	Shop    string `json:"shop"`
	OrderID int64  `json:"order_id"`
	POID    string `json:"po_id"`
	Round   int    `json:"round,omitempty"`
}

// TrackingPayload carries a supplier's word about one purchase order.
type TrackingPayload struct {
	Event dropsync.SupplierEvent `json:"event"`
}

// ShipmentPayload names one parcel of a purchase order.
type ShipmentPayload struct {
	Shop       string `json:"shop"`
	OrderID    int64  `json:"order_id"`
	POID       string `json:"po_id"`
	ShipmentID string `json:"shipment_id"`
}

// SupplierPollPayload names the supplier whose open purchase orders to read.
type SupplierPollPayload struct {
	Supplier string `json:"supplier"`
}

// ShopPollPayload names the shop to reconcile.
type ShopPollPayload struct {
	Shop string `json:"shop"`
}

// InvoicePayload names the order to invoice; RefundID, when set, asks for that refund's
// credit note, and Cancel for the credit note of a cancellation.
type InvoicePayload struct {
	Round int `json:"round,omitempty"`
	// Version is the order's updated_at (Unix ms) an invoice is issued for: a newer version
	// (one that may add up where the last did not) gets a task of its own.
	Version  int64  `json:"version,omitempty"`
	Shop     string `json:"shop"`
	OrderID  int64  `json:"order_id"`
	RefundID int64  `json:"refund_id,omitempty"`
	Cancel   bool   `json:"cancel,omitempty"`
}

func orderHeaders(shop string, id int64) map[string]string {
	return map[string]string{HeaderShop: shop, HeaderOrderID: strconv.FormatInt(id, 10)}
}

func newTask(typ string, payload any, headers map[string]string, opts ...asynq.Option) (*asynq.Task, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", typ, err)
	}
	return asynq.NewTaskWithHeaders(typ, b, headers, opts...), nil
}

// NewIngestTask stores a storefront order event. A webhook delivery's id makes redeliveries
// of it duplicates; a polled order is identified by its id and updated_at.
func NewIngestTask(ev dropsync.StorefrontEvent) (*asynq.Task, error) {
	var id string
	switch {
	case ev.WebhookID != "":
		id = "ingest:" + ev.Shop + ":wh:" + ev.WebhookID
	case ev.Sale != nil:
		id = fmt.Sprintf("ingest:%s:%d:%d", ev.Shop, ev.Sale.ID, ev.Sale.UpdatedAt.UnixMilli())
	}
	opts := []asynq.Option{asynq.Queue(QueueIntake), asynq.MaxRetry(25), asynq.Retention(webhookRetention)}
	if id != "" {
		opts = append(opts, asynq.TaskID(id))
	}
	typ := TypeOrderIngest
	var oid int64
	if ev.Sale != nil {
		oid = ev.Sale.ID
	} else {
		oid = ev.OrderID
	}
	if ev.Sale == nil && ev.Refund == nil && ev.OrderID == 0 {
		typ = TypeShopEvent
	}
	return newTask(typ, IngestPayload{Event: ev}, orderHeaders(ev.Shop, oid), opts...)
}

// NewVerifyTask verifies an order for one round.
func NewVerifyTask(shop string, id int64, round int) (*asynq.Task, error) {
	return newTask(TypeOrderVerify, OrderPayload{Shop: shop, OrderID: id, Round: round}, orderHeaders(shop, id),
		asynq.Queue(QueueFulfilment), asynq.MaxRetry(20), asynq.Retention(stepRetention),
		asynq.TaskID(fmt.Sprintf("verify:%s:%d:%d", shop, id, round)))
}

// NewForwardTask places one purchase order; one task per purchase order and round.
func NewForwardTask(shop string, id int64, poID string, round int) (*asynq.Task, error) {
	return newTask(TypePOForward, POPayload{Shop: shop, OrderID: id, POID: poID, Round: round}, orderHeaders(shop, id),
		asynq.Queue(QueueFulfilment), asynq.MaxRetry(20), asynq.Retention(stepRetention),
		asynq.TaskID(fmt.Sprintf("forward:%s:%d", poID, round)))
}

// NewTrackingTask merges a supplier's event. Events are hints that only move state forward,
// so repeats need no dedupe id.
func NewTrackingTask(ev dropsync.SupplierEvent) (*asynq.Task, error) {
	var headers map[string]string
	if shop, id, err := dropsync.ParsePOID(ev.Ref.ExternalID, ev.Supplier); err == nil {
		headers = orderHeaders(shop, id)
	}
	return newTask(TypePOTracking, TrackingPayload{Event: ev}, headers,
		asynq.Queue(QueueTracking), asynq.MaxRetry(20), asynq.Retention(time.Minute))
}

// NewPushTask records one parcel at the storefront; the tracking number is part of the id so
// a corrected tracking number is pushed again, and the round so a released order can retry.
func NewPushTask(shop string, id int64, poID, shipmentID, tracking string, round int) (*asynq.Task, error) {
	return newTask(TypeShipmentPush, ShipmentPayload{Shop: shop, OrderID: id, POID: poID, ShipmentID: shipmentID},
		orderHeaders(shop, id), asynq.Queue(QueueFulfilment), asynq.MaxRetry(25), asynq.Retention(stepRetention),
		asynq.TaskID(fmt.Sprintf("push:%s:%s:%s:%d", poID, shipmentID, tracking, round)))
}

// NewSupplierPollTask reads a supplier's open purchase orders; the period in the id makes
// every scheduler of the same period enqueue it once.
func NewSupplierPollTask(supplier string, period int64) (*asynq.Task, error) {
	return newTask(TypePOPoll, SupplierPollPayload{Supplier: supplier}, nil,
		asynq.Queue(QueueMaintenance), asynq.MaxRetry(2), asynq.Retention(stepRetention),
		asynq.TaskID(fmt.Sprintf("poll:%s:%d", supplier, period)))
}

// NewShopPollTask reconciles a shop's orders for one period.
func NewShopPollTask(shop string, period int64) (*asynq.Task, error) {
	return newTask(TypeShopPoll, ShopPollPayload{Shop: shop}, map[string]string{HeaderShop: shop},
		asynq.Queue(QueueMaintenance), asynq.MaxRetry(3), asynq.Retention(stepRetention),
		asynq.TaskID(fmt.Sprintf("shoppoll:%s:%d", shop, period)))
}

// NewShopSweepTask sweeps a shop's orders for one period.
func NewShopSweepTask(shop string, period int64) (*asynq.Task, error) {
	return newTask(TypeShopSweep, ShopPollPayload{Shop: shop}, map[string]string{HeaderShop: shop},
		asynq.Queue(QueueMaintenance), asynq.MaxRetry(3), asynq.Retention(stepRetention),
		asynq.TaskID(fmt.Sprintf("sweep:%s:%d", shop, period)))
}

// NewPurgeTask erases, a moment later, the finished tasks that carried personal data of an
// order whose customer data was erased (a delivery that came after the erasure).
func NewPurgeTask(shop string, id int64, version int64) (*asynq.Task, error) {
	return newTask(TypeOrderPurge, OrderPayload{Shop: shop, OrderID: id}, map[string]string{HeaderShop: shop},
		asynq.Queue(QueueMaintenance), asynq.MaxRetry(20), asynq.Retention(time.Minute),
		asynq.ProcessIn(2*time.Second), asynq.TaskID(fmt.Sprintf("purge:%s:%d:%d", shop, id, version)))
}

// NewCancelTask cancels an order's purchase orders at the suppliers.
func NewCancelTask(shop string, id int64, round int) (*asynq.Task, error) {
	return newTask(TypeOrderCancel, OrderPayload{Shop: shop, OrderID: id, Round: round}, orderHeaders(shop, id),
		asynq.Queue(QueueFulfilment), asynq.MaxRetry(20), asynq.Retention(stepRetention),
		asynq.TaskID(fmt.Sprintf("cancel:%s:%d:%d", shop, id, round)))
}

// NewInvoiceTask issues an order's invoice, or the credit note of one refund.
func NewInvoiceTask(p InvoicePayload) (*asynq.Task, error) {
	id := fmt.Sprintf("invoice:%s:%d:%d:%d", p.Shop, p.OrderID, p.Round, p.Version)
	switch {
	case p.RefundID != 0:
		id = fmt.Sprintf("credit:%s:%d:%d:%d", p.Shop, p.OrderID, p.RefundID, p.Round)
	case p.Cancel:
		id = fmt.Sprintf("credit:%s:%d:cancel:%d", p.Shop, p.OrderID, p.Round)
	}
	return newTask(TypeInvoiceIssue, p, orderHeaders(p.Shop, p.OrderID),
		asynq.Queue(QueueMaintenance), asynq.MaxRetry(20), asynq.Retention(stepRetention), asynq.TaskID(id))
}
