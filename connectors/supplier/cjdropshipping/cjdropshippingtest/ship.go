package cjdropshippingtest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
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
	return Delivery{Header: s.signed(body), Query: url.Values{}, Body: body}, nil
}

func (s *Server) signed(body []byte) http.Header {
	return http.Header{"Content-Type": {"application/json"}, "Sign": {Sign(s.OpenID(), body)}}
}

// deliver posts a signed message to WebhookURL, if one is set.
func (s *Server) deliver(body []byte) error {
	if s.opts.WebhookURL == "" {
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-s.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.opts.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header = s.signed(body)
	resp, err := s.hook.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("webhook answered %d", resp.StatusCode)
	}
	return nil
}

// autoShip ships every paid order After it was placed, until Close.
func (s *Server) autoShip(a AutoShip) {
	defer close(s.done)
	t := time.NewTicker(min(max(a.After/4, 5*time.Millisecond), 200*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		for _, num := range s.due(a) {
			select {
			case <-s.stop:
				return
			default:
			}
			_ = s.Ship(num)
		}
	}
}

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
