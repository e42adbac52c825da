package shopify

import (
	"context"
	"fmt"
	"slices"

	goshopify "github.com/bold-commerce/go-shopify/v4"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// ReasonAlreadyFulfilled is the Reason of the ECONFLICT Fulfill returns when the storefront
// has nothing left to fulfil for the parcel's lines (the merchant fulfilled them by hand).
const ReasonAlreadyFulfilled = "already_fulfilled"

// Fulfill records one parcel as a fulfillment on the merchant-managed path: it reads the
// order's fulfillment orders, takes the parcel's line quantities from the open ones and
// creates one fulfillment with the tracking (one per location when the lines sit at
// several). With checkExisting it first lists the order's fulfillments: those that already
// carry the tracking number count as done and only what they do not cover is created, so a
// retry after a lost reply (or after the first of several locations) never creates a second
// fulfillment. Happy path: two calls; a retry: three.
func (c *Client) Fulfill(ctx context.Context, req dropsync.FulfillmentRequest, checkExisting bool) (dropsync.Fulfillment, error) {
	calls := 2
	if checkExisting {
		calls = 3
	}
	api, err := c.api(ctx, req.Shop, calls)
	if err != nil {
		return dropsync.Fulfillment{}, err
	}
	lines := req.Lines
	var ids []int64
	if checkExisting {
		fs, err := api.Order.ListFulfillments(ctx, uint64(req.OrderID), nil)
		if err != nil {
			return dropsync.Fulfillment{}, classify(req.Shop, "list fulfillments", err)
		}
		for _, f := range fs {
			if live(f) && carries(f, req.TrackingNumber) {
				ids = append(ids, int64(f.Id))
				lines = subtract(lines, f.LineItems)
			}
		}
		if len(ids) > 0 && len(lines) == 0 {
			return dropsync.Fulfillment{ID: ids[0], IDs: ids, TrackingNumber: req.TrackingNumber, Existing: true}, nil
		}
	}
	fos, err := api.FulfillmentOrder.List(ctx, uint64(req.OrderID), nil)
	if err != nil {
		return dropsync.Fulfillment{}, classify(req.Shop, "list fulfillment orders", err)
	}
	groups, waiting := allocate(fos, lines)
	if len(groups) == 0 {
		switch {
		case len(ids) > 0:
			return dropsync.Fulfillment{ID: ids[0], IDs: ids, TrackingNumber: req.TrackingNumber, Existing: true}, nil
		case waiting:
			// On hold at the storefront (or scheduled for later): it can be fulfilled once
			// released, so this is worth retrying, not a parcel to give up on.
			return dropsync.Fulfillment{}, dropsync.Errorf(dropsync.EUNAVAILABLE,
				"order %d: the parcel's lines wait in a fulfillment order that is on hold or scheduled", req.OrderID)
		}
		return dropsync.Fulfillment{}, &dropsync.Error{Code: dropsync.ECONFLICT, Reason: ReasonAlreadyFulfilled,
			Message: fmt.Sprintf("order %d has nothing left to fulfil for the parcel's lines", req.OrderID)}
	}
	existing := len(ids)
	for i, g := range groups {
		if i > 0 {
			// Lines at a second location need one more call than reserved.
			if api, err = c.api(ctx, req.Shop, 1); err != nil {
				return dropsync.Fulfillment{}, err
			}
		}
		created, err := api.Fulfillment.Create(ctx, goshopify.Fulfillment{
			LineItemsByFulfillmentOrder: g,
			TrackingInfo: goshopify.FulfillmentTrackingInfo{
				Company: req.Carrier, Number: req.TrackingNumber, Url: req.TrackingURL},
			NotifyCustomer: req.NotifyCustomer,
		})
		if err != nil {
			err = classify(req.Shop, "create fulfillment", err)
			if dropsync.ErrorCode(err) == dropsync.EINVALID {
				return dropsync.Fulfillment{}, c.refusedCreate(ctx, req, lines, err)
			}
			return dropsync.Fulfillment{}, err
		}
		if created != nil {
			ids = append(ids, int64(created.Id))
		}
	}
	if len(ids) == 0 {
		return dropsync.Fulfillment{}, dropsync.Errorf(dropsync.EUNAVAILABLE, "order %d: the storefront answered without a fulfillment", req.OrderID)
	}
	return dropsync.Fulfillment{ID: ids[0], IDs: ids, TrackingNumber: req.TrackingNumber, Existing: existing > 0}, nil
}

// refusedCreate explains a 422 on create: the fulfillment orders changed between reading
// and creating (the merchant fulfilled or cancelled meanwhile). Read again: with nothing
// left open for the lines it is ECONFLICT already_fulfilled (the order goes on); otherwise
// the refusal is worth another try.
func (c *Client) refusedCreate(ctx context.Context, req dropsync.FulfillmentRequest, lines []dropsync.LineUnits, refusal error) error {
	api, err := c.api(ctx, req.Shop, 1)
	if err != nil {
		return err
	}
	fos, err := api.FulfillmentOrder.List(ctx, uint64(req.OrderID), nil)
	if err != nil {
		return classify(req.Shop, "list fulfillment orders", err)
	}
	if groups, waiting := allocate(fos, lines); len(groups) == 0 && !waiting {
		return &dropsync.Error{Code: dropsync.ECONFLICT, Reason: ReasonAlreadyFulfilled,
			Message: fmt.Sprintf("order %d has nothing left to fulfil for the parcel's lines", req.OrderID), Err: refusal}
	}
	return &dropsync.Error{Code: dropsync.EUNAVAILABLE, Message: "the storefront refused the fulfillment; trying again", Err: refusal}
}

// live reports whether a fulfillment stands (not cancelled or failed).
func live(f goshopify.Fulfillment) bool {
	return f.Status != "cancelled" && f.Status != "error" && f.Status != "failure"
}

// carries reports whether a fulfillment has the tracking number; a parcel without one
// matches fulfillments without one.
func carries(f goshopify.Fulfillment, tracking string) bool {
	if tracking == "" {
		return f.TrackingNumber == "" && len(f.TrackingNumbers) == 0
	}
	return f.TrackingNumber == tracking || slices.Contains(f.TrackingNumbers, tracking)
}

// subtract removes what a fulfillment already covers from the lines to fulfil.
func subtract(lines []dropsync.LineUnits, done []goshopify.LineItem) []dropsync.LineUnits {
	covered := map[int64]int{}
	for _, li := range done {
		covered[int64(li.Id)] += li.Quantity
	}
	var out []dropsync.LineUnits
	for _, l := range lines {
		take := min(l.Quantity, covered[l.LineID])
		covered[l.LineID] -= take
		if left := l.Quantity - take; left > 0 {
			out = append(out, dropsync.LineUnits{LineID: l.LineID, Quantity: left})
		}
	}
	return out
}

// allocate takes each line's quantity from the open fulfillment orders' line items, grouped
// by location (a fulfillment covers fulfillment orders of one location). waiting is set when
// a line's units sit in a fulfillment order that is on hold or scheduled.
func allocate(fos []goshopify.FulfillmentOrder, lines []dropsync.LineUnits) (groups [][]goshopify.LineItemByFulfillmentOrder, waiting bool) {
	type key struct{ location, fo uint64 }
	picked := map[key][]goshopify.LineItemByFulfillmentOrderItemQuantity{}
	var order []key
	for _, lu := range lines {
		left := uint64(lu.Quantity)
		for _, fo := range fos {
			if left == 0 {
				break
			}
			open := fo.Status == "open" || fo.Status == "in_progress"
			for _, li := range fo.LineItems {
				if left == 0 {
					break
				}
				if li.LineItemId != uint64(lu.LineID) || li.FulfillableQuantity == 0 {
					continue
				}
				if !open {
					waiting = waiting || fo.Status == "on_hold" || fo.Status == "scheduled"
					continue
				}
				take := min(left, li.FulfillableQuantity)
				k := key{fo.AssignedLocationId, fo.Id}
				if _, seen := picked[k]; !seen {
					order = append(order, k)
				}
				picked[k] = append(picked[k], goshopify.LineItemByFulfillmentOrderItemQuantity{Id: li.Id, Quantity: take})
				left -= take
			}
		}
	}
	byLocation := map[uint64]int{}
	for _, k := range order {
		i, ok := byLocation[k.location]
		if !ok {
			i = len(groups)
			byLocation[k.location] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], goshopify.LineItemByFulfillmentOrder{
			FulfillmentOrderId: k.fo, FulfillmentOrderLineItems: picked[k]})
	}
	return groups, waiting
}

