package suppliertest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Ship adds parcels to the order with the external id (no parcels = everything not yet
// shipped in one parcel; a parcel without items likewise), moves it to partially_shipped or
// shipped, and then posts a signed order.updated event to WebhookURL. It returns the
// delivery's error; the parcels are added even when the delivery fails, as at a real
// supplier.
func (s *Server) Ship(externalID string, parcels ...Parcel) error {
	s.mu.Lock()
	o, ok := s.orders[externalID]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("ship %s: no such order", externalID)
	}
	if err := s.shipLocked(o, parcels); err != nil {
		s.mu.Unlock()
		return fmt.Errorf("ship %s: %w", externalID, err)
	}
	snap := o.clone()
	s.mu.Unlock()
	return s.deliver(snap)
}

func (s *Server) shipLocked(o *Order, parcels []Parcel) error {
	switch o.Status {
	case StatusCancelled, StatusFailed:
		return fmt.Errorf("order is %s", o.Status)
	}
	if len(parcels) == 0 {
		parcels = []Parcel{{}}
	}
	left := remaining(o)
	var shipments []Shipment
	seq := s.shipSeq
	for i, p := range parcels {
		items := p.Items
		if len(items) == 0 {
			for _, r := range left {
				if r.Quantity > 0 {
					items = append(items, r)
				}
			}
			if len(items) == 0 {
				return fmt.Errorf("parcel %d: nothing left to ship", i)
			}
		}
		for _, it := range items {
			k := slices.IndexFunc(left, func(r ItemQty) bool { return r.SKU == it.SKU })
			switch {
			case it.Quantity <= 0:
				return fmt.Errorf("parcel %d: quantity of %s must be positive", i, it.SKU)
			case k < 0:
				return fmt.Errorf("parcel %d: sku %s is not in the order", i, it.SKU)
			case it.Quantity > left[k].Quantity:
				return fmt.Errorf("parcel %d: only %d of %s left to ship", i, left[k].Quantity, it.SKU)
			}
			left[k].Quantity -= it.Quantity
		}
		seq++
		sh := Shipment{
			ID:             "SH-" + fmt.Sprint(seq),
			Carrier:        p.Carrier,
			TrackingNumber: p.TrackingNumber,
			TrackingURL:    p.TrackingURL,
			Items:          slices.Clone(items),
			ShippedAt:      s.now().Truncate(time.Second),
		}
		if sh.Carrier == "" {
			sh.Carrier = "UPS"
		}
		if sh.TrackingNumber == "" {
			// The prefix keeps numbers of two fakes apart: a storefront order may get parcels
			// from both, and the tracking number is a fulfillment's identity there.
			sh.TrackingNumber = fmt.Sprintf("1Z%s%08d", strings.ToUpper(s.opts.Prefix), seq)
		}
		if sh.TrackingURL == "" {
			sh.TrackingURL = trackingURL(sh.Carrier, sh.TrackingNumber)
		}
		shipments = append(shipments, sh)
	}
	s.shipSeq = seq
	o.Shipments = append(o.Shipments, shipments...)
	o.Status = StatusShipped
	for _, r := range left {
		if r.Quantity > 0 {
			o.Status = StatusPartiallyShipped
		}
	}
	return nil
}

func trackingURL(carrier, number string) string {
	if carrier == "UPS" {
		return "https://www.ups.com/track?tracknum=" + number
	}
	return "https://tracking.example.com/" + strings.ToLower(strings.ReplaceAll(carrier, " ", "-")) + "/" + number
}

// remaining returns what of the order has not shipped yet, per SKU in the order's order.
func remaining(o *Order) []ItemQty {
	var left []ItemQty
	for _, it := range o.Placed.Items {
		k := slices.IndexFunc(left, func(r ItemQty) bool { return r.SKU == it.SKU })
		if k < 0 {
			left = append(left, ItemQty{SKU: it.SKU})
			k = len(left) - 1
		}
		left[k].Quantity += it.Quantity
	}
	for _, sh := range o.Shipments {
		for _, it := range sh.Items {
			if k := slices.IndexFunc(left, func(r ItemQty) bool { return r.SKU == it.SKU }); k >= 0 {
				left[k].Quantity -= it.Quantity
			}
		}
	}
	return left
}

