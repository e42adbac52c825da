// Package redisstore keeps dropsync's own state in Redis: orders with their purchase orders,
// parcels and timeline, the merchants' supplier mappings, and the indexes the pipeline
// needs. Every change to an order is one optimistic compare-and-set over the order's single
// document and its index entries (a script that writes only if the document is still the one
// the change was computed from), so two workers on one order cannot corrupt it: the loser of
// a race re-reads and re-applies its change.
package redisstore

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// Prefix starts every key dropsync writes (asynq keeps its own "asynq:" keys).
const Prefix = "dropsync:"

// Store is dropsync's Redis-backed state.
type Store struct {
	rdb    redis.UniversalClient
	now    func() time.Time
	recent recentDocs
}

// New returns a store on the client. now is the clock (nil = time.Now); times are stored UTC.
func New(rdb redis.UniversalClient, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{rdb: rdb, now: func() time.Time { return now().UTC() }, recent: recentDocs{m: map[string]recentDoc{}}}
}

// recentDocs remembers the order documents this process last read or wrote, so that an
// update right after a read (every pipeline step reads its order, then changes it) starts
// from them instead of reading the document again. A remembered document that is no longer
// current costs one failed compare-and-set and a fresh read, never a lost change.
type recentDocs struct {
	mu sync.Mutex
	m  map[string]recentDoc
}

type recentDoc struct {
	raw []byte // never modified once stored
	at  time.Time
}

const (
	recentDocsMax = 1024            // cleared when full: what matters is the last few reads
	recentDocsTTL = 2 * time.Second // older than a step takes, so as good as stale
)

func (r *recentDocs) put(key string, raw []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.m) >= recentDocsMax {
		clear(r.m)
	}
	r.m[key] = recentDoc{raw: raw, at: time.Now()}
}

// take returns and forgets the document remembered for key.
func (r *recentDocs) take(key string) ([]byte, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, ok := r.m[key]
	delete(r.m, key)
	if !ok || time.Since(d.at) > recentDocsTTL {
		return nil, false
	}
	return d.raw, true
}

func (r *recentDocs) forget(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, key)
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
	key := orderKey(shop, id)
	b, err := s.rdb.Get(ctx, key).Bytes()
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
	s.recent.put(key, b)
	return o, nil
}

// casScript writes an order document and its index entries only if the stored document is
// still the one the change was computed from: ARGV[1] is the SHA-1 of that document ("" when
// there was none). ARGV[2] is the new document; then come index changes, four arguments
// each: the operation (zadd, zrem, sadd, srem), the index of its key in KEYS, the score and
// the member. It returns 1 when it wrote and 0 when the document changed meanwhile.
var casScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if ARGV[1] == '' then
  if cur then return 0 end
elseif not cur or redis.sha1hex(cur) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2])
for i = 3, #ARGV, 4 do
  local op, key = ARGV[i], KEYS[tonumber(ARGV[i + 1])]
  if op == 'zadd' then redis.call('ZADD', key, ARGV[i + 2], ARGV[i + 3])
  elseif op == 'zrem' then redis.call('ZREM', key, ARGV[i + 3])
  elseif op == 'sadd' then redis.call('SADD', key, ARGV[i + 3])
  elseif op == 'srem' then redis.call('SREM', key, ARGV[i + 3])
  end
