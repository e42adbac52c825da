package dropsync

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// OrderState is where dropsync is with an order, as the admin API reports it.
type OrderState string

// Order states. received → held | ignored | forwarding → forwarded → partially_shipped →
// shipped → fulfilled; cancelled from any state before shipped; failed when a step has
// exhausted its retries.
const (
	StateReceived         OrderState = "received"
	StateHeld             OrderState = "held"
	StateIgnored          OrderState = "ignored"
	StateForwarding       OrderState = "forwarding"
	StateForwarded        OrderState = "forwarded"
	StatePartiallyShipped OrderState = "partially_shipped"
	StateShipped          OrderState = "shipped"
	StateFulfilled        OrderState = "fulfilled"
	StateCancelled        OrderState = "cancelled"
	StateFailed           OrderState = "failed"
)

// OrderStates lists every order state, in pipeline order.
var OrderStates = []OrderState{StateReceived, StateHeld, StateIgnored, StateForwarding,
	StateForwarded, StatePartiallyShipped, StateShipped, StateFulfilled, StateCancelled, StateFailed}

// Valid reports whether s is a known state.
func (s OrderState) Valid() bool {
	for _, k := range OrderStates {
		if s == k {
			return true
		}
	}
	return false
}

// Order is dropsync's record of one storefront order: the storefront's Sale plus what
// dropsync did with it. It is stored as one document so that a state change is one atomic
// write.
type Order struct {
	Sale
	State      OrderState `json:"state"`
	HoldReason string     `json:"hold_reason,omitempty"`
	// Holds are the rules that hold the order, HoldReason their summary.
	Holds []Hold `json:"holds,omitempty"`
	// Overrides are the rules an operator chose to go past on release.
	Overrides []string `json:"overrides,omitempty"`
	// Exclusions are supplier SKUs that refused this order; planning skips them.
	Exclusions     []Exclusion     `json:"exclusions,omitempty"`
	PurchaseOrders []PurchaseOrder `json:"purchase_orders,omitempty"`
	InvoiceNumber  string          `json:"invoice_number,omitempty"`
	// InvoiceError says why the invoice could not be issued (e.g. amounts that do not add up
	// to the order's total): it is never adjusted silently, it waits for a person.
	InvoiceError string `json:"invoice_error,omitempty"`
	// CancelNotice is set when a cancellation arrived after a parcel had shipped: what did
	// not ship was cancelled, what did goes on.
	CancelNotice string `json:"cancel_notice,omitempty"`
	// Notices are things an operator should see that need no action from dropsync, such as a
	// storefront edit that came after the supplier had the order.
	Notices    []Event   `json:"notices,omitempty"`
	Timeline   []Event   `json:"timeline"`
	ReceivedAt time.Time `json:"received_at"`
	// RedactedAt is set once the customer's personal data was erased.
	RedactedAt *time.Time `json:"redacted_at,omitempty"`
	// Round counts verification rounds; task ids include it so a release can verify again.
	Round int `json:"round"`
	// Version increases with every stored change.
	Version int64 `json:"version"`
}

// Event is one entry of an order's timeline. Detail never holds customer data.
type Event struct {
	At     time.Time `json:"at"`
	Event  string    `json:"event"`
	Detail string    `json:"detail"`
}

// maxTimeline bounds an order's timeline; the oldest entries after the first go first.
const maxTimeline = 200

// Record appends an event to the timeline.
func (o *Order) Record(at time.Time, event, detail string) {
	o.Timeline = append(o.Timeline, Event{At: at.UTC(), Event: event, Detail: detail})
	if n := len(o.Timeline); n > maxTimeline {
		o.Timeline = append(o.Timeline[:1], o.Timeline[n-maxTimeline+1:]...)
	}
}

// Notice records and surfaces something an operator should know.
func (o *Order) Notice(at time.Time, event, detail string) {
	o.Notices = append(o.Notices, Event{At: at.UTC(), Event: event, Detail: detail})
	o.Record(at, event, detail)
}