// SetTracking corrects a parcel's tracking, as suppliers do when a label is reprinted, and
// posts an order.updated event. An empty carrier or number keeps the current one.
func (s *Server) SetTracking(externalID, shipmentID, carrier, number, url string) error {
	s.mu.Lock()
	o, ok := s.orders[externalID]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("set tracking of %s: no such order", externalID)
	}
	k := slices.IndexFunc(o.Shipments, func(sh Shipment) bool { return sh.ID == shipmentID })
	if k < 0 {
		s.mu.Unlock()
		return fmt.Errorf("set tracking of %s: no parcel %s", externalID, shipmentID)
	}
	sh := &o.Shipments[k]
	if carrier != "" {
		sh.Carrier = carrier
	}
	if number != "" {
		sh.TrackingNumber = number
	}
	sh.TrackingURL = url
	snap := o.clone()
	s.mu.Unlock()
	return s.deliver(snap)
}

// SetStatus sets the order's status (e.g. in_production, failed) and posts an order.updated
// event.
func (s *Server) SetStatus(externalID, status string) error {
	switch status {
	case StatusAccepted, StatusInProduction, StatusPartiallyShipped, StatusShipped, StatusCancelled, StatusFailed:
	default:
		return fmt.Errorf("set status of %s: unknown status %q", externalID, status)
	}
	s.mu.Lock()
	o, ok := s.orders[externalID]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("set status of %s: no such order", externalID)
	}
	o.Status = status
	snap := o.clone()
	s.mu.Unlock()
	return s.deliver(snap)
}

// Sign returns the X-Dropsync-Signature value the fake sends with an event body. It is
// written here rather than taken from the connector so that each checks the other.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// deliver posts an order.updated event for the order to WebhookURL, if one is set.
func (s *Server) deliver(o Order) error {
	if s.opts.WebhookURL == "" {
		return nil
	}
	body, err := json.Marshal(struct {
		Event string `json:"event"`
		Order Order  `json:"order"`
	}{"order.updated", o})
	if err != nil {
		return fmt.Errorf("event for %s: %w", o.ExternalID, err)
	}
	req, err := http.NewRequest(http.MethodPost, s.opts.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("event for %s: %w", o.ExternalID, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "dropsync-suppliertest")
	req.Header.Set("X-Dropsync-Signature", Sign(s.opts.WebhookSecret, body))
	status, err := s.srv.Deliver(req)
	if err != nil {
		return fmt.Errorf("event for %s: %w", o.ExternalID, err)
	}
	if status < 200 || status >= 300 {
		return fmt.Errorf("event for %s: webhook answered %d", o.ExternalID, status)
	}
	return nil
}

type dueShipment struct {
	externalID string
	parcels    []Parcel
}

// due lists the parcels AutoShip sends now, of every order that has waited After since it
// was accepted. Split parcels go one Ship call each, so that every parcel gets its own
// event, as when a real supplier sends them on different days.
func (s *Server) due(a AutoShip) []dueShipment {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var out []dueShipment
	for _, o := range s.list {
		switch o.Status {
		case StatusAccepted, StatusInProduction, StatusPartiallyShipped:
		default:
			continue
		}
		if now.Sub(o.CreatedAt) < a.After {
			continue
		}
		var left []ItemQty
		for _, r := range remaining(o) {
			if r.Quantity > 0 {
				left = append(left, r)
			}
		}
		if len(left) == 0 {
			continue
		}
		if !a.SplitParcels || len(left) == 1 {
			out = append(out, dueShipment{externalID: o.ExternalID})
			continue
		}
		for _, r := range left {
			out = append(out, dueShipment{externalID: o.ExternalID, parcels: []Parcel{{Items: []ItemQty{r}}}})
		}
	}
	return out
}
