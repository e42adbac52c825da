package jobs

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/internal/config"
	"github.com/dropsync/dropsync/internal/dropsync"
)

// Store is the state the pipeline reads and changes.
type Store interface {
	// Order returns a stored order or ENOTFOUND.
	Order(ctx context.Context, shop string, id int64) (dropsync.Order, error)
	// Upsert changes or creates an order atomically; fn may run more than once and returns
	// dropsync.ErrNoChange to store nothing.
	Upsert(ctx context.Context, shop string, id int64, fn func(o *dropsync.Order, exists bool) error) (dropsync.Order, bool, error)
	// UpdateOrder is Upsert for an existing order (ENOTFOUND otherwise).
	UpdateOrder(ctx context.Context, shop string, id int64, fn func(o *dropsync.Order) error) (dropsync.Order, bool, error)
	// MappingsFor returns the shop's mapping rows of the storefront SKUs.
	MappingsFor(ctx context.Context, shop string, skus []string) ([]dropsync.Mapping, error)
	// OpenPurchaseOrders lists a supplier's accepted, unshipped purchase order ids, those
	// polled longest ago first; TouchOpenPurchaseOrder marks one as polled now.
	OpenPurchaseOrders(ctx context.Context, supplier string, limit int) ([]string, error)
	TouchOpenPurchaseOrder(ctx context.Context, supplier, poID string) error
	// OrderIDs lists a shop's order ids in a state, oldest first, created before a time
	// (zero = any), at most limit (0 = all).
	OrderIDs(ctx context.Context, shop string, state dropsync.OrderState, before time.Time, limit int) ([]int64, error)
	// DeleteOrder removes an order and its index entries.
	DeleteOrder(ctx context.Context, shop string, id int64) error
	// ShopFlag reads a shop-level flag ("" when unset); SetShopFlag writes one ("" removes).
	ShopFlag(ctx context.Context, shop, name string) (string, error)
	SetShopFlag(ctx context.Context, shop, name, value string) error
}

// Supplier is one supplier connector. Errors carry dropsync codes: EPERMANENT with a Reason
// for a refusal, ERATELIMITED with RetryAfter, EUNAVAILABLE for transient failures,
// ENOTFOUND, ECONFLICT (Reason already_shipped) on a late cancel, EUNAUTHORIZED.
type Supplier interface {
	// PlaceOrder is idempotent on req.ExternalID: placing again returns the first order.
	PlaceOrder(ctx context.Context, req dropsync.SupplierOrderRequest) (dropsync.SupplierOrder, error)
	GetOrder(ctx context.Context, ref dropsync.SupplierOrderRef) (dropsync.SupplierOrder, error)
	CancelOrder(ctx context.Context, ref dropsync.SupplierOrderRef) (dropsync.SupplierOrder, error)
	// Inventory returns live stock and cost; SKUs the supplier does not know are absent.
	Inventory(ctx context.Context, skus []string) ([]dropsync.Stock, error)
}

// Storefront is the storefront's Admin API as the pipeline needs it. Errors carry dropsync
// codes; ERATELIMITED carries the delay the storefront asked for.
type Storefront interface {
	// Fulfill records a parcel as a fulfillment. With checkExisting it first looks for a
	// fulfillment with the same tracking number and returns it (Existing) instead of
	// creating a second one.
	Fulfill(ctx context.Context, req dropsync.FulfillmentRequest, checkExisting bool) (dropsync.Fulfillment, error)
	// UpdateTracking corrects the tracking of a recorded fulfillment.
	UpdateTracking(ctx context.Context, req dropsync.FulfillmentRequest, fulfillmentID int64) error
	// Risk returns the storefront's fraud recommendation for the order: "accept",
	// "investigate", "cancel" or "" when it has none.
	Risk(ctx context.Context, shop string, orderID int64) (string, error)
	// UpdatedOrders reads one page of orders updated at or after since, oldest update first;
	// the cursor continues a walk ("" starts one, a returned "" ends it).
	UpdatedOrders(ctx context.Context, shop string, since time.Time, cursor string) ([]dropsync.Sale, string, error)
	// Order reads one order (ENOTFOUND when the storefront has none).
	Order(ctx context.Context, shop string, id int64) (dropsync.Sale, error)
}

// Enqueuer puts tasks on the queue; *asynq.Client is one.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

// Pipeline holds what the handlers share.
type Pipeline struct {
	cfg        *config.Config
	store      Store
	enq        Enqueuer
	storefront Storefront
	suppliers  map[string]Supplier
	invoices   Invoicer
	compliance ComplianceStore
	janitor    TaskPurger
	obs        Observer
	now        func() time.Time
	log        zerolog.Logger
	stock      *stockCache
}

// Deps are the pipeline's collaborators. Invoices, Janitor and Observer may be nil.
type Deps struct {
	Store      Store
	Enqueuer   Enqueuer
	Storefront Storefront
	Suppliers  map[string]Supplier
	Invoices   Invoicer
	Compliance ComplianceStore
	Janitor    TaskPurger
	Observer   Observer
	Now        func() time.Time
}