// Redact erases the customer's personal data from the order, its purchase orders' item
// personalisation included; see Sale.Redact.
func (o *Order) Redact(at time.Time, why string) {
	o.Sale.Redact()
	for i := range o.PurchaseOrders {
		for j := range o.PurchaseOrders[i].Items {
			for k := range o.PurchaseOrders[i].Items[j].Properties {
				o.PurchaseOrders[i].Items[j].Properties[k].Value = Redacted
			}
		}
	}
	t := at.UTC()
	o.RedactedAt = &t
	o.Record(at, "redacted", why)
}

// Placed reports whether any purchase order of the order has reached, or may have reached,
// its supplier.
func (o *Order) Placed() bool {
	for i := range o.PurchaseOrders {
		if o.PurchaseOrders[i].MaybeAtSupplier() {
			return true
		}
	}
	return false
}

// MaybeAtSupplier reports whether the supplier holds, or may hold, the purchase order: it was
// accepted, or a request to place it was begun (its reply may have been lost).
func (po *PurchaseOrder) MaybeAtSupplier() bool {
	return po.SupplierOrderID != "" || po.PlaceAttempts > 0 || (po.State != POPending && po.State != PORejected)
}

// Hold is one rule that stops an order from being forwarded, with a reason a merchant reads.
// Reasons never hold customer data.
type Hold struct {
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
}

// Exclusion records that a supplier refused a SKU for this order, so planning falls back.
type Exclusion struct {
	Supplier    string `json:"supplier"`
	SupplierSKU string `json:"supplier_sku,omitempty"` // empty: the supplier refused the whole order
	Reason      string `json:"reason"`
}

// Excluded returns the reason a supplier SKU may not be used for this order, or "".
func (o *Order) Excluded(supplier, supplierSKU string) string {
	for _, e := range o.Exclusions {
		if e.Supplier == supplier && (e.SupplierSKU == "" || e.SupplierSKU == supplierSKU) {
			return e.Reason
		}
	}
	return ""
}

// Hold moves the order to held with the holds and their joined reason.
func (o *Order) Hold(at time.Time, holds ...Hold) {
	o.State = StateHeld
	o.Holds = holds
	parts := make([]string, len(holds))
	for i, h := range holds {
		parts[i] = h.Rule + ": " + h.Reason
	}
	o.HoldReason = strings.Join(parts, "; ")
	o.Record(at, "held", o.HoldReason)
}

// Fail marks the order failed: a step exhausted its retries. The reason is kept in
// HoldReason so the admin API shows why.
func (o *Order) Fail(at time.Time, reason string) {
	o.State = StateFailed
	o.HoldReason = reason
	o.Holds = nil
	o.Record(at, "failed", reason)
}

// Key is the order's identity across shops.
func (o *Order) Key() string { return OrderKey(o.Shop, o.ID) }

// OrderKey is "<shop>/<id>".
func OrderKey(shop string, id int64) string { return shop + "/" + strconv.FormatInt(id, 10) }

// PurchaseOrder returns a pointer to the purchase order with the id, or nil.
func (o *Order) PurchaseOrder(id string) *PurchaseOrder {
	for i := range o.PurchaseOrders {
		if o.PurchaseOrders[i].ID == id {
			return &o.PurchaseOrders[i]
		}
	}
	return nil
}

// Terminal reports whether the order needs no more work from dropsync's pipeline.
func (o *Order) Terminal() bool {
	switch o.State {
	case StateIgnored, StateFulfilled, StateCancelled:
		return true
	}
	return false
}

// Progressing reports whether the order's state follows its purchase orders (it has been
// forwarded, or is being forwarded).
func (o *Order) Progressing() bool {
	switch o.State {
	case StateForwarding, StateForwarded, StatePartiallyShipped, StateShipped, StateFulfilled:
		return true
	}
	return false
}

// CancelHandled reports whether a storefront cancellation has been acted on.
func (o *Order) CancelHandled() bool {
	return o.State == StateCancelled || o.CancelNotice != ""
}

// AnyShipped reports whether any parcel of the order has left a supplier.
func (o *Order) AnyShipped() bool {
	for _, po := range o.PurchaseOrders {
		if len(po.Shipments) > 0 {
			return true
		}
	}
	return false
}

