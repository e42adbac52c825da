package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/hibiken/asynq"

	"github.com/dropsync/dropsync/internal/dropsync"
	"github.com/dropsync/dropsync/internal/invoice"
	"github.com/dropsync/dropsync/internal/redisstore"
)

// ComplianceStore is what privacy requests need of the store.
type ComplianceStore interface {
	CustomerOrders(ctx context.Context, shop string, customerID int64) ([]int64, error)
	ShopOrderIDs(ctx context.Context, shop string) ([]int64, error)
	DeleteShopData(ctx context.Context, shop string) (int, error)
	SaveExport(ctx context.Context, e redisstore.DataExport) error
	DeleteCustomerExports(ctx context.Context, shop string, customerID int64) error
	// AddCustomerInvoice, CustomerInvoices and ForgetCustomerInvoices keep which invoices a
	// customer received, which outlives the orders (retention deletes those).
	AddCustomerInvoice(ctx context.Context, shop string, customerID int64, number string) error
	CustomerInvoices(ctx context.Context, shop string, customerID int64) ([]string, error)
	ForgetCustomerInvoices(ctx context.Context, shop string, customerID int64) error
}

// TaskPurger removes queued and retained tasks holding an order's personal data; it
// returns how many such tasks are still running.
type TaskPurger interface {
	PurgeOrderTasks(ctx context.Context, shop string, ids []int64) (busy int, err error)
}

// handleCompliance answers Shopify's mandatory privacy webhooks.
//   - customers/redact erases the customer's personal data from every order dropsync holds
//     for them (and from queued tasks and data exports). Issued invoices keep the buyer's
//     name and address, which tax law requires on an invoice; the email goes.
//   - shop/redact erases everything dropsync holds for the shop except issued invoices,
//     which keep what the law requires and lose the buyers' emails.
//   - customers/data_request produces an export of what dropsync holds for the customer,
//     retrievable at GET /api/v1/shops/{shop}/data-requests/{id}.
func (p *Pipeline) handleCompliance(ctx context.Context, ev dropsync.StorefrontEvent) error {
	if ev.Compliance == nil {
		return nil
	}
	req := *ev.Compliance
	switch ev.Topic {
	case dropsync.TopicCustomersRedact:
		ids, err := p.customerOrders(ctx, ev.Shop, req)
		if err != nil {
			return err
		}
		now := p.now()
		for _, id := range ids {
			_, _, err := p.store.UpdateOrder(ctx, ev.Shop, id, func(o *dropsync.Order) error {
				if o.RedactedAt != nil {
					return dropsync.ErrNoChange
				}
				o.Redact(now, "customer data erased on Shopify's customers/redact request")
				return nil
			})
			if err != nil && dropsync.ErrorCode(err) != dropsync.ENOTFOUND {
				return err
			}
			if p.invoices != nil {
				if err := p.invoices.RedactInvoiceBuyer(ctx, ev.Shop, id); err != nil {
					return err
				}
			}
		}
		if req.CustomerID != 0 {
			// Invoices of orders retention already deleted are found through the customer.
			if err := p.redactCustomerInvoices(ctx, ev.Shop, req.CustomerID); err != nil {
				return err
			}
			if err := p.compliance.DeleteCustomerExports(ctx, ev.Shop, req.CustomerID); err != nil {
				return err
			}
		}
		if err := p.purgeTasks(ctx, ev.Shop, ids); err != nil {
			return err
		}
		p.logger(ctx).Info().Int("orders", len(ids)).Msg("customer data erased")
		return nil
	case dropsync.TopicShopRedact:
		gone, err := p.store.ShopFlag(ctx, ev.Shop, FlagUninstalled)
		if err != nil {
			return err
		}
		if err := p.purgeTasks(ctx, ev.Shop, nil); err != nil {
			return err
		}
		if p.invoices != nil {
			// Every invoice of the shop, those of orders retention deleted included.
			invs, err := p.invoices.Invoices(ctx, time.Time{}, p.now())
			if err != nil {
				return err
			}
			for _, inv := range invs {
				if inv.Shop != ev.Shop || inv.Kind == invoice.KindCreditNote {
					continue
				}
				if err := p.invoices.RedactInvoiceBuyer(ctx, ev.Shop, inv.OrderID); err != nil {
					return err
				}
			}
		}
		n, err := p.compliance.DeleteShopData(ctx, ev.Shop)
		if err != nil {
			return err
		}
		if gone != "" {
			// The shop stays uninstalled: no API call until it is configured again.
			if err := p.store.SetShopFlag(ctx, ev.Shop, FlagUninstalled, gone); err != nil {
				return err
			}
		}
		p.logger(ctx).Info().Int("keys", n).Msg("shop data erased")
		return nil
	case dropsync.TopicCustomersDataReq:
		ids, err := p.customerOrders(ctx, ev.Shop, req)
		if err != nil {
			return err
		}
		exp := redisstore.DataExport{Shop: ev.Shop, RequestID: req.DataRequestID, CustomerID: req.CustomerID,
			CreatedAt: p.now(), Orders: []dropsync.Order{}, Invoices: []string{},
			Description: "Everything dropsync holds about this customer: the storefront orders as received " +
				"(contact, addresses, lines), what was forwarded to which supplier, parcels and tracking, and the " +
				"numbers of issued invoices. dropsync holds no other personal data."}
		for _, id := range ids {
			o, err := p.store.Order(ctx, ev.Shop, id)
			if dropsync.ErrorCode(err) == dropsync.ENOTFOUND {
				continue
			}
			if err != nil {
				return err
			}
			exp.Orders = append(exp.Orders, o)
			if o.InvoiceNumber != "" {
				exp.Invoices = append(exp.Invoices, o.InvoiceNumber)
			}
		}
		if req.CustomerID != 0 {
			nums, err := p.compliance.CustomerInvoices(ctx, ev.Shop, req.CustomerID)
			if err != nil {
				return err
			}
			for _, n := range nums {
				if !slices.Contains(exp.Invoices, n) {
					exp.Invoices = append(exp.Invoices, n)
				}
			}
		}
		if err := p.compliance.SaveExport(ctx, exp); err != nil {
			return err
		}
		p.logger(ctx).Info().Int64("data_request_id", req.DataRequestID).
			Int("orders", len(exp.Orders)).Msg("customer data export ready")
		return nil
	}
	return nil
}

