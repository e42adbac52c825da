package shopify

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	goshopify "github.com/bold-commerce/go-shopify/v4"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// PageSize is the most orders Shopify returns per page.
const PageSize = 250

type ordersPageOptions struct {
	Status       string    `url:"status,omitempty"`
	UpdatedAtMin time.Time `url:"updated_at_min,omitempty"`
	Order        string    `url:"order,omitempty"`
	Limit        int       `url:"limit,omitempty"`
	PageInfo     string    `url:"page_info,omitempty"`
}

// UpdatedOrders reads one page of the shop's orders updated at or after since (any status),
// oldest update first. Pass the returned cursor to read the next page; "" means the last.
// With a cursor, Shopify takes the filters from it, so since is not sent again.
func (c *Client) UpdatedOrders(ctx context.Context, shop string, since time.Time, cursor string) ([]dropsync.Sale, string, error) {
	api, err := c.api(ctx, shop, 1)
	if err != nil {
		return nil, "", err
	}
	opts := ordersPageOptions{Limit: PageSize, PageInfo: cursor}
	if cursor == "" {
		opts.Status, opts.UpdatedAtMin, opts.Order = "any", since.UTC(), "updated_at asc"
	}
	var page struct {
		Orders []json.RawMessage `json:"orders"`
	}
	pg, err := api.ListWithPagination(ctx, "orders.json", &page, opts)
	if err != nil {
		return nil, "", classify(shop, "list orders", err)
	}
	sales := make([]dropsync.Sale, 0, len(page.Orders))
	for _, raw := range page.Orders {
		s, err := ParseOrder(shop, raw)
		if err != nil {
			// One order dropsync cannot read must not stop the reconciliation of the rest (the
			// same page would be read again forever): it is left out and reported.
			var id struct {
				ID int64 `json:"id"`
			}
			_ = json.Unmarshal(raw, &id)
			c.log.Error().Str("shop", shop).Int64("order_id", id.ID).Str("error", dropsync.ErrorMessage(err)).
				Msg("storefront order unreadable: left out of the reconciliation")
			continue
		}
		sales = append(sales, s)
	}
	next := ""
	if pg != nil && pg.NextPageOptions != nil {
		next = pg.NextPageOptions.PageInfo
	}
	return sales, next, nil
}

// Order reads one order (ENOTFOUND when Shopify has none).
func (c *Client) Order(ctx context.Context, shop string, id int64) (dropsync.Sale, error) {
	api, err := c.api(ctx, shop, 1)
	if err != nil {
		return dropsync.Sale{}, err
	}
	var res struct {
		Order json.RawMessage `json:"order"`
	}
	if err := api.Get(ctx, fmt.Sprintf("orders/%d.json", id), &res, nil); err != nil {
		return dropsync.Sale{}, classify(shop, "read order", err)
	}
	return ParseOrder(shop, res.Order)
}

// Subscription is one webhook subscription of the shop.
type Subscription struct {
	ID      int64
	Topic   string
	Address string
}

// Subscribe registers each topic to deliver to address, unless it already does, and
// returns every subscription the shop has afterwards and the topics it created. Running it
// again creates nothing.
func (c *Client) Subscribe(ctx context.Context, shop, address string, topics []string) (subs []Subscription, created []string, err error) {
	list := func() ([]goshopify.Webhook, error) {
		api, err := c.api(ctx, shop, 1)
		if err != nil {
			return nil, err
		}
		hooks, err := api.Webhook.List(ctx, nil)
		return hooks, classify(shop, "list webhooks", err)
	}
	hooks, err := list()
	if err != nil {
		return nil, nil, err
	}
	have := map[string]bool{}
	for _, h := range hooks {
		if h.Address == address {
			have[h.Topic] = true
		}
	}
	for _, topic := range topics {
		if have[topic] {
			continue
		}
		api, err := c.api(ctx, shop, 1)
		if err != nil {
			return nil, created, err
		}
		if _, err := api.Webhook.Create(ctx, goshopify.Webhook{Topic: topic, Address: address, Format: "json"}); err != nil {
			return nil, created, fmt.Errorf("subscribe %s: %w", topic, classify(shop, "create webhook", err))
		}
		created = append(created, topic)
	}
	if hooks, err = list(); err != nil {
		return nil, created, err
	}
	for _, h := range hooks {
		subs = append(subs, Subscription{ID: int64(h.Id), Topic: h.Topic, Address: h.Address})
	}
	return subs, created, nil
}

// APITopics are the topics dropsync registers through the Admin API. The privacy compliance
// topics (customers/data_request, customers/redact, shop/redact) cannot be: they are set in
// the app's configuration (Partner Dashboard or shopify.app.toml) and arrive at the same
// address.
var APITopics = []string{
	dropsync.TopicOrdersCreate, dropsync.TopicOrdersUpdated, dropsync.TopicOrdersPaid,
	dropsync.TopicOrdersCancelled, dropsync.TopicOrdersEdited, dropsync.TopicRefundsCreate,
	dropsync.TopicAppUninstalled,
}