// Advance derives the order's state from its purchase orders while it is progressing:
// forwarding while any purchase order waits to be accepted, forwarded once all are,
// partially_shipped after the first parcel, shipped when every purchase order's items have
// left, fulfilled when every parcel is also recorded at the storefront. It returns whether
// the state changed.
func (o *Order) Advance(at time.Time) bool {
	if !o.Progressing() {
		return false
	}
	next := o.progress()
	if next == "" || next == o.State {
		return false
	}
	o.State = next
	o.Record(at, string(next), "")
	return true
}

func (o *Order) progress() OrderState {
	active, pending, shipped, parcels, pushed := 0, 0, 0, 0, 0
	for _, po := range o.PurchaseOrders {
		for _, sh := range po.Shipments {
			parcels++
			if sh.Pushed {
				pushed++
			}
		}
		switch po.State {
		case POCancelled, PORejected:
			continue
		case POPending:
			pending++
		}
		active++
		if po.FullyShipped() {
			shipped++
		}
	}
	switch {
	case active == 0 && parcels == 0:
		return ""
	case pending > 0:
		return StateForwarding
	case shipped == active:
		if pushed == parcels {
			return StateFulfilled
		}
		return StateShipped
	case parcels > 0:
		return StatePartiallyShipped
	}
	return StateForwarded
}

// POState is a purchase order's state: dropsync's own pending and rejected, and otherwise
// the supplier's status.
type POState string

// Purchase order states. Supplier statuses only move forward (accepted → in_production →
// partially_shipped → shipped); cancelled and failed end a purchase order unless it shipped.
const (
	POPending          POState = "pending"  // planned, not yet accepted by the supplier
	PORejected         POState = "rejected" // the supplier refused it for good (422)
	POAccepted         POState = "accepted"
	POInProduction     POState = "in_production"
	POPartiallyShipped POState = "partially_shipped"
	POShipped          POState = "shipped"
	POCancelled        POState = "cancelled"
	POFailed           POState = "failed"
)

var poRank = map[POState]int{POPending: 0, POAccepted: 1, POInProduction: 2,
	POPartiallyShipped: 3, POShipped: 4}

// PurchaseOrder is the part of an order one supplier fulfils. Its ID is deterministic and is
// the supplier's idempotency key.
type PurchaseOrder struct {
	ID              string     `json:"id"`
	Supplier        string     `json:"supplier"`
	SupplierOrderID string     `json:"supplier_order_id,omitempty"`
	State           POState    `json:"state"`
	Items           []POItem   `json:"items"`
	Shipments       []Shipment `json:"shipments,omitempty"`
	Error           string     `json:"error,omitempty"`
	// CancelRequested is set when the storefront order was cancelled: the purchase order is
	// cancelled at the supplier unless a parcel has already left.
	CancelRequested bool `json:"cancel_requested,omitempty"`
	// PlaceAttempts counts requests begun to place it: after one, the supplier may hold it
	// even if dropsync never heard back.
	PlaceAttempts int        `json:"place_attempts,omitempty"`
	PlacedAt      *time.Time `json:"placed_at,omitempty"`
	UpdatedAt     time.Time  `json:"updated_at"`
}

// POID is the deterministic purchase order id "<shop>-<order id>-<supplier id>".
func POID(shop string, orderID int64, supplier string) string {
	return shop + "-" + strconv.FormatInt(orderID, 10) + "-" + supplier
}

// ParsePOID splits a purchase order id of the given supplier into shop and order id.
func ParsePOID(id, supplier string) (shop string, orderID int64, err error) {
	rest, ok := strings.CutSuffix(id, "-"+supplier)
	if !ok {
		return "", 0, Errorf(EINVALID, "purchase order id %q does not belong to supplier %q", id, supplier)
	}
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 {
		return "", 0, Errorf(EINVALID, "purchase order id %q is malformed", id)
	}
	n, err := strconv.ParseInt(rest[i+1:], 10, 64)
	if err != nil || n <= 0 {
		return "", 0, Errorf(EINVALID, "purchase order id %q has no order id", id)
	}
	return rest[:i], n, nil
}

// Open reports whether the supplier still has work to do on the purchase order (accepted,
// not yet fully shipped, cancelled or failed): such purchase orders are polled for tracking.
func (po *PurchaseOrder) Open() bool {
	switch po.State {
	case POAccepted, POInProduction, POPartiallyShipped:
		return true
	}
	return false
}

