package web

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"
)

// ErrSessionNotFound is what a SessionStore's Get returns for an id it does
// not hold (never stored, expired, or deleted).
var ErrSessionNotFound = errors.New("web: session not found")

// SessionStore keeps sessions on the server ([Config].SessionStore); the
// cookie then carries only a sealed session id. Values are sealed by the
// middleware before they reach the store: the store never sees a token.
//
// Implementations must be safe for concurrent use, honour ctx, and make a
// DeleteTag visible to every replica that shares the store: that is how
// back-channel logout reaches them.
type SessionStore interface {
	// Get returns the value stored under id, or ErrSessionNotFound.
	Get(ctx context.Context, id string) ([]byte, error)
	// Put stores value under id for ttl, tagged with tags ("sub:…",
	// "sid:…"), replacing what id held.
	Put(ctx context.Context, id string, value []byte, tags []string, ttl time.Duration) error
	// Delete removes id; deleting a missing id is not an error.
	Delete(ctx context.Context, id string) error
	// DeleteTag removes every session tagged with tag.
	DeleteTag(ctx context.Context, tag string) error
}

// ErrSessionLocked is what a [SessionLocker]'s LockSession returns while
// another holder has the session's lease.
var ErrSessionLocked = errors.New("web: session locked by another refresh")

// ErrSessionChanged is what a [SessionReplacer]'s Replace returns when the
// id holds another value than the one the caller read.
var ErrSessionChanged = errors.New("web: stored session changed")

// SessionLocker is an optional interface of a [SessionStore]: a lease per
// session, so that of the replicas that find one session due for a
// refresh at once, one redeems its refresh token and the others wait for
// the value it stores (a provider that rotates refresh tokens refuses the
// second redemption, and with reuse detection revokes the grant). Without
// it the middleware runs one refresh per session per process only.
//
// LockSession takes id's lease for ttl, or returns [ErrSessionLocked]
// while another holder has it; any other error is the store failing.
// unlock releases the lease if it is still this holder's (one that
// expired and was taken over is left alone); it is called once, and does
// not take a context (it bounds its own call). Implementations must be
// safe for concurrent use and honour ctx.
type SessionLocker interface {
	LockSession(ctx context.Context, id string, ttl time.Duration) (unlock func(), err error)
}

// SessionReplacer is an optional interface of a [SessionStore]: a
// compare-and-swap write. The middleware writes a refreshed session with
// it, so that a session deleted meanwhile (a sign-out, or a back-channel
// logout taken by any replica) stays deleted. Without it the middleware
// reads the id before its Put, and a deletion between the two is undone.
//
// Replace stores value under id with tags for ttl, as Put does, only if
// id still holds old (the exact bytes Get returned); otherwise it writes
// nothing and returns [ErrSessionNotFound] when id holds nothing, or
// [ErrSessionChanged] when it holds another value. Implementations must
// be safe for concurrent use and honour ctx.
type SessionReplacer interface {
	Replace(ctx context.Context, id string, old, value []byte, tags []string, ttl time.Duration) error
}

// MemoryStore is a SessionStore in this process's memory, for a single
// replica (sessions are lost on restart). Expired entries are dropped when
// read and on every Put that finds the store over 1,000 entries larger than
// at its last sweep. It is also a [SessionLocker] and a [SessionReplacer]
// (which matters when several Logins of one process share it). The zero
// value is not usable; call NewMemoryStore.
type MemoryStore struct {
	now func() time.Time

	mu    sync.Mutex                     // guards the fields below
	items map[string]memItem             // by id
	tags  map[string]map[string]struct{} // tag → ids
	swept int                            // len(items) after the last sweep
	locks map[string]memLock             // by id, the refresh leases
	lockN uint64                         // the last lease's number
}

type memLock struct {
	n       uint64 // tells this lease from a later one of the same id
	expires time.Time
}

type memItem struct {
	value   []byte
	tags    []string
	expires time.Time
}

var (
	_ SessionStore    = (*MemoryStore)(nil)
	_ SessionLocker   = (*MemoryStore)(nil)
	_ SessionReplacer = (*MemoryStore)(nil)
)

// NewMemoryStore returns an empty MemoryStore. now is the clock; nil means
// time.Now.
func NewMemoryStore(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{now: now, items: map[string]memItem{},
		tags: map[string]map[string]struct{}{}, locks: map[string]memLock{}}
}

// Get implements SessionStore.
func (m *MemoryStore) Get(_ context.Context, id string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[id]
	if !ok || !m.now().Before(it.expires) {
		m.drop(id)
		return nil, ErrSessionNotFound
	}
	return it.value, nil
}

// Put implements SessionStore.
func (m *MemoryStore) Put(_ context.Context, id string, value []byte, tags []string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.put(id, value, tags, ttl)
	return nil
}

// Replace implements [SessionReplacer].
func (m *MemoryStore) Replace(_ context.Context, id string, old, value []byte, tags []string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[id]
	switch {
	case !ok || !m.now().Before(it.expires):
		m.drop(id)
		return ErrSessionNotFound
	case !bytes.Equal(it.value, old):
		return ErrSessionChanged
	}
	m.put(id, value, tags, ttl)
	return nil
}

// LockSession implements [SessionLocker].
func (m *MemoryStore) LockSession(_ context.Context, id string, ttl time.Duration) (func(), error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if l, ok := m.locks[id]; ok && now.Before(l.expires) {
		return nil, ErrSessionLocked
	}
	m.lockN++
	n := m.lockN
	m.locks[id] = memLock{n: n, expires: now.Add(ttl)}
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			if m.locks[id].n == n {
				delete(m.locks, id)
			}
		})
	}, nil
}

// put replaces id; m.mu is held.
func (m *MemoryStore) put(id string, value []byte, tags []string, ttl time.Duration) {
	m.drop(id)
	if len(m.items) > m.swept+1000 {
		m.sweep()
	}
	m.items[id] = memItem{value: value, tags: tags, expires: m.now().Add(ttl)}
	for _, t := range tags {
		if m.tags[t] == nil {
			m.tags[t] = map[string]struct{}{}
		}
		m.tags[t][id] = struct{}{}
	}
}

// Delete implements SessionStore.
func (m *MemoryStore) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.drop(id)
	return nil
}

// DeleteTag implements SessionStore.
func (m *MemoryStore) DeleteTag(_ context.Context, tag string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id := range m.tags[tag] {
		m.drop(id)
	}
	return nil
}

// Len reports how many sessions the store holds (expired ones included
// until they are swept).
func (m *MemoryStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}

// drop removes id and its tags; m.mu is held.
func (m *MemoryStore) drop(id string) {
	it, ok := m.items[id]
	if !ok {
		return
	}
	delete(m.items, id)
	for _, t := range it.tags {
		delete(m.tags[t], id)
		if len(m.tags[t]) == 0 {
			delete(m.tags, t)
		}
	}
}

func (m *MemoryStore) sweep() {
	now := m.now()
	for id, it := range m.items {
		if !now.Before(it.expires) {
			m.drop(id)
		}
	}
	for id, l := range m.locks {
		if !now.Before(l.expires) {
			delete(m.locks, id)
		}
	}
	m.swept = len(m.items)
}
