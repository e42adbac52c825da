// Package suppliertest is the contract every dropsync supplier connector keeps, written once as
// a test suite and run by each connector's tests against that connector's fake supplier: place
// an order (idempotent on the purchase order id, judged by the create requests the supplier
// receives, not only by the orders it keeps), read its status and parcels, cancel it, read
// stock and cost, take the supplier's events, and classify permanent refusals, transient
// failures and rate limits the same way whoever the supplier is. The jobs layer decides from
// error codes alone, so a connector that classifies differently breaks the pipeline quietly;
// this suite is where that shows.
//
// A connector's test describes itself with a Harness and calls Run:
//
//	func TestContract(t *testing.T) { suppliertest.Run(t, harness()) }
//
// Where a supplier's API cannot do something (Printful reports availability, not counts; CJ
// cannot cancel a paid order), the Harness says so and the suite holds the connector to the
// documented fallback instead of skipping the case.
//
// It also holds what the connectors' and fakes' own tests share: the golden-file check of
// what a connector sends (GoldenJSON), the error check (CheckError) with the purchase order
// whose customer data no error may repeat (Order), a settable Clock and a webhook Receiver.
package suppliertest

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/dropsync/dropsync/connectors/supplier/supplierfake"
	"github.com/dropsync/dropsync/internal/dropsync"
)

// Connector is the method set every supplier connector has: the pipeline's jobs.Supplier plus
// the event parsing the HTTP API uses.
type Connector interface {
	PlaceOrder(ctx context.Context, req dropsync.SupplierOrderRequest) (dropsync.SupplierOrder, error)
	GetOrder(ctx context.Context, ref dropsync.SupplierOrderRef) (dropsync.SupplierOrder, error)
	CancelOrder(ctx context.Context, ref dropsync.SupplierOrderRef) (dropsync.SupplierOrder, error)
	Inventory(ctx context.Context, skus []string) ([]dropsync.Stock, error)
	ParseEvent(header http.Header, query url.Values, body []byte) ([]dropsync.SupplierEvent, error)
}

// Fake is the test side of a connector's fake supplier: what the suite needs to make the
// supplier do things a real one does on its own.
type Fake interface {
	// Ship sends everything not yet shipped of the order in one parcel with tracking.
	Ship(externalID string) error
	// SetStock sets the available units of one of the fake's SKUs.
	SetStock(sku string, n int)
	// FailNext makes the next n order placements fail the way the supplier reports the HTTP
	// status: 429 is its rate limit (with the delay it asks for), 5xx its outages.
	FailNext(n, status int)
	// AcceptThenFail makes the next n placements create the order and then answer with a
	// server error, as when the reply is lost after the supplier accepted.
	AcceptThenFail(n int)
	// Created is the number of distinct orders the fake holds. A fake keeps one order per
	// purchase order whatever the connector sends, so this alone cannot tell a connector
	// that sends a second create from one that does not: PlaceRequests can.
	Created() int
	// PlaceRequests returns the order placements the fake received (the requests on its
	// create route), faults, refusals and repeats included, oldest first.
	PlaceRequests() []Request
	// Event returns the webhook delivery the supplier would send dropsync about the order's
	// current state, authenticated as that supplier authenticates its deliveries.
	Event(externalID string) (Delivery, error)
}

// Delivery is one webhook delivery as dropsync's receiver hands it to ParseEvent. It is the
// fakes' own Delivery, so a fake's Event satisfies Fake as it is.
type Delivery = supplierfake.Delivery

// Request is one request a fake received, as it arrived: the fakes' own Request, so a
// fake's PlaceRequests satisfies Fake as it is.
type Request = supplierfake.Request

// Item is one SKU the fake sells when a case starts.
type Item struct {
	SKU       string
	Available int
	UnitCost  string // decimal
	Currency  string
}

// Route names an HTTP request by method and path, as the fake receives it.
type Route struct {
	Method string
	Path   string
}

// Fixture is one fresh connector wired to one fresh fake.
type Fixture struct {
	Connector Connector
	// Unauthorized is a connector for the same fake with credentials the fake refuses.
	Unauthorized Connector
	Fake         Fake
}

// Harness describes one connector to the suite.
type Harness struct {
	// Supplier is the supplier id the connectors are configured with; every error message
	// names it.
	Supplier string
	// New starts a fake that sells exactly Items and returns connectors for it. The connector
	// under test must reach the fake through wrap(base), where base is the URL it would
	// otherwise use: the suite puts a proxy there that can lose replies. Its per-request
	// timeout should be short (a second or so): the lost-reply case waits for it once.
	New func(t *testing.T, wrap func(base string) string) Fixture
	// Items are the fake's SKUs (at least two, each with at least 3 available).
	Items []Item
	// UnknownSKU is a SKU in the connector's format that the fake does not sell.
	UnknownSKU string
	// UnsupportedCountry is a country code the fake does not ship to.
	UnsupportedCountry string
	// UnknownOrderID is a supplier order id the fake does not hold.
	UnknownOrderID string
	// PlaceRoute is the request that creates an order at the supplier.
	PlaceRoute Route
	// PlacedID returns the purchase order id a create request carries, in whatever field or
	// header the connector sends it (its idempotency key): every create of one purchase
	// order must carry the same.
	PlacedID func(r Request) string
	// RateLimitDelay is the wait the fake asks for when it rate-limits. It must differ from
	// the wait the connector assumes when a reply says none, so that the case proves the
	// reply is read.
	RateLimitDelay time.Duration

	// What the supplier's API can do. Each false value is a documented limit the suite holds
	// the connector's fallback to.

	// CountsStock: the supplier reports units in stock; otherwise only in stock (Available >
	// 0) or not (0).
	CountsStock bool
	// CancelsAccepted: an accepted, unshipped order can be cancelled through the API;
	// otherwise the connector must refuse with ECONFLICT and leave the order alone.
	CancelsAccepted bool
	// LooksUpByExternalID: GetOrder works with the purchase order id alone. Such a connector
	// is held to looking the order up before creating it: a retry after a lost reply, or a
	// second placement, must send no second create.
	LooksUpByExternalID bool
	// NamesRefusedSKU: the supplier's refusals of one item of several say which item.
	NamesRefusedSKU bool
}

// Run runs the contract against the connector the harness describes. Cases run in parallel,
// each with a fixture of its own.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if len(h.Items) < 2 {
		t.Fatal("suppliertest: the harness needs at least two items")
	}
	if h.PlacedID == nil {
		t.Fatal("suppliertest: the harness needs PlacedID")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := newSession(t, h)
			c.run(t, s)
		})
	}
}
