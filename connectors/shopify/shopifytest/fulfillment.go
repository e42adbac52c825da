package shopifytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// Fulfillment order statuses the fake moves through.
const (
	foOpen       = "open"
	foInProgress = "in_progress"
	foClosed     = "closed"
)

// FulfillmentOrder is the group of an order's lines to be shipped from one
// location. The fake makes one per order, at the shop's single location.
type FulfillmentOrder struct {
	ID                 int64                      `json:"id"`
	ShopID             int64                      `json:"shop_id"`
	OrderID            int64                      `json:"order_id"`
	AssignedLocationID int64                      `json:"assigned_location_id"`
	RequestStatus      string                     `json:"request_status"`
	Status             string                     `json:"status"`
	SupportedActions   []string                   `json:"supported_actions"`
	Destination        *FulfillmentDestination    `json:"destination"`
	LineItems          []FulfillmentOrderLineItem `json:"line_items"`
	FulfillAt          time.Time                  `json:"fulfill_at"`
	FulfillBy          *time.Time                 `json:"fulfill_by"`
	FulfillmentHolds   []json.RawMessage          `json:"fulfillment_holds"`
	MerchantRequests   []json.RawMessage          `json:"merchant_requests"`
	DeliveryMethod     DeliveryMethod             `json:"delivery_method"`
	AssignedLocation   AssignedLocation           `json:"assigned_location"`
	CreatedAt          time.Time                  `json:"created_at"`
	UpdatedAt          time.Time                  `json:"updated_at"`
}

// FulfillmentOrderLineItem is one order line within a fulfillment order;
// FulfillableQuantity shrinks as fulfillments ship it.
type FulfillmentOrderLineItem struct {
	ID                  int64 `json:"id"`
	ShopID              int64 `json:"shop_id"`
	FulfillmentOrderID  int64 `json:"fulfillment_order_id"`
	LineItemID          int64 `json:"line_item_id"`
	InventoryItemID     int64 `json:"inventory_item_id"`
	Quantity            int   `json:"quantity"`
	FulfillableQuantity int   `json:"fulfillable_quantity"`
	VariantID           int64 `json:"variant_id"`
}

// FulfillmentDestination is where a fulfillment order ships to.
type FulfillmentDestination struct {
	ID        int64  `json:"id"`
	Address1  string `json:"address1"`
	Address2  string `json:"address2"`
	City      string `json:"city"`
	Company   string `json:"company"`
	Country   string `json:"country"`
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Phone     string `json:"phone"`
	Province  string `json:"province"`
	Zip       string `json:"zip"`
}

// DeliveryMethod is how a fulfillment order reaches the customer.
type DeliveryMethod struct {
	ID                  int64      `json:"id"`
	MethodType          string     `json:"method_type"`
	MinDeliveryDateTime *time.Time `json:"min_delivery_date_time"`
	MaxDeliveryDateTime *time.Time `json:"max_delivery_date_time"`
}

// AssignedLocation is the location a fulfillment order ships from.
type AssignedLocation struct {
	LocationID  int64  `json:"location_id"`
	Name        string `json:"name"`
	Address1    string `json:"address1"`
	Address2    string `json:"address2"`
	City        string `json:"city"`
	Province    string `json:"province"`
	Zip         string `json:"zip"`
	CountryCode string `json:"country_code"`
	Phone       string `json:"phone"`
}

func (fo *FulfillmentOrder) clone() FulfillmentOrder {
	c := *fo
	c.SupportedActions = clone(fo.SupportedActions)
	c.Destination = cloneptr(fo.Destination)
	c.LineItems = clone(fo.LineItems)
	c.FulfillBy = cloneptr(fo.FulfillBy)
	c.FulfillmentHolds = nonNil(clone(fo.FulfillmentHolds))
	c.MerchantRequests = nonNil(clone(fo.MerchantRequests))
	return c
}

