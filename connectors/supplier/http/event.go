package http

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// SignatureHeader carries the signature of a supplier event.
const SignatureHeader = "X-Dropsync-Signature"

// EventOrderUpdated is the one event supplier-http-v1 defines so far.
const EventOrderUpdated = "order.updated"

// Sign returns the X-Dropsync-Signature value for the body: "sha256=" and the hex
// HMAC-SHA256 of the raw body keyed by the supplier's webhook secret.
func Sign(secret string, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac(secret, body))
}

func mac(secret string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

// ParseEvent authenticates and decodes a POST /webhooks/suppliers/{id} delivery. The
// signature is checked before anything is decoded. An order.updated event gives one
// SupplierEvent carrying the order; events it does not know give none and no error, so a
// supplier may add events before dropsync learns them. The query is unused: this kind signs
// in a header. Errors: EUNAUTHORIZED (missing or bad signature, or no webhook secret
// configured), EINVALID (a signed body that is not a valid event).
func (s *Supplier) ParseEvent(header http.Header, query url.Values, body []byte) ([]dropsync.SupplierEvent, error) {
	if s.cfg.WebhookSecret == "" {
		return nil, dropsync.Errorf(dropsync.EUNAUTHORIZED, "supplier %s: event: no webhook secret configured", s.cfg.ID)
	}
	sig := strings.TrimSpace(header.Get(SignatureHeader))
	if sig == "" {
		return nil, dropsync.Errorf(dropsync.EUNAUTHORIZED, "supplier %s: event: missing %s", s.cfg.ID, SignatureHeader)
	}
	hexSig, ok := strings.CutPrefix(sig, "sha256=")
	got, err := hex.DecodeString(hexSig)
	if !ok || err != nil || !hmac.Equal(got, mac(s.cfg.WebhookSecret, body)) {
		return nil, dropsync.Errorf(dropsync.EUNAUTHORIZED, "supplier %s: event: bad signature", s.cfg.ID)
	}

	var ev wireEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, dropsync.Wrap(dropsync.EINVALID, err, "supplier %s: event: malformed body", s.cfg.ID)
	}
	if ev.Event != EventOrderUpdated {
		return nil, nil
	}
	var o wireOrder
	if len(ev.Order) == 0 || string(ev.Order) == "null" {
		return nil, dropsync.Errorf(dropsync.EINVALID, "supplier %s: event %s: no order", s.cfg.ID, ev.Event)
	}
	if err := json.Unmarshal(ev.Order, &o); err != nil {
		return nil, dropsync.Wrap(dropsync.EINVALID, err, "supplier %s: event %s: malformed order", s.cfg.ID, ev.Event)
	}
	if o.ID == "" && o.ExternalID == "" {
		// Nothing names the purchase order: the event cannot be acted on.
		return nil, dropsync.Errorf(dropsync.EINVALID, "supplier %s: event %s: order has no id", s.cfg.ID, ev.Event)
	}
	order := o.domain()
	return []dropsync.SupplierEvent{{
		Supplier: s.cfg.ID,
		Ref:      dropsync.SupplierOrderRef{ID: order.ID, ExternalID: order.ExternalID},
		Order:    &order,
	}}, nil
}
