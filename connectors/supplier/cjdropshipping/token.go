package cjdropshipping

import (
	"context"
	"sync"
	"time"
)

// Token is the access token of one CJ account, with what dropsync needs to keep it fresh.
// It is a secret: never log it.
type Token struct {
	// OpenID is CJ's id of the account; it also keys the signatures of CJ's webhooks.
	OpenID        string    `json:"open_id,omitempty"`
	AccessToken   string    `json:"access_token,omitempty"`
	AccessExpiry  time.Time `json:"access_expiry"`
	RefreshToken  string    `json:"refresh_token,omitempty"`
	RefreshExpiry time.Time `json:"refresh_expiry"`
	// RequestedAt is when a token was last requested with the API key, which CJ allows once
	// every five minutes; it is recorded before the request is sent.
	RequestedAt time.Time `json:"requested_at"`
	// KeyRefused is set when CJ refused that request's credentials, so that until the next
	// request may be sent, callers hear about the credentials rather than a rate limit.
	KeyRefused bool `json:"key_refused,omitempty"`
}

// TokenStore keeps the CJ account's token where every dropsync process sees it: CJ limits
// how often a token may be requested, so processes share one instead of each fetching its
// own. Lock makes one process at a time refresh it (and place a given purchase order).
type TokenStore interface {
	// Load returns the stored token; the zero Token when there is none.
	Load(ctx context.Context) (Token, error)
	// Save stores the token.
	Save(ctx context.Context, tok Token) error
	// Lock takes the named lock for at most ttl. ok is false when another holder has it;
	// unlock releases it if it is still this holder's.
	Lock(ctx context.Context, name string, ttl time.Duration) (unlock func(), ok bool, err error)
}

// Pacer is what a TokenStore may also do: hand out request slots so that every process
// together keeps CJ's per-second limit. A store without it paces each process on its own.
type Pacer interface {
	// Reserve books the next request slot, interval after the last one booked, and returns
	// how long to wait for it. When that is more than maxWait nothing is booked and ok is
	// false, with the wait it would have been.
	Reserve(ctx context.Context, interval, maxWait time.Duration) (wait time.Duration, ok bool, err error)
}

// MemoryTokenStore is a TokenStore and Pacer for one process: for tests, the demo and a
// single-process install. It is safe for concurrent use.
type MemoryTokenStore struct {
	now func() time.Time

	mu    sync.Mutex
	tok   Token
	locks map[string]lockHold
	next  time.Time // the next free request slot
	seq   int
}

type lockHold struct {
	owner int
	until time.Time
}

// NewMemoryTokenStore returns an empty store on the real clock.
func NewMemoryTokenStore() *MemoryTokenStore {
	return &MemoryTokenStore{now: time.Now, locks: map[string]lockHold{}}
}

// Load implements TokenStore.
func (m *MemoryTokenStore) Load(context.Context) (Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tok, nil
}

// Save implements TokenStore.
func (m *MemoryTokenStore) Save(_ context.Context, tok Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tok = tok
	return nil
}

// Lock implements TokenStore.
func (m *MemoryTokenStore) Lock(_ context.Context, name string, ttl time.Duration) (func(), bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if h, held := m.locks[name]; held && now.Before(h.until) {
		return nil, false, nil
	}
	m.seq++
	owner := m.seq
	m.locks[name] = lockHold{owner: owner, until: now.Add(ttl)}
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if h := m.locks[name]; h.owner == owner {
			delete(m.locks, name)
		}
	}, true, nil
}

// Reserve implements Pacer.
func (m *MemoryTokenStore) Reserve(_ context.Context, interval, maxWait time.Duration) (time.Duration, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	slot := m.next
	if slot.Before(now) {
		slot = now
	}
	wait := slot.Sub(now)
	if wait > maxWait {
		return wait, false, nil
	}
	m.next = slot.Add(interval)
	return wait, true, nil
}