// newFulfillmentOrder builds the open fulfillment order of a new order, or
// nil when nothing in it ships. Callers hold s.mu.
func (s *Server) newFulfillmentOrder(o Order) *FulfillmentOrder {
	fo := &FulfillmentOrder{
		ShopID:             shopID,
		OrderID:            o.ID,
		AssignedLocationID: locationID,
		RequestStatus:      "unsubmitted",
		Status:             foOpen,
		SupportedActions:   []string{"create_fulfillment", "move"},
		FulfillAt:          o.CreatedAt,
		FulfillmentHolds:   []json.RawMessage{},
		MerchantRequests:   []json.RawMessage{},
		AssignedLocation: AssignedLocation{
			LocationID: locationID, Name: "Main warehouse", Address1: "500 Commerce Way",
			City: "Columbus", Province: "Ohio", Zip: "43215", CountryCode: "US",
		},
		CreatedAt: o.CreatedAt,
		UpdatedAt: o.CreatedAt,
	}
	for _, li := range o.LineItems {
		if !li.RequiresShipping || li.Quantity <= 0 {
			continue
		}
		fulfillable := li.FulfillableQuantity
		if fulfillable == 0 && li.FulfillmentStatus == nil {
			fulfillable = li.Quantity
		}
		fo.LineItems = append(fo.LineItems, FulfillmentOrderLineItem{
			ShopID:              shopID,
			LineItemID:          li.ID,
			InventoryItemID:     li.VariantID + 9_000_000_000,
			Quantity:            li.Quantity,
			FulfillableQuantity: fulfillable,
			VariantID:           li.VariantID,
		})
	}
	if len(fo.LineItems) == 0 {
		return nil
	}
	fo.ID = s.newID()
	fo.DeliveryMethod = DeliveryMethod{ID: s.newID(), MethodType: "shipping"}
	for i := range fo.LineItems {
		fo.LineItems[i].ID = s.newID()
		fo.LineItems[i].FulfillmentOrderID = fo.ID
	}
	if a := o.ShippingAddress; a != nil {
		fo.Destination = &FulfillmentDestination{
			ID: s.newID(), Address1: a.Address1, Address2: a.Address2, City: a.City,
			Company: a.Company, Country: a.Country, Email: o.Email, FirstName: a.FirstName,
			LastName: a.LastName, Phone: a.Phone, Province: a.Province, Zip: a.Zip,
		}
	}
	return fo
}

// FulfillmentOrders returns copies of an order's fulfillment orders.
func (s *Server) FulfillmentOrders(orderID int64) []FulfillmentOrder {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.orders[orderID]
	if !ok {
		return nil
	}
	out := make([]FulfillmentOrder, 0, len(rec.fos))
	for _, fo := range rec.fos {
		out = append(out, fo.clone())
	}
	return out
}

// Fulfillments returns copies of the fulfillments created on an order, oldest
// first.
func (s *Server) Fulfillments(orderID int64) []Fulfillment {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.orders[orderID]
	if !ok {
		return nil
	}
	return rec.order.clone().Fulfillments
}

func (s *Server) listFulfillmentOrders(orderID int64) reply {
	rec, ok := s.orders[orderID]
	if !ok {
		return notFound()
	}
	out := make([]FulfillmentOrder, 0, len(rec.fos))
	for _, fo := range rec.fos {
		out = append(out, fo.clone())
	}
	return jsonReply(http.StatusOK, map[string]any{"fulfillment_orders": out})
}

func (s *Server) listFulfillments(orderID int64) reply {
	rec, ok := s.orders[orderID]
	if !ok {
		return notFound()
	}
	return jsonReply(http.StatusOK, map[string]any{"fulfillments": nonNil(rec.order.Fulfillments)})
}

// trackingInfo is the tracking part of create and update_tracking requests.
type trackingInfo struct {
	Company string `json:"company"`
	Number  string `json:"number"`
	URL     string `json:"url"`
}

