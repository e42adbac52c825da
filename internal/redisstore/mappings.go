package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dropsync/dropsync/internal/dropsync"
)

// A shop's mappings live in one hash, one field per storefront SKU holding that SKU's rows,
// so verifying an order reads only its own SKUs. A replacement is built under a temporary
// key and renamed over the live one: readers see the old set or the new one, never a mix.
func mappingsKey(shop string) string     { return Prefix + "mappings:" + shop }
func mappingsMetaKey(shop string) string { return Prefix + "mappings:" + shop + ":meta" }

// mappingChunk bounds one HSET while a replacement is built.
const mappingChunk = 1000

// ReplaceMappings atomically replaces all of a shop's mappings with rows (which must all be
// for that shop). It returns the new version number.
func (s *Store) ReplaceMappings(ctx context.Context, shop string, rows []dropsync.Mapping) (int64, error) {
	bySKU := map[string][]dropsync.Mapping{}
	for _, r := range rows {
		if r.Shop != shop {
			return 0, dropsync.Errorf(dropsync.EINVALID, "mapping for shop %s in a replacement for %s", r.Shop, shop)
		}
		bySKU[r.SKU] = append(bySKU[r.SKU], r)
	}
	skus := make([]string, 0, len(bySKU))
	for k := range bySKU {
		skus = append(skus, k)
	}
	sort.Strings(skus)
	tmp := fmt.Sprintf("%s:tmp:%d", mappingsKey(shop), rand.Uint64())
	for start := 0; start < len(skus); start += mappingChunk {
		end := min(start+mappingChunk, len(skus))
		args := make([]any, 0, 2*(end-start))
		for _, sku := range skus[start:end] {
			b, err := json.Marshal(bySKU[sku])
			if err != nil {
				return 0, fmt.Errorf("encode mappings of %s: %w", sku, err)
			}
			args = append(args, sku, b)
		}
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.HSet(ctx, tmp, args...)
			p.Expire(ctx, tmp, time.Hour) // a crashed replacement leaves nothing behind for long
			return nil
		})
		if err != nil {
			return 0, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "store mappings of %s", shop)
		}
	}
	var ver *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if len(skus) > 0 {
			p.Rename(ctx, tmp, mappingsKey(shop))
			p.Persist(ctx, mappingsKey(shop))
		} else {
			p.Del(ctx, mappingsKey(shop))
		}
		ver = p.HIncrBy(ctx, mappingsMetaKey(shop), "version", 1)
		p.HSet(ctx, mappingsMetaKey(shop), "rows", len(rows), "updated_at", s.now().Format(time.RFC3339Nano))
		return nil
	})
	if err != nil {
		return 0, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "replace mappings of %s", shop)
	}
	return ver.Val(), nil
}

// MappingsFor returns the rows of the given storefront SKUs of a shop.
func (s *Store) MappingsFor(ctx context.Context, shop string, skus []string) ([]dropsync.Mapping, error) {
	if len(skus) == 0 {
		return nil, nil
	}
	vals, err := s.rdb.HMGet(ctx, mappingsKey(shop), skus...).Result()
	if err != nil {
		return nil, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "read mappings of %s", shop)
	}
	var out []dropsync.Mapping
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		var rows []dropsync.Mapping
		if err := json.Unmarshal([]byte(str), &rows); err != nil {
			return nil, fmt.Errorf("decode mappings of %s %s: %w", shop, skus[i], err)
		}
		out = append(out, rows...)
	}
	return out, nil
}

// Mappings returns all of a shop's mapping rows, sorted by SKU, priority and line.
func (s *Store) Mappings(ctx context.Context, shop string) ([]dropsync.Mapping, error) {
	var out []dropsync.Mapping
	var cursor uint64
	for {
		kv, next, err := s.rdb.HScan(ctx, mappingsKey(shop), cursor, "", 1000).Result()
		if err != nil {
			return nil, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "read mappings of %s", shop)
		}
		for i := 1; i < len(kv); i += 2 {
			var rows []dropsync.Mapping
			if err := json.Unmarshal([]byte(kv[i]), &rows); err != nil {
				return nil, fmt.Errorf("decode mappings of %s %s: %w", shop, kv[i-1], err)
			}
			out = append(out, rows...)
		}
		if next == 0 {
			break
		}
		cursor = next
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.SKU != b.SKU {
			return a.SKU < b.SKU
		}
		if a.Priority != b.Priority {
			return a.Priority < b.Priority
		}
		return a.Line < b.Line
	})
	return out, nil
}

// MappingsVersion returns the version of a shop's mappings (0 when never set).
func (s *Store) MappingsVersion(ctx context.Context, shop string) (int64, error) {
	v, err := s.rdb.HGet(ctx, mappingsMetaKey(shop), "version").Result()
	if err == redis.Nil {
		return 0, nil
	}
	if err != nil {
		return 0, dropsync.Wrap(dropsync.EUNAVAILABLE, err, "read mappings version of %s", shop)
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n, nil
}

// mappingsFileKey remembers the digest of the mappings file last loaded at start, so an
// unchanged file does not undo the changes made since through the API or the CLI.
const mappingsFileKey = Prefix + "mappings-file"

// MappingsFileDigest returns the digest of the mappings file last loaded ("" when none).
func (s *Store) MappingsFileDigest(ctx context.Context) (string, error) {
	v, err := s.rdb.HGet(ctx, mappingsFileKey, "sha256").Result()
	if err == redis.Nil {
		return "", nil
	}
	if err != nil {
		return "", dropsync.Wrap(dropsync.EUNAVAILABLE, err, "read mappings file digest")
	}
	return v, nil
}

// SetMappingsFileDigest records the digest of the mappings file just loaded.
func (s *Store) SetMappingsFileDigest(ctx context.Context, digest, path string) error {
	err := s.rdb.HSet(ctx, mappingsFileKey, "sha256", digest, "path", path,
		"loaded_at", s.now().Format(time.RFC3339)).Err()
	if err != nil {
		return dropsync.Wrap(dropsync.EUNAVAILABLE, err, "record mappings file digest")
	}
	return nil
}
