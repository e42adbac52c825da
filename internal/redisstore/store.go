// Package redisstore keeps dropsync's own state in Redis: orders with their purchase orders,
// parcels and timeline, the merchants' supplier mappings, and the indexes the pipeline
// needs. Every change to an order is one optimistic transaction (WATCH/MULTI/EXEC) over the
// order's single document and its index entries, so two workers on one order cannot corrupt
// it: the loser of a race re-reads and re-applies its change.
package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// Prefix starts every key dropsync writes (asynq keeps its own "asynq:" keys).
const Prefix = "dropsync:"

// Store is dropsync's Redis-backed state.
type Store struct {
	rdb redis.UniversalClient
	now func() time.Time
}

// New returns a store on the client. now is the clock (nil = time.Now); times are stored UTC.
func New(rdb redis.UniversalClient, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{rdb: rdb, now: func() time.Time { return now().UTC() }}
}

// Client returns the underlying Redis client.
func (s *Store) Client() redis.UniversalClient { return s.rdb }

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "redis")
	}
	return nil
}

func orderKey(shop string, id int64) string {
	return Prefix + "order:" + shop + ":" + strconv.FormatInt(id, 10)
}
func ordersKey(shop string) string { return Prefix + "orders:" + shop }
func stateKey(shop string, st dropsync.OrderState) string {
	return Prefix + "orders:" + shop + ":state:" + string(st)
}
func openPOKey(supplier string) string { return Prefix + "po:open:" + supplier }
func customerKey(shop string, customerID int64) string {
	return Prefix + "customer:" + shop + ":" + strconv.FormatInt(customerID, 10)
}

// maxTxRetries bounds optimistic retries; contention on one order is a handful of workers.
const maxTxRetries = 100

// Order returns the stored order, or ENOTFOUND.
func (s *Store) Order(ctx context.Context, shop string, id int64) (dropsync.Order, error) {
	b, err := s.rdb.Get(ctx, orderKey(shop, id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return dropsync.Order{}, dropsync.Errorf(dropsync.ENOTFOUND, "order %d of %s not found", id, shop)
	}
	if err != nil {
		return dropsync.Order{}, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "read order %d", id)
	}
	var o dropsync.Order
	if err := json.Unmarshal(b, &o); err != nil {
		return dropsync.Order{}, fmt.Errorf("decode order %d of %s: %w", id, shop, err)
	}
	return o, nil
}

// Upsert applies fn to the stored order (or to a zero order when none exists) and stores
// the result atomically with its index entries. It retries when another writer changed the
// order in between, so fn may run more than once and must only change o. exists is false
// when there is no stored order yet (o is then zero). fn returning dropsync.ErrNoChange
// stores nothing; any other error aborts. It returns the
// order as stored (or as found, when fn returned ErrNoChange) and whether it wrote.
func (s *Store) Upsert(ctx context.Context, shop string, id int64, fn func(o *dropsync.Order, exists bool) error) (dropsync.Order, bool, error) {
	key := orderKey(shop, id)
	var (
		result  dropsync.Order
		written bool
	)
	txf := func(tx *redis.Tx) error {
		written = false
		var cur dropsync.Order
		exists := true
		b, err := tx.Get(ctx, key).Bytes()
		switch {
		case errors.Is(err, redis.Nil):
			exists = false
		case err != nil:
			return err
		default:
			if err := json.Unmarshal(b, &cur); err != nil {
				return fmt.Errorf("decode order %d of %s: %w", id, shop, err)
			}
		}
		prev := cur
		prevPOs := openPOs(&cur)
		next := cur
		next.PurchaseOrders = clonePOs(cur.PurchaseOrders)
		next.Timeline = append([]dropsync.Event(nil), cur.Timeline...)
		if err := fn(&next, exists); err != nil {
			if errors.Is(err, dropsync.ErrNoChange) {
				result = cur
				return nil
			}
			return err
		}
		if next.Shop != shop || next.ID != id {
			return fmt.Errorf("update of order %d of %s changed its identity", id, shop)
		}
		next.Version = prev.Version + 1
		data, err := json.Marshal(&next)
		if err != nil {
			return fmt.Errorf("encode order %d: %w", id, err)
		}
		member := strconv.FormatInt(id, 10)
		score := float64(next.CreatedAt.UnixMilli())
		nowPOs := openPOs(&next)
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, key, data, 0)
			if !exists {
				p.ZAdd(ctx, ordersKey(shop), redis.Z{Score: score, Member: member})
			}
			if exists && prev.State != next.State {
				p.ZRem(ctx, stateKey(shop, prev.State), member)
			}
			if !exists || prev.State != next.State {
				p.ZAdd(ctx, stateKey(shop, next.State), redis.Z{Score: score, Member: member})
			}
			if prev.CustomerID != next.CustomerID {
				if prev.CustomerID != 0 {
					p.SRem(ctx, customerKey(shop, prev.CustomerID), member)
				}
				if next.CustomerID != 0 {
					p.SAdd(ctx, customerKey(shop, next.CustomerID), member)
				}
			}
			for po, sup := range prevPOs {
				if _, still := nowPOs[po]; !still {
					p.ZRem(ctx, openPOKey(sup), po)
				}
			}
			for po, sup := range nowPOs {
				if _, was := prevPOs[po]; !was {
					p.ZAdd(ctx, openPOKey(sup), redis.Z{Score: float64(s.now().UnixMilli()), Member: po})
				}
			}
			return nil
		})
		if err == nil {
			result, written = next, true
		}
		return err
	}
	for i := 0; i < maxTxRetries; i++ {
		err := s.rdb.Watch(ctx, txf, key)
		if errors.Is(err, redis.TxFailedErr) {
			if err := sleepCtx(ctx, time.Duration(i+1)*time.Millisecond); err != nil {
				return dropsync.Order{}, false, err
			}
			continue
		}
		if err != nil {
			var de *dropsync.Error
			if errors.As(err, &de) {
				return dropsync.Order{}, false, err
			}
			if ctx.Err() != nil {
				return dropsync.Order{}, false, ctx.Err()
			}
			if isRedisDown(err) {
				return dropsync.Order{}, false, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "store order %d", id)
			}
			return dropsync.Order{}, false, err
		}
		return result, written, nil
	}
	return dropsync.Order{}, false, dropsync.Errorf(dropsync.EUNAVAILABLE,
		"order %d of %s: too much contention", id, shop)
}

