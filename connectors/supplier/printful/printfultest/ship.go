package printfultest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Ship adds parcels to the order with the external id (none: everything not yet shipped, in
// one parcel), moves it to partial or fulfilled, and delivers a package_shipped event per
// parcel to WebhookURL. It returns the first delivery error; the parcels are added even when
// a delivery fails, as at Printful.
func (s *Server) Ship(externalID string, parcels ...Parcel) error {
	s.mu.Lock()
	o, ok := s.byExt[externalID]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("ship %s: no such order", externalID)
	}
	added, err := s.shipLocked(o, parcels)
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("ship %s: %w", externalID, err)
	}
	snap := o.clone()
	s.mu.Unlock()
	var first error
	for _, sh := range added {
		if err := s.deliver(EventBody("package_shipped", snap, &sh, "")); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (s *Server) shipLocked(o *Order, parcels []Parcel) ([]Shipment, error) {
	switch o.Status {
	case StatusCanceled, StatusFailed, StatusDraft:
		return nil, fmt.Errorf("order is %s", o.Status)
	}
	if len(parcels) == 0 {
		parcels = []Parcel{{}}
	}
	left := map[int64]int{}
	for _, it := range o.Items {
		left[it.ID] = it.Quantity
	}
	for _, sh := range o.Shipments {
		for _, q := range sh.Items {
			left[q.ItemID] -= q.Quantity
		}
	}
	now := s.now().Truncate(time.Second)
	var added []Shipment
	for i, p := range parcels {
		var items []ShipmentItem
		if len(p.Items) == 0 {
			for _, it := range o.Items {
				if left[it.ID] > 0 {
					items = append(items, ShipmentItem{ItemID: it.ID, Quantity: left[it.ID]})
					left[it.ID] = 0
				}
			}
			if len(items) == 0 {
				return nil, fmt.Errorf("parcel %d: nothing left to ship", i)
			}
		}
		for _, q := range p.Items {
			it := o.itemFor(q.SKU, left)
			switch {
			case it == nil:
				return nil, fmt.Errorf("parcel %d: sku %s has nothing left to ship", i, q.SKU)
			case q.Quantity <= 0 || q.Quantity > left[it.ID]:
				return nil, fmt.Errorf("parcel %d: %d of %s cannot ship, %d left", i, q.Quantity, q.SKU, left[it.ID])
			}
			left[it.ID] -= q.Quantity
			items = append(items, ShipmentItem{ItemID: it.ID, Quantity: q.Quantity})
		}
		s.shipSeq++
		sh := Shipment{ID: s.shipSeq, Carrier: p.Carrier, Service: "", TrackingNumber: p.TrackingNumber,
			TrackingURL: p.TrackingURL, Created: now.Unix(), ShipDate: now.Format("2006-01-02"),
			ShippedAt: now.Unix(), Items: items}
		if sh.Carrier == "" {
			sh.Carrier, sh.Service = "USPS", "USPS First Class Package"
		}
		if sh.TrackingNumber == "" {
			sh.TrackingNumber = fmt.Sprintf("94001118992238%08d", s.shipSeq%100000000)
		}
		if sh.TrackingURL == "" {
			sh.TrackingURL = "https://myorders.printful.com/tracking/" + strconv.FormatInt(sh.ID, 10)
		}
		added = append(added, sh)
	}
	o.Shipments = append(o.Shipments, added...)
	o.Status = StatusFulfilled
	for _, n := range left {
		if n > 0 {
			o.Status = StatusPartial
		}
	}
	o.Updated = now.Unix()
	return added, nil
}

// itemFor finds the order item placed with the SKU that still has units to ship.
func (o *Order) itemFor(sku string, left map[int64]int) *Item {
	for i := range o.Items {
		it := &o.Items[i]
		if left[it.ID] > 0 && (it.ExternalID == sku || strconv.FormatInt(it.SyncVariantID, 10) == sku ||
			it.ExternalVariantID != "" && "@"+it.ExternalVariantID == sku) {
			return it
		}
	}
	return nil
}

// SetStatus sets the order's status and delivers the event Printful sends for it:
// order_canceled, order_failed, order_put_hold, or order_updated for any other status.
func (s *Server) SetStatus(externalID, status, reason string) error {
	s.mu.Lock()
	o, ok := s.byExt[externalID]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("set status of %s: no such order", externalID)
	}
	o.Status = status
	o.Updated = s.now().Unix()
	snap := o.clone()
	s.mu.Unlock()
	return s.deliver(EventBody(eventFor(status), snap, nil, reason))
}

func eventFor(status string) string {
	switch status {
	case StatusCanceled:
		return "order_canceled"
	case StatusFailed:
		return "order_failed"
	case StatusOnHold:
		return "order_put_hold"
	}
	return "order_updated"
}

// EventBody is a Printful webhook body: type, created, retries, store and data carrying the
// order (and for package_shipped the shipment, for the others a reason).
func EventBody(typ string, o Order, shipment *Shipment, reason string) []byte {
	data := map[string]any{"order": o}
	if shipment != nil {
		data["shipment"] = shipment
	}
	if reason != "" {
		data["reason"] = reason
	}
	body, _ := json.Marshal(map[string]any{
		"type": typ, "created": o.Updated, "retries": 0, "store": o.Store, "data": data,
	})
	return body
}

// Event returns the delivery Printful would send about the order's latest change: its last
// parcel if it has one, else its status.
func (s *Server) Event(externalID string) (Delivery, error) {
	s.mu.Lock()
	o, ok := s.byExt[externalID]
	if !ok {
		s.mu.Unlock()
		return Delivery{}, fmt.Errorf("event for %s: no such order", externalID)
	}
	snap := o.clone()
	s.mu.Unlock()
	var body []byte
	if n := len(snap.Shipments); n > 0 {
		body = EventBody("package_shipped", snap, &snap.Shipments[n-1], "")
	} else {
		body = EventBody(eventFor(snap.Status), snap, nil, "")
	}
	return Delivery{
		Header: http.Header{"Content-Type": {"application/json"}, "User-Agent": {"Printful"}},
		Query:  url.Values{"token": {s.opts.WebhookSecret}},
		Body:   body,
	}, nil
}

// deliver posts an event body to WebhookURL, if one is set.
func (s *Server) deliver(body []byte) error {
	if s.opts.WebhookURL == "" {
		return nil
	}
	u, err := url.Parse(s.opts.WebhookURL)
	if err != nil {
		return fmt.Errorf("webhook url: %w", err)
	}
	q := u.Query()
	q.Set("token", s.opts.WebhookSecret)
	u.RawQuery = q.Encode()
	req, err := http.NewRequest(http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Printful")
	return s.srv.PostWebhook(req)
}

// due lists the orders AutoShip ships now: every confirmed order placed After ago.
func (s *Server) due(a AutoShip) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var out []string
	for _, o := range s.list {
		if (o.Status == StatusPending || o.Status == StatusInProcess || o.Status == StatusPartial) &&
			o.ExternalID != "" && now.Sub(s.placedAt[o.ID]) >= a.After {
			out = append(out, o.ExternalID)
		}
	}
	return out
}
