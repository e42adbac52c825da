package shopify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/httpapi"
)

// Sink takes verified storefront events. It returns only once the event is durably queued
// (EUNAVAILABLE otherwise); a duplicate delivery returns nil.
type Sink interface {
	AcceptStorefrontEvent(ctx context.Context, ev dropsync.StorefrontEvent) error
}

// WebhookObserver counts deliveries by topic and outcome.
type WebhookObserver interface {
	Webhook(topic, outcome string)
}

// Receiver is POST /webhooks/shopify: it verifies the HMAC with the shop's webhook secret
// before it stores or parses anything, decodes order and refund topics (a body it cannot read
// is refused with 400 so a bad delivery is visible, not retried for hours), queues the event
// and answers 200 within milliseconds. Redis down: 503, so Shopify retries.
type Receiver struct {
	secrets map[string][]byte
	sink    Sink
	limit   int64
	obs     WebhookObserver
	now     func() time.Time
}

// NewReceiver returns the receiver for shops (domain → webhook secret). limit is the body
// size limit in bytes.
func NewReceiver(secrets map[string]string, sink Sink, limit int64, obs WebhookObserver) *Receiver {
	m := make(map[string][]byte, len(secrets))
	for shop, s := range secrets {
		m[strings.ToLower(shop)] = []byte(s)
	}
	if obs == nil {
		obs = nopWebhookObserver{}
	}
	return &Receiver{secrets: m, sink: sink, limit: limit, obs: obs, now: time.Now}
}

type nopWebhookObserver struct{}

func (nopWebhookObserver) Webhook(string, string) {}

// Topics dropsync subscribes to and handles.
var Topics = []string{
	dropsync.TopicOrdersCreate, dropsync.TopicOrdersUpdated, dropsync.TopicOrdersPaid,
	dropsync.TopicOrdersCancelled, dropsync.TopicOrdersEdited, dropsync.TopicRefundsCreate,
	dropsync.TopicAppUninstalled, dropsync.TopicCustomersDataReq, dropsync.TopicCustomersRedact,
	dropsync.TopicShopRedact,
}

func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		httpapi.MethodNotAllowed(w, r, http.MethodPost)
		return
	}
	topic := strings.ToLower(strings.TrimSpace(r.Header.Get("X-Shopify-Topic")))
	outcome := "error"
	defer func() {
		// The topic is a metric label: only the topics dropsync knows, so that requests
		// (signed or not) cannot create label values without end.
		label := topic
		if !slices.Contains(Topics, topic) {
			label = "other"
		}
		rc.obs.Webhook(label, outcome)
	}()
	log := zerolog.Ctx(r.Context()).With().Str("topic", topic).Logger()

	shop := strings.ToLower(strings.TrimSpace(r.Header.Get("X-Shopify-Shop-Domain")))
	secret, known := rc.secrets[shop]
	body, err := httpapi.ReadBody(w, r, rc.limit)
	if err != nil {
		outcome = "too_large"
		httpapi.WriteError(w, r, err)
		return
	}
	// Unknown shop and bad signature answer alike, so the endpoint tells an attacker nothing.
	if !known || !validHMAC(secret, body, r.Header.Get("X-Shopify-Hmac-Sha256")) {
		outcome = "unauthorized"
		httpapi.WriteError(w, r, dropsync.Errorf(dropsync.EUNAUTHORIZED, "webhook signature does not verify"))
		return
	}
	log = log.With().Str("shop", shop).Logger()
	ev := dropsync.StorefrontEvent{Shop: shop, Topic: topic, Source: dropsync.SourceWebhook,
		WebhookID: strings.TrimSpace(r.Header.Get("X-Shopify-Webhook-Id")), ReceivedAt: rc.now().UTC()}
	if err := decode(&ev, body); err != nil {
		outcome = "bad_body"
		log.Warn().Str("webhook_id", ev.WebhookID).Str("error", dropsync.ErrorMessage(err)).Msg("webhook body refused")
		httpapi.WriteError(w, r, err)
		return
	}
	if ev.Topic == "" {
		outcome = "ignored"
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := rc.sink.AcceptStorefrontEvent(r.Context(), ev); err != nil {
		outcome = "unavailable"
		log.Error().Str("webhook_id", ev.WebhookID).Str("error", dropsync.ErrorMessage(err)).Msg("webhook not queued")
		httpapi.WriteError(w, r, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "webhook not queued"))
		return
	}
	outcome = "queued"
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(`{"status":"queued"}` + "\n"))
}

// decode fills the event from the body by topic. Topics dropsync does not handle are
// acknowledged and dropped (ev.Topic cleared), so Shopify stops resending them.
func decode(ev *dropsync.StorefrontEvent, body []byte) error {
	switch ev.Topic {
	case dropsync.TopicOrdersCreate, dropsync.TopicOrdersUpdated, dropsync.TopicOrdersPaid,
		dropsync.TopicOrdersCancelled:
		sale, err := ParseOrder(ev.Shop, body)
		if err != nil {
			return err
		}
		ev.Sale = &sale
	case dropsync.TopicOrdersEdited:
		// The body is an order_edit summary, not the order: queue a re-read of the order.
		var oe struct {
			OrderEdit struct {
				OrderID int64 `json:"order_id"`
			} `json:"order_edit"`
		}
		if err := json.Unmarshal(body, &oe); err != nil || oe.OrderEdit.OrderID <= 0 {
			return dropsync.Errorf(dropsync.EINVALID, "orders/edited body has no order_edit.order_id")
		}
		ev.OrderID = oe.OrderEdit.OrderID
	case dropsync.TopicRefundsCreate:
		refund, orderID, err := ParseRefund(body)
		if err != nil {
			return err
		}
		ev.Refund, ev.OrderID = &refund, orderID
	case dropsync.TopicAppUninstalled:
		if !json.Valid(body) {
			return dropsync.Errorf(dropsync.EINVALID, "%s body is not JSON", ev.Topic)
		}
	case dropsync.TopicCustomersDataReq, dropsync.TopicCustomersRedact, dropsync.TopicShopRedact:
		var req struct {
			Customer struct {
				ID int64 `json:"id"`
			} `json:"customer"`
			OrdersToRedact  []int64 `json:"orders_to_redact"`
			OrdersRequested []int64 `json:"orders_requested"`
			DataRequest     struct {
				ID int64 `json:"id"`
			} `json:"data_request"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return dropsync.Errorf(dropsync.EINVALID, "%s body is not a Shopify privacy request: %v", ev.Topic, jsonProblem(err))
		}
		c := &dropsync.Compliance{CustomerID: req.Customer.ID, DataRequestID: req.DataRequest.ID}
		c.OrderIDs = append(req.OrdersToRedact, req.OrdersRequested...)
		if ev.Topic != dropsync.TopicShopRedact && c.CustomerID == 0 && len(c.OrderIDs) == 0 {
			return dropsync.Errorf(dropsync.EINVALID, "%s names no customer and no orders", ev.Topic)
		}
		ev.Compliance = c
	default:
		ev.Topic = ""
	}
	return nil
}

// validHMAC checks X-Shopify-Hmac-Sha256: base64 of HMAC-SHA256 over the raw body keyed by
// the app's client secret, compared in constant time.
func validHMAC(secret, body []byte, header string) bool {
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(header))
	if err != nil || len(got) == 0 || len(secret) == 0 {
		return false
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// Sign returns the X-Shopify-Hmac-Sha256 value for a body.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