type fulfillmentRequest struct {
	Fulfillment *struct {
		LineItemsByFulfillmentOrder []struct {
			FulfillmentOrderID        int64 `json:"fulfillment_order_id"`
			FulfillmentOrderLineItems []struct {
				ID       int64 `json:"id"`
				Quantity int   `json:"quantity"`
			} `json:"fulfillment_order_line_items"`
		} `json:"line_items_by_fulfillment_order"`
		TrackingInfo   *trackingInfo `json:"tracking_info"`
		NotifyCustomer bool          `json:"notify_customer"`
	} `json:"fulfillment"`
}

// missingParam is Shopify's 400 for a body without the resource key.
func missingParam(key string) reply {
	return errorReply(http.StatusBadRequest, map[string]string{key: "Required parameter missing or invalid"})
}

func unprocessable(msg string) reply {
	return errorReply(http.StatusUnprocessableEntity, []string{msg})
}

// createFulfillment validates the whole request before changing anything, so
// a rejected request leaves no trace, as on Shopify.
func (s *Server) createFulfillment(body []byte, now time.Time) reply {
	var req fulfillmentRequest
	if err := json.Unmarshal(body, &req); err != nil || req.Fulfillment == nil {
		return missingParam("fulfillment")
	}
	in := req.Fulfillment
	if len(in.LineItemsByFulfillmentOrder) == 0 {
		return unprocessable("Line items by fulfillment order can't be blank")
	}

	// take maps fulfillment order line item id → quantity to ship.
	type target struct {
		fo   *FulfillmentOrder
		take map[int64]int
	}
	var (
		orderID int64
		targets []target
		seen    = map[int64]bool{}
	)
	for _, group := range in.LineItemsByFulfillmentOrder {
		foOrder, ok := s.fulfillOrder[group.FulfillmentOrderID]
		if !ok || group.FulfillmentOrderID <= 0 {
			return unprocessable(fmt.Sprintf("Fulfillment order %d does not exist", group.FulfillmentOrderID))
		}
		if seen[group.FulfillmentOrderID] {
			return unprocessable(fmt.Sprintf("Fulfillment order %d is given more than once", group.FulfillmentOrderID))
		}
		seen[group.FulfillmentOrderID] = true
		if orderID != 0 && foOrder != orderID {
			return unprocessable("All fulfillment orders must belong to the same order")
		}
		orderID = foOrder
		fo := s.findFulfillmentOrder(foOrder, group.FulfillmentOrderID)
		if fo.Status != foOpen && fo.Status != foInProgress {
			return unprocessable(fmt.Sprintf("Fulfillment order %d has an unfulfillable status= %s", fo.ID, fo.Status))
		}
		t := target{fo: fo, take: map[int64]int{}}
		if len(group.FulfillmentOrderLineItems) == 0 {
			for _, li := range fo.LineItems {
				if li.FulfillableQuantity > 0 {
					t.take[li.ID] = li.FulfillableQuantity
				}
			}
		}
		for _, item := range group.FulfillmentOrderLineItems {
			idx := -1
			for i, li := range fo.LineItems {
				if li.ID == item.ID {
					idx = i
				}
			}
			if idx < 0 {
				return unprocessable(fmt.Sprintf("Fulfillment order line item %d does not belong to fulfillment order %d", item.ID, fo.ID))
			}
			if item.Quantity <= 0 {
				return unprocessable("Invalid fulfillment order line item quantity requested.")
			}
			t.take[item.ID] += item.Quantity
			if t.take[item.ID] > fo.LineItems[idx].FulfillableQuantity {
				return unprocessable("Invalid fulfillment order line item quantity requested.")
			}
		}
		if len(t.take) == 0 {
			return unprocessable(fmt.Sprintf("Fulfillment order %d has no fulfillable line items", fo.ID))
		}
		targets = append(targets, t)
	}

	rec := s.orders[orderID]
	ts := stamp(now)
	shipped := map[int64]int{} // order line item id → quantity in this fulfillment
	for _, t := range targets {
		for i := range t.fo.LineItems {
			li := &t.fo.LineItems[i]
			if q := t.take[li.ID]; q > 0 {
				li.FulfillableQuantity -= q
				shipped[li.LineItemID] += q
			}
		}
		t.fo.Status = foClosed
		t.fo.SupportedActions = []string{}
		for _, li := range t.fo.LineItems {
			if li.FulfillableQuantity > 0 {
				t.fo.Status = foInProgress
				t.fo.SupportedActions = []string{"create_fulfillment", "move"}
			}
		}
		t.fo.UpdatedAt = ts
	}

	f := Fulfillment{
		ID:             s.newID(),
		OrderID:        orderID,
		Name:           rec.order.Name + "." + strconv.Itoa(len(rec.order.Fulfillments)+1),
		Status:         "success",
		Service:        "manual",
		LocationID:     locationID,
		CreatedAt:      ts,
		UpdatedAt:      ts,
		NotifyCustomer: in.NotifyCustomer,
	}
	f.AdminGraphQLAPIID = "gid://shopify/Fulfillment/" + strconv.FormatInt(f.ID, 10)
	if in.TrackingInfo != nil {
		f.setTracking(*in.TrackingInfo)
	}
	o := &rec.order
	for i := range o.LineItems {
		li := &o.LineItems[i]
		q := shipped[li.ID]
		if q == 0 {
			continue
		}
		li.FulfillableQuantity = max(li.FulfillableQuantity-q, 0)
		status := "partial"
		if li.FulfillableQuantity == 0 {
			status = "fulfilled"
		}
		li.FulfillmentStatus = &status
		fl := cloneLineItems([]LineItem{*li})[0]
		fl.Quantity = q
		f.LineItems = append(f.LineItems, fl)
	}
	o.Fulfillments = append(o.Fulfillments, f)
	status := "fulfilled"
	for _, fo := range rec.fos {
		if fo.Status != foClosed {
			status = "partial"
		}
	}
	o.FulfillmentStatus = &status
	s.touch(o)
	rec.wire = nil
	s.fulfillments[f.ID] = orderID

	if s.failCreate > 0 {
		s.failCreate--
		return errorReply(http.StatusInternalServerError, http.StatusText(http.StatusInternalServerError))
	}
	return jsonReply(http.StatusCreated, map[string]Fulfillment{"fulfillment": f})
}