// UpdateTracking corrects the tracking of a fulfillment dropsync created.
func (c *Client) UpdateTracking(ctx context.Context, req dropsync.FulfillmentRequest, fulfillmentID int64) error {
	api, err := c.api(ctx, req.Shop, 1)
	if err != nil {
		return err
	}
	body := map[string]any{"fulfillment": map[string]any{
		"tracking_info":   map[string]string{"company": req.Carrier, "number": req.TrackingNumber, "url": req.TrackingURL},
		"notify_customer": req.NotifyCustomer,
	}}
	var out struct {
		Fulfillment *goshopify.Fulfillment `json:"fulfillment"`
	}
	if err := api.Post(ctx, fmt.Sprintf("fulfillments/%d/update_tracking.json", fulfillmentID), body, &out); err != nil {
		return classify(req.Shop, "update tracking", err)
	}
	return nil
}

// Risk returns the strongest recommendation among the order's risk assessments: "cancel",
// "investigate", "accept", or "" when there is none.
func (c *Client) Risk(ctx context.Context, shop string, orderID int64) (string, error) {
	api, err := c.api(ctx, shop, 1)
	if err != nil {
		return "", err
	}
	risks, err := api.OrderRisk.List(ctx, uint64(orderID), nil)
	if err != nil {
		if dropsync.ErrorCode(classify(shop, "", err)) == dropsync.ENOTFOUND {
			return "", nil // API versions without order risks answer 404: no opinion
		}
		return "", classify(shop, "list order risks", err)
	}
	rank := map[string]int{"accept": 1, "investigate": 2, "cancel": 3}
	best := ""
	for _, r := range risks {
		if rec := string(r.Recommendation); rank[rec] > rank[best] {
			best = rec
		}
	}
	return best, nil
}
