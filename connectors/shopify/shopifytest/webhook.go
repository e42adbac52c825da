package shopifytest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Webhook is a webhook subscription registered through the Admin API.
type Webhook struct {
	ID                  int64     `json:"id"`
	Address             string    `json:"address"`
	Topic               string    `json:"topic"`
	Format              string    `json:"format"`
	Fields              []string  `json:"fields"`
	MetafieldNamespaces []string  `json:"metafield_namespaces"`
	APIVersion          string    `json:"api_version"`
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`
}

func (w Webhook) clone() Webhook {
	w.Fields = nonNil(clone(w.Fields))
	w.MetafieldNamespaces = nonNil(clone(w.MetafieldNamespaces))
	return w
}

// Webhooks returns the registered webhook subscriptions, oldest first.
func (s *Server) Webhooks() []Webhook {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Webhook, 0, len(s.webhooks))
	for _, w := range s.webhooks {
		out = append(out, w.clone())
	}
	return out
}

// topicPattern is the shape of a webhook topic ("orders/updated").
var topicPattern = regexp.MustCompile(`^[a-z_]+/[a-z_]+$`)

// isComplianceTopic reports the privacy topics, which are configured in the
// app's settings and never through the API; Shopify refuses them here, and
// so does the fake.
func isComplianceTopic(topic string) bool {
	switch topic {
	case "customers/data_request", "customers/redact", "shop/redact":
		return true
	}
	return false
}

func (s *Server) listWebhooks(r *http.Request) reply {
	q := r.URL.Query()
	out := make([]Webhook, 0, len(s.webhooks))
	for _, w := range s.webhooks {
		if t := q.Get("topic"); t != "" && w.Topic != t {
			continue
		}
		if a := q.Get("address"); a != "" && w.Address != a {
			continue
		}
		out = append(out, w.clone())
	}
	return jsonReply(http.StatusOK, map[string][]Webhook{"webhooks": out})
}

func (s *Server) getWebhook(id int64) reply {
	for _, w := range s.webhooks {
		if w.ID == id {
			return jsonReply(http.StatusOK, map[string]Webhook{"webhook": w.clone()})
		}
	}
	return notFound()
}

func (s *Server) createWebhook(version string, body []byte, now time.Time) reply {
	var req struct {
		Webhook *struct {
			Topic   string   `json:"topic"`
			Address string   `json:"address"`
			Format  string   `json:"format"`
			Fields  []string `json:"fields"`
		} `json:"webhook"`
	}
	if err := json.Unmarshal(body, &req); err != nil || req.Webhook == nil {
		return missingParam("webhook")
	}
	in := req.Webhook
	errs := map[string][]string{}
	switch {
	case in.Topic == "":
		errs["topic"] = append(errs["topic"], "can't be blank")
	case !topicPattern.MatchString(in.Topic) || isComplianceTopic(in.Topic):
		errs["topic"] = append(errs["topic"], "Invalid topic specified: "+in.Topic)
	}
	if msg := checkAddress(in.Address); msg != "" {
		errs["address"] = append(errs["address"], msg)
	}
	if in.Format == "" {
		in.Format = "json"
	}
	if in.Format != "json" && in.Format != "xml" {
		errs["format"] = append(errs["format"], "is not included in the list")
	}
	if len(errs) > 0 {
		return errorReply(http.StatusUnprocessableEntity, errs)
	}
	for _, w := range s.webhooks {
		if w.Topic == in.Topic && w.Address == in.Address {
			return errorReply(http.StatusUnprocessableEntity,
				map[string][]string{"address": {"for this topic has already been taken"}})
		}
	}
	ts := stamp(now)
	w := Webhook{
		ID: s.newID(), Address: in.Address, Topic: in.Topic, Format: in.Format,
		Fields: nonNil(clone(in.Fields)), MetafieldNamespaces: []string{},
		APIVersion: version, CreatedAt: ts, UpdatedAt: ts,
	}
	s.webhooks = append(s.webhooks, w)
	return jsonReply(http.StatusCreated, map[string]Webhook{"webhook": w.clone()})
}

// checkAddress validates a webhook address. Shopify requires HTTPS; the
// fake also takes plain HTTP to a loopback host, where tests and the demo
// listen.
func checkAddress(addr string) string {
	if addr == "" {
		return "can't be blank"
	}
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" {
		return "is invalid"
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return ""
		}
		return "protocol http:// is not supported"
	}
	return "is invalid"
}

func (s *Server) deleteWebhook(id int64) reply {
	for i, w := range s.webhooks {
		if w.ID == id {
			s.webhooks = slices.Delete(s.webhooks, i, i+1)
			return reply{status: http.StatusOK, body: []byte("{}")}
		}
	}
	return notFound()
}

// Sign is the X-Shopify-Hmac-Sha256 header for a webhook body: the base64
// HMAC-SHA256 of the raw body, keyed by the app's client secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Deliver posts a webhook to address as Shopify does: the raw body signed with
// secret, and Shopify's headers with a fresh webhook id (read it back from
// resp.Request.Header to redeliver with DeliverWithID). The caller closes
// the response body. Like Shopify, it gives the receiver five seconds.
func (s *Server) Deliver(ctx context.Context, address, topic, secret string, body []byte) (*http.Response, error) {
	return s.DeliverWithID(ctx, address, topic, secret, uuid.NewString(), body)
}

// DeliverWithID is Deliver with a given X-Shopify-Webhook-Id, to simulate
// Shopify's retry of a delivery: the same id, the same event id and the
// same body.
func (s *Server) DeliverWithID(ctx context.Context, address, topic, secret, webhookID string, body []byte) (*http.Response, error) {
	s.mu.Lock()
	eventID, ok := s.eventIDs[webhookID]
	if !ok {
		eventID = uuid.NewString()
		s.eventIDs[webhookID] = eventID
	}
	triggered := s.clock()
	s.mu.Unlock()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, address, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("deliver %s webhook: %w", topic, err)
	}
	h := req.Header
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Shopify-Captain-Hook")
	h.Set("X-Shopify-Topic", topic)
	h.Set("X-Shopify-Hmac-Sha256", Sign(secret, body))
	h.Set("X-Shopify-Shop-Domain", s.shop)
	h.Set("X-Shopify-Webhook-Id", webhookID)
	h.Set("X-Shopify-Event-Id", eventID)
	h.Set("X-Shopify-API-Version", s.versions[0])
	h.Set("X-Shopify-Triggered-At", triggered.Format(time.RFC3339Nano))
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("deliver %s webhook %s: %w", topic, webhookID, err)
	}
	return resp, nil
}