func (s *Server) findFulfillmentOrder(orderID, foID int64) *FulfillmentOrder {
	for _, fo := range s.orders[orderID].fos {
		if fo.ID == foID {
			return fo
		}
	}
	return nil
}

// setTracking records one tracking number, as Shopify keeps one per
// fulfillment; an empty field clears it.
func (f *Fulfillment) setTracking(t trackingInfo) {
	f.TrackingCompany = t.Company
	f.TrackingNumber = t.Number
	f.TrackingURL = t.URL
	f.TrackingNumbers, f.TrackingURLs = []string{}, []string{}
	if t.Number != "" {
		f.TrackingNumbers = []string{t.Number}
	}
	if t.URL != "" {
		f.TrackingURLs = []string{t.URL}
	}
}

func (s *Server) updateTracking(id int64, body []byte, now time.Time) reply {
	orderID, ok := s.fulfillments[id]
	if !ok {
		return notFound()
	}
	var req struct {
		Fulfillment *struct {
			TrackingInfo   *trackingInfo `json:"tracking_info"`
			NotifyCustomer bool          `json:"notify_customer"`
		} `json:"fulfillment"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Fulfillment == nil || req.Fulfillment.TrackingInfo == nil {
		return missingParam("fulfillment")
	}
	rec := s.orders[orderID]
	o := &rec.order
	for i := range o.Fulfillments {
		f := &o.Fulfillments[i]
		if f.ID != id {
			continue
		}
		f.setTracking(*req.Fulfillment.TrackingInfo)
		f.NotifyCustomer = req.Fulfillment.NotifyCustomer
		f.UpdatedAt = stamp(now)
		s.touch(o)
		rec.wire = nil
		return jsonReply(http.StatusOK, map[string]Fulfillment{"fulfillment": f.clone()})
	}
	return notFound()
}
