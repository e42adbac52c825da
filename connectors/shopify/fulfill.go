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
// several). With checkExisting it first lists the order's fulfillments and returns the one
// that already carries the tracking number, so a retry after a lost reply never creates a
// second fulfillment. Happy path: two calls; a retry: three.
func (c *Client) Fulfill(ctx context.Context, req dropsync.FulfillmentRequest, checkExisting bool) (dropsync.Fulfillment, error) {
	calls := 2
	if checkExisting {
		calls = 3
	}
	api, err := c.api(ctx, req.Shop, calls)
	if err != nil {
		return dropsync.Fulfillment{}, err
	}
	if checkExisting {
		f, ok, err := findFulfillment(ctx, api, req.Shop, req.OrderID, req.TrackingNumber)
		if err != nil {
			return dropsync.Fulfillment{}, err
		}
		if ok {
			return f, nil
		}
	}
	fos, err := api.FulfillmentOrder.List(ctx, uint64(req.OrderID), nil)
	if err != nil {
		return dropsync.Fulfillment{}, classify(req.Shop, "list fulfillment orders", err)
	}
	groups := allocate(fos, req.Lines)
	if len(groups) == 0 {
		return dropsync.Fulfillment{}, &dropsync.Error{Code: dropsync.ECONFLICT, Reason: ReasonAlreadyFulfilled,
			Message: fmt.Sprintf("order %d has nothing left to fulfil for the parcel's lines", req.OrderID)}
	}
	var first dropsync.Fulfillment
	for i, g := range groups {
		if i > 0 {
			// Lines at a second location need one more call than reserved.
			if api, err = c.api(ctx, req.Shop, 1); err != nil {
				return first, err
			}
		}
		created, err := api.Fulfillment.Create(ctx, goshopify.Fulfillment{
			LineItemsByFulfillmentOrder: g,
			TrackingInfo: goshopify.FulfillmentTrackingInfo{
				Company: req.Carrier, Number: req.TrackingNumber, Url: req.TrackingURL},
			NotifyCustomer: req.NotifyCustomer,
		})
		if err != nil {
			return first, classify(req.Shop, "create fulfillment", err)
		}
		if i == 0 && created != nil {
			first = dropsync.Fulfillment{ID: int64(created.Id), TrackingNumber: req.TrackingNumber}
		}
	}
	return first, nil
}

// findFulfillment looks for a live fulfillment of the order with the tracking number.
func findFulfillment(ctx context.Context, api *goshopify.Client, shop string, orderID int64, tracking string) (dropsync.Fulfillment, bool, error) {
	fs, err := api.Order.ListFulfillments(ctx, uint64(orderID), nil)
	if err != nil {
		return dropsync.Fulfillment{}, false, classify(shop, "list fulfillments", err)
	}
	for _, f := range fs {
		if f.Status == "cancelled" || f.Status == "error" || f.Status == "failure" {
			continue
		}
		if f.TrackingNumber == tracking || slices.Contains(f.TrackingNumbers, tracking) {
			return dropsync.Fulfillment{ID: int64(f.Id), TrackingNumber: tracking, Existing: true}, true, nil
		}
	}
	return dropsync.Fulfillment{}, false, nil
}

// allocate takes each line's quantity from the open fulfillment orders' line items, grouped
// by location (a fulfillment covers fulfillment orders of one location).
func allocate(fos []goshopify.FulfillmentOrder, lines []dropsync.LineUnits) [][]goshopify.LineItemByFulfillmentOrder {
	type key struct{ location, fo uint64 }
	picked := map[key][]goshopify.LineItemByFulfillmentOrderItemQuantity{}
	var order []key
	for _, lu := range lines {
		left := uint64(lu.Quantity)
		for _, fo := range fos {
			if left == 0 {
				break
			}
			if fo.Status != "open" && fo.Status != "in_progress" && fo.Status != "scheduled" {
				continue
			}
			for _, li := range fo.LineItems {
				if left == 0 {
					break
				}
				if li.LineItemId != uint64(lu.LineID) || li.FulfillableQuantity == 0 {
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
	var groups [][]goshopify.LineItemByFulfillmentOrder
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
	return groups
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
