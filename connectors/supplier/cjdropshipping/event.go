package cjdropshipping

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// SignHeader carries CJ's webhook signature: Base64 of the HMAC-SHA256 of the raw body,
// keyed by the account's openId.
const SignHeader = "Sign"

// TokenParam is the query parameter of the callback URL that carries the supplier's webhook
// secret, for deliveries CJ does not sign: https://<dropsync>/webhooks/suppliers/<id>?token=<secret>.
const TokenParam = "token"

// CJ webhook message types dropsync acts on.
const (
	MessageOrder    = "ORDER"
	MessageLogistic = "LOGISTIC"
)

// Sign returns the sign header value CJ sends with a body for the account's openId.
func Sign(openID string, body []byte) string {
	m := hmac.New(sha256.New, []byte(openID))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

type wireMessage struct {
	MessageID   string          `json:"messageId"`
	Type        string          `json:"type"`
	MessageType string          `json:"messageType"`
	Params      json.RawMessage `json:"params"`
}

// wireOrderMessage is an ORDER message's params.
type wireOrderMessage struct {
	OrderNumber  string     `json:"orderNumber"`
	OrderNum     string     `json:"orderNum"` // the older name of orderNumber
	CJOrderID    flexString `json:"cjOrderId"`
	OrderStatus  string     `json:"orderStatus"`
	LogisticName string     `json:"logisticName"`
	TrackNumber  string     `json:"trackNumber"`
	TrackingURL  string     `json:"trackingUrl"`
	UpdateDate   string     `json:"updateDate"`
	DeliveryDate string     `json:"deliveryDate"`
}

// wireLogisticMessage is a LOGISTIC message's params.
type wireLogisticMessage struct {
	OrderID        flexString `json:"orderId"`
	TrackingNumber string     `json:"trackingNumber"`
}

// ParseEvent authenticates and decodes a CJ webhook delivery. A delivery is believed when
// its sign header verifies with the account's openId, or when the callback URL carries the
// webhook secret (TokenParam); either is checked before anything is decoded, in constant
// time. An ORDER message gives one event carrying the order; a LOGISTIC message gives a hint
// naming the order, which the pipeline then reads; other messages (products, stock) give
// none. Errors: EUNAUTHORIZED (neither proof verifies), EINVALID (an authenticated body that
// is not a CJ message, or an order message naming no order).
func (s *Supplier) ParseEvent(header http.Header, query url.Values, body []byte) ([]dropsync.SupplierEvent, error) {
	if !s.authentic(header, query, body) {
		return nil, dropsync.Errorf(dropsync.EUNAUTHORIZED, "supplier %s: event: neither a valid %s header nor the webhook %s", s.cfg.ID, SignHeader, TokenParam)
	}
	var m wireMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, dropsync.Wrap(dropsync.EINVALID, err, "supplier %s: event: malformed body", s.cfg.ID)
	}
	switch strings.ToUpper(m.Type) {
	case MessageOrder:
		var p wireOrderMessage
		if err := json.Unmarshal(m.Params, &p); err != nil {
			return nil, dropsync.Wrap(dropsync.EINVALID, err, "supplier %s: event %s: malformed params", s.cfg.ID, m.Type)
		}
		num := firstOf(p.OrderNumber, p.OrderNum)
		if num == "" && p.CJOrderID == "" {
			return nil, dropsync.Errorf(dropsync.EINVALID, "supplier %s: event %s: no order named", s.cfg.ID, m.Type)
		}
		o := wireOrder{CJOrderID: p.CJOrderID, OrderNum: num, OrderStatus: p.OrderStatus, LogisticName: p.LogisticName,
			TrackNumber: p.TrackNumber, TrackingURL: p.TrackingURL, OutWarehouseTime: firstOf(p.DeliveryDate, p.UpdateDate)}
		order := o.domain(s.externalID, s.now)
		if num == "" {
			// Without its number the order cannot be told apart: the pipeline reads it.
			return []dropsync.SupplierEvent{{Supplier: s.cfg.ID, Ref: dropsync.SupplierOrderRef{ID: order.ID}}}, nil
		}
		return []dropsync.SupplierEvent{{
			Supplier: s.cfg.ID,
			Ref:      dropsync.SupplierOrderRef{ID: order.ID, ExternalID: order.ExternalID},
			Order:    &order,
		}}, nil
	case MessageLogistic:
		var p wireLogisticMessage
		if err := json.Unmarshal(m.Params, &p); err != nil {
			return nil, dropsync.Wrap(dropsync.EINVALID, err, "supplier %s: event %s: malformed params", s.cfg.ID, m.Type)
		}
		if p.OrderID == "" {
			return nil, dropsync.Errorf(dropsync.EINVALID, "supplier %s: event %s: no order named", s.cfg.ID, m.Type)
		}
		return []dropsync.SupplierEvent{{Supplier: s.cfg.ID, Ref: dropsync.SupplierOrderRef{ID: string(p.OrderID)}}}, nil
	}
	return nil, nil
}

// authentic checks the delivery's proof: CJ's signature, or the secret in the URL.
func (s *Supplier) authentic(header http.Header, query url.Values, body []byte) bool {
	if sig := strings.TrimSpace(header.Get(SignHeader)); sig != "" {
		if openID := s.knownOpenID(); openID != "" {
			got, err := base64.StdEncoding.DecodeString(sig)
			if err == nil {
				m := hmac.New(sha256.New, []byte(openID))
				m.Write(body)
				if hmac.Equal(got, m.Sum(nil)) {
					return true
				}
			}
		}
	}
	if token := query.Get(TokenParam); token != "" && s.cfg.WebhookSecret != "" {
		got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(s.cfg.WebhookSecret))
		return hmac.Equal(got[:], want[:])
	}
	return false
}
