package cjdropshipping

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/dropsync/dropsync/connectors/supplier/supplierapi"
	"github.com/dropsync/dropsync/internal/dropsync"
)

// SignHeader carries CJ's webhook signature: Base64 of the HMAC-SHA256 of the raw body,
// keyed by the account's openId.
const SignHeader = "Sign"

// TokenParam is the query parameter of the callback URL that carries the supplier's webhook
// secret: https://<dropsync>/webhooks/suppliers/<id>?token=<secret>. With a webhook secret
// configured, every delivery must carry it.
const TokenParam = supplierapi.TokenParam

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

// ParseEvent authenticates and decodes a CJ webhook delivery. CJ's sign header is keyed by
// the account's openId, an account identifier rather than a secret, so it proves little:
//   - with a webhook secret configured, the callback URL must carry it (TokenParam, compared
//     in constant time) and a signature alone is refused; a delivery with the secret is
//     believed, and an ORDER message gives one event carrying the order's state;
//   - without one, a delivery whose signature verifies is taken as a hint only: each message
//     gives an event naming the order (Ref) without its state (Order nil), and the pipeline
//     reads the order from CJ's API rather than trusting the body.
//
// A LOGISTIC message is always a hint naming the order; other messages (products, stock) give
// none. Errors: EUNAUTHORIZED (no valid proof, as above), EINVALID (an authenticated body that
// is not a CJ message, or a message naming no order).
func (s *Supplier) ParseEvent(header http.Header, query url.Values, body []byte) ([]dropsync.SupplierEvent, error) {
	trusted, err := s.authenticate(header, query, body)
	if err != nil {
		return nil, err
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
		ev := dropsync.SupplierEvent{Supplier: s.cfg.ID, Ref: dropsync.SupplierOrderRef{ID: order.ID, ExternalID: order.ExternalID}}
		// Without its number the order cannot be told apart, and an untrusted body says
		// nothing for sure: either way the pipeline reads the order.
		if trusted && num != "" {
			ev.Order = &order
		}
		return []dropsync.SupplierEvent{ev}, nil
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

// authenticate checks the delivery's proof before anything is decoded. trusted is whether
// the body's word is believed (the webhook secret came with it) or only its hint (CJ's
// signature alone, when no secret is configured).
func (s *Supplier) authenticate(header http.Header, query url.Values, body []byte) (trusted bool, _ error) {
	if s.cfg.WebhookSecret != "" {
		err := supplierapi.CheckURLToken(s.cfg.ID, query, s.cfg.WebhookSecret)
		if err != nil && query.Get(TokenParam) == "" && header.Get(SignHeader) != "" {
			// The likely cause: the callback URL registered with CJ lacks the secret.
			return false, dropsync.Errorf(dropsync.EUNAUTHORIZED,
				"supplier %s: event: signed, but the callback URL carries no %s: with a webhook secret configured it must (the openId keying CJ's signature is no secret)",
				s.cfg.ID, TokenParam)
		}
		return err == nil, err
	}
	if s.signed(header, body) {
		return false, nil
	}
	return false, dropsync.Errorf(dropsync.EUNAUTHORIZED, "supplier %s: event: no valid %s header", s.cfg.ID, SignHeader)
}

// signed reports whether the sign header verifies with the account's openId.
func (s *Supplier) signed(header http.Header, body []byte) bool {
	sig := strings.TrimSpace(header.Get(SignHeader))
	openID := s.knownOpenID()
	if sig == "" || openID == "" {
		return false
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(openID))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}