// FullyShipped reports whether every supplier unit of the purchase order has left.
func (po *PurchaseOrder) FullyShipped() bool {
	if po.State == POShipped {
		return true
	}
	if len(po.Shipments) == 0 {
		return false
	}
	shipped := po.shippedPerItem(len(po.Shipments))
	for i, it := range po.Items {
		if shipped[i] < it.Quantity {
			return false
		}
	}
	return true
}

// POItem is one supplier SKU of a purchase order, with the storefront line it fulfils.
// Quantity is in supplier units: the storefront quantity times UnitsPerLine.
type POItem struct {
	LineID       int64      `json:"line_id"`
	SKU          string     `json:"sku"`
	SupplierSKU  string     `json:"supplier_sku"`
	Quantity     int        `json:"quantity"`
	UnitsPerLine int        `json:"units_per_line"`
	LineQuantity int        `json:"line_quantity"`
	UnitCost     Money      `json:"unit_cost"`
	Priority     int        `json:"priority"`
	Properties   []Property `json:"properties,omitempty"`
}

// Shipment is one parcel a supplier sent, and whether it is recorded at the storefront.
type Shipment struct {
	ID             string         `json:"id"`
	Carrier        string         `json:"carrier"`
	TrackingNumber string         `json:"tracking_number"`
	TrackingURL    string         `json:"tracking_url,omitempty"`
	Items          []ShipmentItem `json:"items,omitempty"`
	ShippedAt      time.Time      `json:"shipped_at"`
	// Pushed is set once the parcel is a storefront fulfillment with the current tracking.
	Pushed bool `json:"pushed"`
	// PushAttempts counts storefront calls begun for this parcel; after the first, a retry
	// checks the storefront before creating, since the last call may have succeeded.
	PushAttempts  int   `json:"push_attempts,omitempty"`
	FulfillmentID int64 `json:"fulfillment_id,omitempty"`
	// FulfillmentIDs are all the storefront fulfillments of the parcel (one per location its
	// lines sit at); FulfillmentID is the first.
	FulfillmentIDs []int64    `json:"fulfillment_ids,omitempty"`
	PushedAt       *time.Time `json:"pushed_at,omitempty"`
	// PushedTracking is the tracking number the storefront fulfillment carries; when the
	// supplier corrects a parcel's tracking it differs until the update is pushed.
	PushedTracking string `json:"pushed_tracking,omitempty"`
	// Note explains a parcel that cannot become a fulfillment on its own.
	Note string `json:"note,omitempty"`
}

// ShipmentItem is a quantity of one supplier SKU inside a parcel.
type ShipmentItem struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// Shipment returns a pointer to the parcel with the id, or nil.
func (po *PurchaseOrder) Shipment(id string) *Shipment {
	for i := range po.Shipments {
		if po.Shipments[i].ID == id {
			return &po.Shipments[i]
		}
	}
	return nil
}

// shippedPerItem returns, per item, the supplier units shipped in the first n parcels. A
// parcel's quantity of a SKU fills the items of that SKU in order; a parcel that lists no
// items carries everything not yet shipped.
func (po *PurchaseOrder) shippedPerItem(n int) []int {
	shipped := make([]int, len(po.Items))
	for _, sh := range po.Shipments[:n] {
		if len(sh.Items) == 0 {
			for i, it := range po.Items {
				shipped[i] = it.Quantity
			}
			continue
		}
		for _, si := range sh.Items {
			left := si.Quantity
			for i, it := range po.Items {
				if left == 0 {
					break
				}
				if it.SupplierSKU != si.SKU {
					continue
				}
				take := min(left, it.Quantity-shipped[i])
				shipped[i] += take
				left -= take
			}
		}
	}
	return shipped
}

// LineUnits is a quantity of one storefront line.
type LineUnits struct {
	LineID   int64 `json:"line_id"`
	Quantity int   `json:"quantity"`
}