end
return 1
`)

// errConflict is a compare-and-set that found the document changed.
var errConflict = errors.New("order changed meanwhile")

// indexOps collects casScript's keys and index arguments.
type indexOps struct {
	keys []string
	args []any
}

func (x *indexOps) add(op, key string, score float64, member string) {
	x.keys = append(x.keys, key)
	x.args = append(x.args, op, len(x.keys), score, member)
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
	// attempt computes the change from the document as read (raw, nil when there is none) and
	// writes it if the document is still that one.
	attempt := func(raw []byte) error {
		written = false
		var cur dropsync.Order
		exists := raw != nil
		sum := ""
		if exists {
			if err := json.Unmarshal(raw, &cur); err != nil {
				return fmt.Errorf("decode order %d of %s: %w", id, shop, err)
			}
			h := sha1.Sum(raw)
			sum = hex.EncodeToString(h[:])
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
		ops := indexOps{keys: []string{key}} // KEYS[1] is the document; index keys follow
		if !exists {
			ops.add("zadd", ordersKey(shop), score, member)
		}
		if exists && prev.State != next.State {
			ops.add("zrem", stateKey(shop, prev.State), 0, member)
		}
		if !exists || prev.State != next.State {
			ops.add("zadd", stateKey(shop, next.State), score, member)
		}
		if prev.CustomerID != next.CustomerID {
			if prev.CustomerID != 0 {
				ops.add("srem", customerKey(shop, prev.CustomerID), 0, member)
			}
			if next.CustomerID != 0 {
				ops.add("sadd", customerKey(shop, next.CustomerID), 0, member)
			}
		}
		for po, sup := range prevPOs {
			if _, still := nowPOs[po]; !still {
				ops.add("zrem", openPOKey(sup), 0, po)
			}
		}
		for po, sup := range nowPOs {
			if _, was := prevPOs[po]; !was {
				ops.add("zadd", openPOKey(sup), float64(s.now().UnixMilli()), po)
			}
		}
		ok, err := casScript.Run(ctx, s.rdb, ops.keys, append([]any{sum, data}, ops.args...)...).Int()
		if err != nil {
			return err
		}
		if ok != 1 {
			return errConflict
		}
		s.recent.put(key, data)
		result, written = next, true
		return nil
	}
	for i := 0; i < maxTxRetries; i++ {
		// The first attempt may start from the document this process just read or wrote;
		// after a conflict it is read again.
		raw, ok := []byte(nil), false
		if i == 0 {
			raw, ok = s.recent.take(key)
		}
		var err error
		if !ok {
			raw, err = s.rdb.Get(ctx, key).Bytes()
			if errors.Is(err, redis.Nil) {
				raw, err = nil, nil
			}
		}
		if err == nil {
			err = attempt(raw)
		}
		if ok && (errors.Is(err, errConflict) || !written) {
			// Only a write that succeeds proves a remembered document was current: a
			// decision to change nothing, or an error, taken on it is taken again on the
			// document read now.
			continue
		}
		if errors.Is(err, errConflict) {
			if err := sleepCtx(ctx, time.Duration(i+1)*time.Millisecond); err != nil {
				return dropsync.Order{}, false, err
			}
			continue
		}
		if err != nil {
			s.recent.forget(key)
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
		if !written && raw != nil {
			// Nothing changed: the document read is still the latest this process knows.
			s.recent.put(key, raw)
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

// OrderIDs lists a shop's order ids in one state, oldest first, created before the given
// time (zero = any), at most limit (0 = all).
func (s *Store) OrderIDs(ctx context.Context, shop string, state dropsync.OrderState, before time.Time, limit int) ([]int64, error) {
	max := "+inf"
	if !before.IsZero() {
		max = "(" + strconv.FormatInt(before.UnixMilli(), 10)
	}
	members, err := s.rdb.ZRangeByScore(ctx, stateKey(shop, state), &redis.ZRangeBy{
		Min: "-inf", Max: max, Count: int64(limit), Offset: 0,
	}).Result()
	if err != nil {
		return nil, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "list %s orders of %s", state, shop)
	}
	return parseIDs(members), nil
}

// DeleteOrder removes an order and its index entries in one transaction (issued invoices
// are separate documents and stay). Deleting an order that is gone is not an error.
func (s *Store) DeleteOrder(ctx context.Context, shop string, id int64) error {
	key := orderKey(shop, id)
	txf := func(tx *redis.Tx) error {
		b, err := tx.Get(ctx, key).Bytes()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return err
		}
		var o dropsync.Order
		if err := json.Unmarshal(b, &o); err != nil {
			return fmt.Errorf("decode order %d of %s: %w", id, shop, err)
		}
		member := strconv.FormatInt(id, 10)
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, key)
			p.ZRem(ctx, ordersKey(shop), member)
			p.ZRem(ctx, stateKey(shop, o.State), member)
			if o.CustomerID != 0 {
				p.SRem(ctx, customerKey(shop, o.CustomerID), member)
			}
			for _, po := range o.PurchaseOrders {
				p.ZRem(ctx, openPOKey(po.Supplier), po.ID)
			}
			return nil
		})
		return err
	}
	for i := 0; i < maxTxRetries; i++ {
		err := s.rdb.Watch(ctx, txf, key)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		if err != nil {
			return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "delete order %d of %s", id, shop)
		}
		return nil
	}
	return dropsync.Errorf(dropsync.EUNAVAILABLE, "delete order %d of %s: too much contention", id, shop)
}

// TouchOpenPurchaseOrder moves a polled purchase order to the back of its supplier's open
// list, so that the next poll reads the ones polled longest ago first (a poll reads at most a
// page of them). A purchase order no longer open is left out.
func (s *Store) TouchOpenPurchaseOrder(ctx context.Context, supplier, poID string) error {
	err := s.rdb.ZAddXX(ctx, openPOKey(supplier), redis.Z{Score: float64(s.now().UnixMilli()), Member: poID}).Err()
	if err != nil {
		return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "touch purchase order %s", poID)
	}
	return nil
}
