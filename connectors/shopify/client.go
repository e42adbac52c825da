// Package shopify connects dropsync to Shopify: the webhook receiver (HMAC-verified, every
// topic dropsync handles), the conversion of Shopify's REST order into dropsync's Sale, and
// the Admin API client built on go-shopify (fulfillment orders, fulfillments with tracking,
// order risks, order polling, webhook subscriptions) behind one Redis-shared rate limiter per
// shop.
//
// Shopify documentation used: REST Admin API reference for Order, FulfillmentOrder,
// Fulfillment, OrderRisk and Webhook (shopify.dev/docs/api/admin-rest), "Shopify API rate
// limits" (shopify.dev/docs/api/usage/rate-limits), "Deliver webhooks through HTTPS" (HMAC
// verification, headers, retries) and "Privacy law compliance" (mandatory webhooks).
package shopify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	goshopify "github.com/bold-commerce/go-shopify/v4"
	"github.com/rs/zerolog"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// ShopConfig is what the client needs of one configured shop.
type ShopConfig struct {
	Domain      string
	AccessToken string
	APIVersion  string
	APIBaseURL  string // "" = https://<domain>
}

// Observer counts Shopify API calls (status 0 for a transport error).
type Observer interface {
	ShopifyCall(shop, method string, status int)
}

type nopObserver struct{}

func (nopObserver) ShopifyCall(string, string, int) {}

// Client is the Shopify Admin API for every configured shop. It is safe for concurrent use:
// go-shopify's Client is not (it keeps per-request retry and rate-limit state), so each call
// gets a fresh go-shopify client over a shared HTTP transport.
type Client struct {
	shops map[string]shopConn
	lim   *Limiter
	log   zerolog.Logger
}

type shopConn struct {
	cfg  ShopConfig
	http *http.Client
}

// idleConnsPerShop is how many idle connections to one shop the default transport keeps: as
// many as workers commonly call it at once. http.DefaultTransport keeps 2, so a busier pool of
// workers would open (and TLS-handshake) a new connection for most calls.
const idleConnsPerShop = 64

// NewClient returns a client for the shops. transport nil = a copy of http.DefaultTransport
// that keeps idleConnsPerShop idle connections per shop; obs may be nil.
func NewClient(shops []ShopConfig, lim *Limiter, transport http.RoundTripper, obs Observer, log zerolog.Logger) (*Client, error) {
	if transport == nil {
		transport = http.DefaultTransport
		if dt, ok := http.DefaultTransport.(*http.Transport); ok {
			t := dt.Clone()
			t.MaxIdleConnsPerHost = idleConnsPerShop
			t.MaxIdleConns = max(t.MaxIdleConns, idleConnsPerShop*len(shops))
			transport = t
		}
	}
	if obs == nil {
		obs = nopObserver{}
	}
	if lim == nil {
		return nil, fmt.Errorf("shopify client: a limiter is required")
	}
	c := &Client{shops: map[string]shopConn{}, lim: lim, log: log}
	for _, s := range shops {
		rt := transport
		if s.APIBaseURL != "" {
			u, err := url.Parse(s.APIBaseURL)
			if err != nil || u.Scheme == "" || u.Host == "" {
				return nil, fmt.Errorf("shop %s: api_base_url %q is not scheme://host[:port][/prefix]", s.Domain, s.APIBaseURL)
			}
			rt = rewrite{base: u, next: rt}
		}
		rt = observe{shop: s.Domain, lim: lim, obs: obs, next: rt}
		c.shops[s.Domain] = shopConn{cfg: s, http: &http.Client{Transport: rt, Timeout: 20 * time.Second}}
	}
	return c, nil
}

// api returns a go-shopify client for one operation of the given number of calls, after
// reserving them in the shop's budget. ENOTFOUND for a shop that is not configured.
func (c *Client) api(ctx context.Context, shop string, calls int) (*goshopify.Client, error) {
	conn, ok := c.shops[shop]
	if !ok {
		return nil, dropsync.Errorf(dropsync.ENOTFOUND, "shop %s is not configured", shop)
	}
	if err := c.lim.Acquire(ctx, shop, calls); err != nil {
		return nil, err
	}
	api, err := goshopify.NewClient(goshopify.App{}, conn.cfg.Domain, conn.cfg.AccessToken,
		goshopify.WithVersion(conn.cfg.APIVersion), goshopify.WithHTTPClient(conn.http))
	if err != nil {
		return nil, fmt.Errorf("shopify client for %s: %w", shop, err)
	}
	return api, nil
}

// classify turns a go-shopify or transport error into a dropsync error: 429 → ERATELIMITED
// with Shopify's Retry-After, 401/403 → EUNAUTHORIZED, 402/423 (frozen or locked shop) →
// EGONE, 404 → ENOTFOUND, 422 → EINVALID, 5xx and network errors → EUNAVAILABLE.
func classify(shop, op string, err error) error {
	if err == nil {
		return nil
	}
	var de *dropsync.Error
	if errors.As(err, &de) {
		return err
	}
	var rl goshopify.RateLimitError
	if errors.As(err, &rl) {
		after := time.Duration(rl.RetryAfter) * time.Second
		if after <= 0 {
			after = 2 * time.Second
		}
		return &dropsync.Error{Code: dropsync.ERATELIMITED, RetryAfter: after,
			Message: fmt.Sprintf("shopify %s for %s: rate limited", op, shop)}
	}
	status := 0
	var re goshopify.ResponseError
	var rde goshopify.ResponseDecodingError
	switch {
	case errors.As(err, &re):
		status = re.Status
	case errors.As(err, &rde):
		status = rde.Status
	}
	msg := fmt.Sprintf("shopify %s for %s", op, shop)
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return dropsync.Errorf(dropsync.EUNAUTHORIZED, "%s: access token refused (HTTP %d)", msg, status)
	case status == http.StatusPaymentRequired || status == http.StatusLocked:
		return dropsync.Errorf(dropsync.EGONE, "%s: shop is frozen or locked (HTTP %d)", msg, status)
	case status == http.StatusNotFound:
		return dropsync.Errorf(dropsync.ENOTFOUND, "%s: not found", msg)
	case status == http.StatusUnprocessableEntity:
		return dropsync.Errorf(dropsync.EINVALID, "%s: refused: %s", msg, responseMessage(err))
	case status >= 500 || status == http.StatusTooManyRequests:
		return dropsync.Errorf(dropsync.EUNAVAILABLE, "%s: HTTP %d", msg, status)
	case status >= 400:
		return dropsync.Errorf(dropsync.EINVALID, "%s: HTTP %d: %s", msg, status, responseMessage(err))
	case status >= 200 && status < 300:
		return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "%s: unreadable reply", msg)
	}
	// Transport errors: timeouts, resets, refused connections.
	return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "%s", msg)
}

// responseMessage is Shopify's error text, which names fields and rules, never customer data.
func responseMessage(err error) string {
	var re goshopify.ResponseError
	if errors.As(err, &re) {
		if len(re.Errors) > 0 {
			return strings.Join(re.Errors, "; ")
		}
		return re.Message
	}
	return ""
}