// ParcelUnits returns the storefront units the parcel with the id completes: a storefront
// unit counts once all of its supplier units are in this parcel or in earlier ones. A parcel
// holding only part of a bundle completes nothing.
func (po *PurchaseOrder) ParcelUnits(shipmentID string) ([]LineUnits, error) {
	k := -1
	for i := range po.Shipments {
		if po.Shipments[i].ID == shipmentID {
			k = i
			break
		}
	}
	if k < 0 {
		return nil, Errorf(ENOTFOUND, "purchase order %s has no parcel %s", po.ID, shipmentID)
	}
	before := po.completedUnits(po.shippedPerItem(k))
	after := po.completedUnits(po.shippedPerItem(k + 1))
	var out []LineUnits
	for _, id := range po.lineIDs() {
		if d := after[id] - before[id]; d > 0 {
			out = append(out, LineUnits{LineID: id, Quantity: d})
		}
	}
	return out, nil
}

func (po *PurchaseOrder) lineIDs() []int64 {
	var ids []int64
	seen := map[int64]bool{}
	for _, it := range po.Items {
		if !seen[it.LineID] {
			seen[it.LineID] = true
			ids = append(ids, it.LineID)
		}
	}
	return ids
}

// completedUnits turns supplier units shipped per item into storefront units completed per
// line: the fewest complete units over the line's items.
func (po *PurchaseOrder) completedUnits(shipped []int) map[int64]int {
	out := map[int64]int{}
	seen := map[int64]bool{}
	for i, it := range po.Items {
		per := max(it.UnitsPerLine, 1)
		units := min(shipped[i]/per, it.LineQuantity)
		if !seen[it.LineID] || units < out[it.LineID] {
			out[it.LineID] = units
		}
		seen[it.LineID] = true
	}
	return out
}

// Merge applies what the supplier reports about the purchase order, only ever moving it
// forward: a status never goes back, parcels are only added, and a parcel's tracking may be
// corrected. It returns the ids of parcels that are new or whose tracking changed, and
// whether anything changed.
func (po *PurchaseOrder) Merge(so SupplierOrder, at time.Time) (touched []string, changed bool) {
	if po.SupplierOrderID == "" && so.ID != "" {
		po.SupplierOrderID = so.ID
		changed = true
	}
	for _, s := range so.Shipments {
		if s.ID == "" {
			s.ID = s.TrackingNumber
		}
		cur := po.Shipment(s.ID)
		if cur == nil {
			s.Pushed, s.FulfillmentID, s.PushedAt, s.PushedTracking = false, 0, nil, ""
			s.ShippedAt = s.ShippedAt.UTC()
			po.Shipments = append(po.Shipments, s)
			touched = append(touched, s.ID)
			changed = true
			continue
		}
		if s.TrackingNumber != "" && (s.TrackingNumber != cur.TrackingNumber ||
			s.Carrier != cur.Carrier || s.TrackingURL != cur.TrackingURL) {
			cur.TrackingNumber, cur.Carrier, cur.TrackingURL = s.TrackingNumber, s.Carrier, s.TrackingURL
			if cur.Pushed {
				cur.Pushed = false
			}
			touched = append(touched, s.ID)
			changed = true
		}
	}
	if next := POState(so.Status); po.canMoveTo(next) {
		po.State = next
		changed = true
	}
	if changed {
		po.UpdatedAt = at.UTC()
	}
	return touched, changed
}

func (po *PurchaseOrder) canMoveTo(next POState) bool {
	if next == po.State || next == "" {
		return false
	}
	switch po.State {
	case POCancelled, PORejected, POFailed, POShipped:
		return false
	}
	switch next {
	case POCancelled, POFailed:
		return len(po.Shipments) == 0
	}
	nr, ok := poRank[next]
	return ok && nr > poRank[po.State]
}

// Validate checks a purchase order before it is sent.
func (po *PurchaseOrder) Validate() error {
	if po.ID == "" || po.Supplier == "" {
		return Errorf(EINVALID, "purchase order needs an id and a supplier")
	}
	if len(po.Items) == 0 {
		return Errorf(EINVALID, "purchase order %s has no items", po.ID)
	}
	for _, it := range po.Items {
		if it.Quantity <= 0 || it.SupplierSKU == "" {
			return Errorf(EINVALID, "purchase order %s has an item without supplier SKU or quantity", po.ID)
		}
	}
	return nil
}

// String names the purchase order for logs.
func (po *PurchaseOrder) String() string {
	return fmt.Sprintf("%s (%s, %s)", po.ID, po.Supplier, po.State)
}
