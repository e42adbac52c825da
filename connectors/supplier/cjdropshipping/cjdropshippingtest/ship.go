package cjdropshippingtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Ship sends the order's one parcel with tracking, moves it to SHIPPED and delivers an ORDER
// message. Only a paid order ships.
func (s *Server) Ship(orderNumber string) error {
	s.mu.Lock()
	o, ok := s.byNum[orderNumber]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("ship %s: no such order", orderNumber)
	}
	if o.OrderStatus != StatusUnshipped {
		s.mu.Unlock()
		return fmt.Errorf("ship %s: order is %s", orderNumber, o.OrderStatus)
	}
	now := s.now().Truncate(time.Second)
	o.OrderStatus = StatusShipped
	o.TrackNumber = fmt.Sprintf("CJPKL%010d", s.seq%10000000000+int64(len(s.list)))
	o.TrackingURL = "https://www.cjpacket.com/?trackingNumber=" + o.TrackNumber
	o.OutWarehouseTime = now.Format(time.DateTime)
	snap := o.clone()
	s.mu.Unlock()
	return s.deliver(s.orderMessage(snap, now))
}

// SetStatus sets the order's status (e.g. UNPAID, DELIVERED, CANCELLED) and delivers an ORDER
// message.
func (s *Server) SetStatus(orderNumber, status string) error {
	s.mu.Lock()
	o, ok := s.byNum[orderNumber]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("set status of %s: no such order", orderNumber)
	}
	o.OrderStatus = status
	snap := o.clone()
	now := s.now()
	s.mu.Unlock()
	return s.deliver(s.orderMessage(snap, now))
}

// orderMessage is an ORDER webhook message about the order.
func (s *Server) orderMessage(o Order, now time.Time) []byte {
	var track any
	if o.TrackNumber != "" {
		track = o.TrackNumber
	}
	body, _ := json.Marshal(map[string]any{
		"messageId":   fmt.Sprintf("%032x", now.UnixNano()),
		"type":        "ORDER",
		"messageType": "UPDATE",
		"openId":      s.opts.OpenID,
		"params": map[string]any{
			"orderNumber": o.OrderNum, "cjOrderId": o.OrderID, "orderStatus": o.OrderStatus,
			"logisticName": o.LogisticName, "trackNumber": track, "trackingUrl": o.TrackingURL,
			"createDate": o.CreateDate, "updateDate": now.Format(time.DateTime), "payDate": o.PaymentDate,
			"deliveryDate": o.OutWarehouseTime, "completeDate": nil,
		},
	})
	return body
}

// Sign is the sign header CJ sends with a body: Base64 of its HMAC-SHA256 keyed by the
// openId. It is written here rather than taken from the connector so that each checks the
// other.
func Sign(openID string, body []byte) string {
	m := hmac.New(sha256.New, []byte(openID))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Event returns the signed ORDER message CJ would send about the order's current state.
func (s *Server) Event(orderNumber string) (Delivery, error) {
	o, ok := s.Order(orderNumber)
	if !ok {
		return Delivery{}, fmt.Errorf("event for %s: no such order", orderNumber)
	}
	body := s.orderMessage(o, s.now())
	return Delivery{Header: s.signed(body), Query: s.tokenQuery(), Body: body}, nil
}

func (s *Server) signed(body []byte) http.Header {
	return http.Header{"Content-Type": {"application/json"}, "Sign": {Sign(s.OpenID(), body)}}
}

// tokenQuery is the query the registered callback URL carries: the webhook secret, if set.
func (s *Server) tokenQuery() url.Values {
	q := url.Values{}
	if s.opts.WebhookSecret != "" {
		q.Set("token", s.opts.WebhookSecret)
	}
	return q
}

// deliver posts a signed message to WebhookURL, if one is set.
func (s *Server) deliver(body []byte) error {
	if s.opts.WebhookURL == "" {
		return nil
	}
	u, err := url.Parse(s.opts.WebhookURL)
	if err != nil {
		return fmt.Errorf("webhook URL: %w", err)
	}
	q := u.Query()
	for k, v := range s.tokenQuery() {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequest(http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = s.signed(body)
	return s.srv.PostWebhook(req)
}

// due lists the orders AutoShip ships now: every paid order placed After ago.
func (s *Server) due(a AutoShip) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var out []string
	for _, o := range s.list {
		if o.OrderStatus == StatusUnshipped && now.Sub(s.placedAt[o.OrderID]) >= a.After {
			out = append(out, o.OrderNum)
		}
	}
	return out
}
