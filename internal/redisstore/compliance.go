package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// CustomerOrders lists the ids of a shop's orders placed by a storefront customer.
func (s *Store) CustomerOrders(ctx context.Context, shop string, customerID int64) ([]int64, error) {
	members, err := s.rdb.SMembers(ctx, customerKey(shop, customerID)).Result()
	if err != nil {
		return nil, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "read customer orders of %s", shop)
	}
	return parseIDs(members), nil
}

// ShopOrderIDs lists every order id dropsync holds for a shop.
func (s *Store) ShopOrderIDs(ctx context.Context, shop string) ([]int64, error) {
	members, err := s.rdb.ZRange(ctx, ordersKey(shop), 0, -1).Result()
	if err != nil {
		return nil, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "list orders of %s", shop)
	}
	return parseIDs(members), nil
}

func parseIDs(members []string) []int64 {
	out := make([]int64, 0, len(members))
	for _, m := range members {
		if n, err := strconv.ParseInt(m, 10, 64); err == nil {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// DeleteShopData erases everything dropsync holds for a shop except issued invoices (which the
// merchant must keep by law): orders and their indexes, mappings, customer indexes, data
// exports, poll cursor, flags and rate-limit state. Open purchase orders leave the polling
// index. It returns how many keys it removed.
func (s *Store) DeleteShopData(ctx context.Context, shop string) (int, error) {
	ids, err := s.ShopOrderIDs(ctx, shop)
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		o, err := s.Order(ctx, shop, id)
		if dropsync.ErrorCode(err) == dropsync.ENOTFOUND {
			continue
		}
		if err != nil {
			return 0, err
		}
		for _, po := range o.PurchaseOrders {
			if err := s.rdb.ZRem(ctx, openPOKey(po.Supplier), po.ID).Err(); err != nil {
				return 0, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "erase shop %s", shop)
			}
		}
	}
	patterns := []string{
		Prefix + "order:" + shop + ":*",
		Prefix + "orders:" + shop,
		Prefix + "orders:" + shop + ":*",
		Prefix + "mappings:" + shop,
		Prefix + "mappings:" + shop + ":*",
		Prefix + "customer:" + shop + ":*",
		Prefix + "customer-invoices:" + shop + ":*",
		Prefix + "export:" + shop + ":*",
		Prefix + "exports:" + shop,
		Prefix + "shop:" + shop,
		Prefix + "shopify:bucket:" + shop,
	}
	removed := 0
	for _, pat := range patterns {
		var cursor uint64
		for {
			keys, next, err := s.rdb.Scan(ctx, cursor, pat, 1000).Result()
			if err != nil {
				return removed, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "erase shop %s", shop)
			}
			if len(keys) > 0 {
				n, err := s.rdb.Unlink(ctx, keys...).Result()
				if err != nil {
					return removed, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "erase shop %s", shop)
				}
				removed += int(n)
			}
			if next == 0 {
				break
			}
			cursor = next
		}
	}
	return removed, nil
}

// DataExport is what dropsync holds about one customer, produced for a
// customers/data_request and kept for the merchant to retrieve (30 days).
type DataExport struct {
	Shop        string           `json:"shop"`
	RequestID   int64            `json:"data_request_id"`
	CustomerID  int64            `json:"customer_id"`
	CreatedAt   time.Time        `json:"created_at"`
	Orders      []dropsync.Order `json:"orders"`
	Invoices    []string         `json:"invoice_numbers"`
	Description string           `json:"description"`
}

// ExportTTL is how long a data export is kept.
const ExportTTL = 30 * 24 * time.Hour

func exportKey(shop string, id int64) string {
	return Prefix + "export:" + shop + ":" + strconv.FormatInt(id, 10)
}
func exportsKey(shop string) string { return Prefix + "exports:" + shop }

// SaveExport stores a data export (replacing one with the same request id).
func (s *Store) SaveExport(ctx context.Context, e DataExport) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, exportKey(e.Shop, e.RequestID), b, ExportTTL)
		p.ZAdd(ctx, exportsKey(e.Shop), redis.Z{Score: float64(e.CreatedAt.Unix()), Member: e.RequestID})
		p.Expire(ctx, exportsKey(e.Shop), ExportTTL)
		return nil
	})
	if err != nil {
		return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "store data export")
	}
	return nil
}

// Export returns a stored data export (ENOTFOUND when absent or expired).
func (s *Store) Export(ctx context.Context, shop string, requestID int64) (DataExport, error) {
	b, err := s.rdb.Get(ctx, exportKey(shop, requestID)).Bytes()
	if errors.Is(err, redis.Nil) {
		return DataExport{}, dropsync.Errorf(dropsync.ENOTFOUND, "no data export %d for %s", requestID, shop)
	}
	if err != nil {
		return DataExport{}, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "read data export")
	}
	var e DataExport
	if err := json.Unmarshal(b, &e); err != nil {
		return DataExport{}, err
	}
	return e, nil
}

// Exports lists a shop's data export request ids, newest first.
func (s *Store) Exports(ctx context.Context, shop string) ([]int64, error) {
	members, err := s.rdb.ZRevRange(ctx, exportsKey(shop), 0, -1).Result()
	if err != nil {
		return nil, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "list data exports")
	}
	var out []int64
	for _, m := range members {
		if n, err := strconv.ParseInt(m, 10, 64); err == nil {
			if s.rdb.Exists(ctx, exportKey(shop, n)).Val() == 1 {
				out = append(out, n)
			}
		}
	}
	return out, nil
}

// DeleteCustomerExports removes the data exports about a customer (they hold the personal
// data a redaction erases).
func (s *Store) DeleteCustomerExports(ctx context.Context, shop string, customerID int64) error {
	ids, err := s.Exports(ctx, shop)
	if err != nil {
		return err
	}
	for _, id := range ids {
		e, err := s.Export(ctx, shop, id)
		if err != nil {
			continue
		}
		if e.CustomerID == customerID {
			if err := s.rdb.Unlink(ctx, exportKey(shop, id)).Err(); err != nil {
				return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "delete data export")
			}
			s.rdb.ZRem(ctx, exportsKey(shop), id)
		}
	}
	return nil
}

func customerInvoicesKey(shop string, customerID int64) string {
	return Prefix + "customer-invoices:" + shop + ":" + strconv.FormatInt(customerID, 10)
}

// AddCustomerInvoice records that an invoice was issued to a storefront customer, so that
// privacy requests find it even after retention has deleted the order.
func (s *Store) AddCustomerInvoice(ctx context.Context, shop string, customerID int64, number string) error {
	if err := s.rdb.SAdd(ctx, customerInvoicesKey(shop, customerID), number).Err(); err != nil {
		return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "index invoice %s", number)
	}
	return nil
}

// CustomerInvoices lists the numbers of the invoices issued to a customer, sorted.
func (s *Store) CustomerInvoices(ctx context.Context, shop string, customerID int64) ([]string, error) {
	nums, err := s.rdb.SMembers(ctx, customerInvoicesKey(shop, customerID)).Result()
	if err != nil {
		return nil, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "read customer invoices of %s", shop)
	}
	sort.Strings(nums)
	return nums, nil
}

// ForgetCustomerInvoices drops the link between a customer and their invoices.
func (s *Store) ForgetCustomerInvoices(ctx context.Context, shop string, customerID int64) error {
	if err := s.rdb.Unlink(ctx, customerInvoicesKey(shop, customerID)).Err(); err != nil {
		return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "forget customer invoices of %s", shop)
	}
	return nil
}