// UpdateOrder applies fn to an existing order (ENOTFOUND when there is none); see Upsert.
func (s *Store) UpdateOrder(ctx context.Context, shop string, id int64, fn func(o *dropsync.Order) error) (dropsync.Order, bool, error) {
	return s.Upsert(ctx, shop, id, func(o *dropsync.Order, exists bool) error {
		if !exists {
			return dropsync.Errorf(dropsync.ENOTFOUND, "order %d of %s not found", id, shop)
		}
		return fn(o)
	})
}

// Orders lists a shop's orders, newest first, optionally only those in one state.
func (s *Store) Orders(ctx context.Context, shop string, state dropsync.OrderState, limit int) ([]dropsync.Order, error) {
	key := ordersKey(shop)
	if state != "" {
		key = stateKey(shop, state)
	}
	if limit <= 0 {
		limit = 50
	}
	ids, err := s.rdb.ZRevRange(ctx, key, 0, int64(limit-1)).Result()
	if err != nil {
		return nil, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "list orders of %s", shop)
	}
	if len(ids) == 0 {
		return []dropsync.Order{}, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = Prefix + "order:" + shop + ":" + id
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "read orders of %s", shop)
	}
	out := make([]dropsync.Order, 0, len(vals))
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue // removed between the two reads
		}
		var o dropsync.Order
		if err := json.Unmarshal([]byte(str), &o); err != nil {
			return nil, fmt.Errorf("decode order %s of %s: %w", ids[i], shop, err)
		}
		out = append(out, o)
	}
	return out, nil
}

// CountByState counts a shop's orders per state.
func (s *Store) CountByState(ctx context.Context, shop string) (map[dropsync.OrderState]int64, error) {
	cmds := make(map[dropsync.OrderState]*redis.IntCmd, len(dropsync.OrderStates))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, st := range dropsync.OrderStates {
			cmds[st] = p.ZCard(ctx, stateKey(shop, st))
		}
		return nil
	})
	if err != nil {
		return nil, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "count orders of %s", shop)
	}
	out := make(map[dropsync.OrderState]int64, len(cmds))
	for st, c := range cmds {
		out[st] = c.Val()
	}
	return out, nil
}

// OpenPurchaseOrders lists the ids of a supplier's purchase orders that are accepted and
// not yet shipped, cancelled or failed: the ones to poll for tracking.
func (s *Store) OpenPurchaseOrders(ctx context.Context, supplier string, limit int) ([]string, error) {
	if limit <= 0 {
		limit = 1000
	}
	ids, err := s.rdb.ZRange(ctx, openPOKey(supplier), 0, int64(limit-1)).Result()
	if err != nil {
		return nil, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "list open purchase orders of %s", supplier)
	}
	return ids, nil
}

func openPOs(o *dropsync.Order) map[string]string {
	out := map[string]string{}
	for i := range o.PurchaseOrders {
		po := &o.PurchaseOrders[i]
		if po.Open() {
			out[po.ID] = po.Supplier
		}
	}
	return out
}

func clonePOs(in []dropsync.PurchaseOrder) []dropsync.PurchaseOrder {
	if in == nil {
		return nil
	}
	out := make([]dropsync.PurchaseOrder, len(in))
	for i, po := range in {
		po.Items = append([]dropsync.POItem(nil), po.Items...)
		po.Shipments = append([]dropsync.Shipment(nil), po.Shipments...)
		out[i] = po
	}
	return out
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func isRedisDown(err error) bool {
	var re redis.Error
	return !errors.As(err, &re)
}

func shopKey(shop string) string { return Prefix + "shop:" + shop }

// ShopFlag returns a shop-level flag ("" when unset).
func (s *Store) ShopFlag(ctx context.Context, shop, name string) (string, error) {
	v, err := s.rdb.HGet(ctx, shopKey(shop), name).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", dropsync.Wrap(dropsync.EUNAVAILABLE, err, "read shop %s", shop)
	}
	return v, nil
}

// SetShopFlag sets a shop-level flag; an empty value removes it.
func (s *Store) SetShopFlag(ctx context.Context, shop, name, value string) error {
	var err error
	if value == "" {
		err = s.rdb.HDel(ctx, shopKey(shop), name).Err()
	} else {
		err = s.rdb.HSet(ctx, shopKey(shop), name, value).Err()
	}
	if err != nil {
		return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "write shop %s", shop)
	}
	return nil
}