// NewPipeline wires the handlers.
func NewPipeline(cfg *config.Config, d Deps, log zerolog.Logger) *Pipeline {
	now := d.Now
	if now == nil {
		now = time.Now
	}
	obs := d.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	return &Pipeline{cfg: cfg, store: d.Store, enq: d.Enqueuer, storefront: d.Storefront,
		suppliers: d.Suppliers, invoices: d.Invoices, compliance: d.Compliance, janitor: d.Janitor, obs: obs,
		now: func() time.Time { return now().UTC() }, log: log,
		stock: newStockCache(30 * time.Second)}
}

// Register adds every handler to the mux.
func (p *Pipeline) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeOrderIngest, p.handleIngest)
	mux.HandleFunc(TypeShopEvent, p.handleShopEvent)
	mux.HandleFunc(TypeOrderVerify, p.handleVerify)
	mux.HandleFunc(TypePOForward, p.handleForward)
	mux.HandleFunc(TypePOTracking, p.handleTracking)
	mux.HandleFunc(TypePOPoll, p.handleSupplierPoll)
	mux.HandleFunc(TypeShipmentPush, p.handlePush)
	mux.HandleFunc(TypeOrderCancel, p.handleCancel)
	mux.HandleFunc(TypeInvoiceIssue, p.handleInvoice)
	mux.HandleFunc(TypeShopPoll, p.handleShopPoll)
	mux.HandleFunc(TypeShopSweep, p.handleShopSweep)
	mux.HandleFunc(TypeOrderPurge, p.handlePurge)
}

// enqueue puts a task on the queue; see enqueue.
func (p *Pipeline) enqueue(ctx context.Context, t *asynq.Task, err error) error {
	return enqueue(ctx, p.enq, t, err)
}

// enqueue puts a task built by a constructor on the queue. A task whose id is already queued
// or retained is a duplicate and counts as done.
func enqueue(ctx context.Context, enq Enqueuer, t *asynq.Task, err error) error {
	if err != nil {
		return err
	}
	if _, err := enq.EnqueueContext(ctx, t); err != nil {
		if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
			return nil
		}
		return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "enqueue %s", t.Type())
	}
	return nil
}

// reconcile enqueues whatever the stored order says comes next. Every task it makes has a
// deterministic id, so calling it again (a retried handler, a duplicate event) enqueues
// nothing new; calling it after every change is what makes a crash between storing and
// enqueueing harmless.
func (p *Pipeline) reconcile(ctx context.Context, o dropsync.Order) error {
	var errs []error
	add := func(t *asynq.Task, err error) { errs = append(errs, p.enqueue(ctx, t, err)) }
	if o.CancelledAt != nil && o.State != dropsync.StateCancelled && o.State != dropsync.StateIgnored && !o.CancelHandled() {
		add(NewCancelTask(o.Shop, o.ID, o.Round))
	}
	switch o.State {
	case dropsync.StateReceived:
		add(NewVerifyTask(o.Shop, o.ID, o.Round))
	case dropsync.StateForwarding:
		for _, po := range o.PurchaseOrders {
			if po.State == dropsync.POPending {
				add(NewForwardTask(o.Shop, o.ID, po.ID, o.Round))
			}
		}
	}
	if o.State != dropsync.StateFailed && o.State != dropsync.StateHeld {
		for _, po := range o.PurchaseOrders {
			for _, sh := range po.Shipments {
				if !sh.Pushed {
					add(NewPushTask(o.Shop, o.ID, po.ID, sh.ID, sh.TrackingNumber, o.Round))
				}
			}
		}
	}
	if p.invoiceDue(o) {
		add(NewInvoiceTask(InvoicePayload{Shop: o.Shop, OrderID: o.ID, Round: o.Round, Version: o.UpdatedAt.UnixMilli()}))
	}
	return errors.Join(errs...)
}

func (p *Pipeline) shop(domain string) (config.Shop, bool) {
	return p.cfg.Shop(domain)
}

// stockCache keeps suppliers' live stock briefly, so a burst of orders for one SKU asks the
// supplier once.
type stockCache struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]stockEntry
}

type stockEntry struct {
	stock dropsync.Stock
	known bool
	at    time.Time
}

func newStockCache(ttl time.Duration) *stockCache {
	return &stockCache{ttl: ttl, m: map[string]stockEntry{}}
}

func (c *stockCache) get(supplier, sku string, now time.Time) (stockEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[supplier+"\x00"+sku]
	if !ok || now.Sub(e.at) > c.ttl {
		return stockEntry{}, false
	}
	return e, true
}

func (c *stockCache) put(supplier, sku string, e stockEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 100_000 {
		c.m = map[string]stockEntry{}
	}
	c.m[supplier+"\x00"+sku] = e
}

// forget drops a SKU so the next check asks the supplier again (after a refusal).
func (c *stockCache) forget(supplier, sku string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, supplier+"\x00"+sku)
}
