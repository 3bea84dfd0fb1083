package web

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// hookStore is a MemoryStore that reports refused leases and can run a
// hook once before its next write.
type hookStore struct {
	*MemoryStore
	refused chan struct{} // one value per refused LockSession, dropped when full

	mu          sync.Mutex // guards beforeWrite
	beforeWrite func()
}

func newHookStore() *hookStore { return &hookStore{refused: make(chan struct{}, 16)} }

func (h *hookStore) LockSession(ctx context.Context, id string, ttl time.Duration) (func(), error) {
	unlock, err := h.MemoryStore.LockSession(ctx, id, ttl)
	if err != nil {
		select {
		case h.refused <- struct{}{}:
		default:
		}
	}
	return unlock, err
}

func (h *hookStore) setBeforeWrite(f func()) {
	h.mu.Lock()
	h.beforeWrite = f
	h.mu.Unlock()
}

func (h *hookStore) runHook() {
	h.mu.Lock()
	f := h.beforeWrite
	h.beforeWrite = nil
	h.mu.Unlock()
	if f != nil {
		f()
	}
}

func (h *hookStore) Put(ctx context.Context, id string, value []byte, tags []string, ttl time.Duration) error {
	h.runHook()
	return h.MemoryStore.Put(ctx, id, value, tags, ttl)
}

func (h *hookStore) Replace(ctx context.Context, id string, old, value []byte, tags []string, ttl time.Duration) error {
	h.runHook()
	return h.MemoryStore.Replace(ctx, id, old, value, tags, ttl)
}

// waitRefusedOr returns when a lease was refused, or when done reports
// true (what the old code did instead).
func (h *hookStore) waitRefusedOr(done func() bool) {
	for !done() {
		select {
		case <-h.refused:
			return
		case <-time.After(time.Millisecond):
		}
	}
}

// plainStore is a SessionStore with none of the optional interfaces.
type plainStore struct{ s SessionStore }

func (p plainStore) Get(ctx context.Context, id string) ([]byte, error) { return p.s.Get(ctx, id) }
func (p plainStore) Put(ctx context.Context, id string, v []byte, tags []string, ttl time.Duration) error {
	return p.s.Put(ctx, id, v, tags, ttl)
}
func (p plainStore) Delete(ctx context.Context, id string) error     { return p.s.Delete(ctx, id) }
func (p plainStore) DeleteTag(ctx context.Context, tag string) error { return p.s.DeleteTag(ctx, tag) }

// failTagStore is a MemoryStore whose DeleteTag fails while fail is set.
type failTagStore struct {
	*MemoryStore
	fail atomic.Bool
}

func (s *failTagStore) DeleteTag(ctx context.Context, tag string) error {
	if s.fail.Load() {
		return errors.New("redis: i/o timeout")
	}
	return s.MemoryStore.DeleteTag(ctx, tag)
}
