package cjdropshipping

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisTokenStore keeps a CJ account's token, locks and request slots in Redis, shared by
// every dropsync process of the supplier.
type redisTokenStore struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRedisTokenStore returns the TokenStore (and Pacer) of one configured CJ supplier in
// Redis, under keys dropsync:cj:<supplierID>:…. The token is kept without expiry (CJ's own
// expiry dates are in it); locks and request slots expire by themselves, so a crashed
// process holds nothing for long.
func NewRedisTokenStore(rdb redis.UniversalClient, supplierID string) TokenStore {
	return &redisTokenStore{rdb: rdb, prefix: "dropsync:cj:" + supplierID + ":"}
}

func (r *redisTokenStore) tokenKey() string { return r.prefix + "token" }

// Load implements TokenStore.
func (r *redisTokenStore) Load(ctx context.Context) (Token, error) {
	data, err := r.rdb.Get(ctx, r.tokenKey()).Bytes()
	if errors.Is(err, redis.Nil) {
		return Token{}, nil
	}
	if err != nil {
		return Token{}, fmt.Errorf("load cj token: %w", err)
	}
	var tok Token
	if err := json.Unmarshal(data, &tok); err != nil {
		return Token{}, fmt.Errorf("decode cj token: %w", err)
	}
	return tok, nil
}

// Save implements TokenStore.
func (r *redisTokenStore) Save(ctx context.Context, tok Token) error {
	data, err := json.Marshal(tok)
	if err != nil {
		return fmt.Errorf("encode cj token: %w", err)
	}
	if err := r.rdb.Set(ctx, r.tokenKey(), data, 0).Err(); err != nil {
		return fmt.Errorf("save cj token: %w", err)
	}
	return nil
}

// unlockScript deletes the lock only if it still holds this holder's random value, so a
// holder whose lock expired cannot release the next holder's.
var unlockScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0`)

// Lock implements TokenStore with SET NX PX and a random owner value.
func (r *redisTokenStore) Lock(ctx context.Context, name string, ttl time.Duration) (func(), bool, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, false, fmt.Errorf("cj lock %s: %w", name, err)
	}
	owner := hex.EncodeToString(b[:])
	key := r.prefix + "lock:" + name
	ok, err := r.rdb.SetNX(ctx, key, owner, ttl).Result()
	if err != nil {
		return nil, false, fmt.Errorf("cj lock %s: %w", name, err)
	}
	if !ok {
		return nil, false, nil
	}
	return func() {
		// Released even when the caller's context is done: the lock must not outlive the work.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = unlockScript.Run(ctx, r.rdb, []string{key}, owner).Err()
	}, true, nil
}

// reserveScript books the next request slot on Redis' clock, so processes with skewed
// clocks share one pace. It returns the milliseconds to wait, or minus them when that is
// over the maximum wait (and then books nothing).
var reserveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval, maxwait = tonumber(ARGV[1]), tonumber(ARGV[2])
local slot = tonumber(redis.call('GET', KEYS[1]) or '0')
if slot < now then slot = now end
local wait = slot - now
if wait > maxwait then return -wait end
redis.call('SET', KEYS[1], tostring(slot + interval), 'PX', interval + 60000)
return wait
`)

// Reserve implements Pacer.
func (r *redisTokenStore) Reserve(ctx context.Context, interval, maxWait time.Duration) (time.Duration, bool, error) {
	ms, err := reserveScript.Run(ctx, r.rdb, []string{r.prefix + "pace"}, interval.Milliseconds(), maxWait.Milliseconds()).Int64()
	if err != nil {
		return 0, false, fmt.Errorf("cj pace: %w", err)
	}
	if ms < 0 {
		return time.Duration(-ms) * time.Millisecond, false, nil
	}
	return time.Duration(ms) * time.Millisecond, true, nil
}