// customerOrders is every order a request names: the customer's orders and those listed.
func (p *Pipeline) customerOrders(ctx context.Context, shop string, req dropsync.Compliance) ([]int64, error) {
	ids := slices.Clone(req.OrderIDs)
	if req.CustomerID != 0 {
		more, err := p.compliance.CustomerOrders(ctx, shop, req.CustomerID)
		if err != nil {
			return nil, err
		}
		ids = append(ids, more...)
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

func (p *Pipeline) purgeTasks(ctx context.Context, shop string, ids []int64) error {
	if p.janitor == nil || (ids != nil && len(ids) == 0) {
		return nil
	}
	busy, err := p.janitor.PurgeOrderTasks(ctx, shop, ids)
	if err != nil {
		return fmt.Errorf("purge tasks of %s: %w", shop, err)
	}
	if busy > 0 {
		return dropsync.Errorf(dropsync.EUNAVAILABLE, "%d tasks with the customer's data are running; erasing again after them", busy)
	}
	return nil
}

// redactCustomerInvoices erases the contact data on every invoice issued to the customer.
func (p *Pipeline) redactCustomerInvoices(ctx context.Context, shop string, customerID int64) error {
	if p.invoices == nil {
		return nil
	}
	nums, err := p.compliance.CustomerInvoices(ctx, shop, customerID)
	if err != nil {
		return err
	}
	for _, n := range nums {
		inv, err := p.invoices.Invoice(ctx, n)
		if dropsync.ErrorCode(err) == dropsync.ENOTFOUND {
			continue
		}
		if err != nil {
			return err
		}
		if err := p.invoices.RedactInvoiceBuyer(ctx, shop, inv.OrderID); err != nil {
			return err
		}
	}
	return p.compliance.ForgetCustomerInvoices(ctx, shop, customerID)
}

// handlePurge erases the finished tasks that carried a redacted order's data.
func (p *Pipeline) handlePurge(ctx context.Context, t *asynq.Task) error {
	var pl OrderPayload
	if err := json.Unmarshal(t.Payload(), &pl); err != nil {
		return fmt.Errorf("decode purge payload: %v: %w", err, asynq.SkipRetry)
	}
	return p.purgeTasks(ctx, pl.Shop, []int64{pl.OrderID})
}
