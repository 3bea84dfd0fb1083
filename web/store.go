package web

import (
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

// MemoryStore is a SessionStore in this process's memory, for a single
// replica (sessions are lost on restart). Expired entries are dropped when
// read and on every Put that finds the store over 1,000 entries larger than
// at its last sweep. The zero value is not usable; call NewMemoryStore.
type MemoryStore struct {
	now func() time.Time

	mu    sync.Mutex                     // guards the fields below
	items map[string]memItem             // by id
	tags  map[string]map[string]struct{} // tag → ids
	swept int                            // len(items) after the last sweep
}

type memItem struct {
	value   []byte
	tags    []string
	expires time.Time
}

var _ SessionStore = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore. now is the clock; nil means
// time.Now.
func NewMemoryStore(now func() time.Time) *MemoryStore {
	if now == nil {
		now = time.Now
	}
	return &MemoryStore{now: now, items: map[string]memItem{}, tags: map[string]map[string]struct{}{}}
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
	return nil
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
	m.swept = len(m.items)
}
