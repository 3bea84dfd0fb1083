package redisstore

import (
	"sync"
	"time"
)

// maxFenceMarks bounds the keys whose newest fence a Store remembers;
// past it, the marks whose tokens are gone are dropped, and if none is,
// all of them (the check is then off until the keys are seen again).
const maxFenceMarks = 10000

// fenceMarks remembers, per Redis token key, the newest fence this Store
// has opened or written, until that token's key expires. A value of the
// same key with an older fence is an older token put back (by someone who
// can write to Redis: the seal binds a value to its key and fence, not to
// time), and Load refuses it. Only this process remembers: a replica that
// starts after the replay accepts the older token once its own fence
// marks are empty, as the seal alone allows.
type fenceMarks struct {
	mu    sync.Mutex           // guards marks
	marks map[string]fenceMark // by Redis token key
}

type fenceMark struct {
	fence int64
	until time.Time // the remembered token's key expires
}

func newFenceMarks() *fenceMarks { return &fenceMarks{marks: map[string]fenceMark{}} }

// older reports whether fence is below the newest one seen for key.
func (m *fenceMarks) older(key string, fence int64, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	mk, ok := m.marks[key]
	return ok && now.Before(mk.until) && fence < mk.fence
}

// opened raises key's mark to fence, a value Load opened.
func (m *fenceMarks) opened(key string, fence int64, until, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mk, ok := m.marks[key]; ok && now.Before(mk.until) && mk.fence >= fence {
		return
	}
	m.put(key, fenceMark{fence: fence, until: until}, now)
}

// wrote sets key's mark to fence, a value this Store wrote: the write
// succeeded, so it is the newest, even when Redis lost the counter (a
// flush, a failover) and fences started again from 1.
func (m *fenceMarks) wrote(key string, fence int64, until, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.put(key, fenceMark{fence: fence, until: until}, now)
}

// forget drops key's mark (the token was deleted).
func (m *fenceMarks) forget(key string) {
	m.mu.Lock()
	delete(m.marks, key)
	m.mu.Unlock()
}

// put stores mk; m.mu is held.
func (m *fenceMarks) put(key string, mk fenceMark, now time.Time) {
	if _, ok := m.marks[key]; !ok && len(m.marks) >= maxFenceMarks {
		for k, old := range m.marks {
			if !now.Before(old.until) {
				delete(m.marks, k)
			}
		}
		if len(m.marks) >= maxFenceMarks {
			clear(m.marks)
		}
	}
	m.marks[key] = mk
}
