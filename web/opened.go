package web

import "sync"

// maxOpened bounds the cache of opened cookie sessions.
const maxOpened = 1024

// openedCache remembers the sessions of cookie values that opened, keyed
// by the whole sealed value (a map compares keys in full, so only the exact
// cookie that was authenticated finds its entry). A signed-in user's next
// request then costs a map lookup instead of AES-GCM, inflate and JSON.
// Everything that can end a session (lifetime, deny list, refresh) is still
// checked on every request. Cookie sessions only: with a SessionStore the
// store is asked every time, so a deletion on another replica counts.
type openedCache struct {
	mu sync.RWMutex        // guards m
	m  map[string]*session // sealed cookie value → session
}

func (c *openedCache) get(value string) *session {
	c.mu.RLock()
	s := c.m[value]
	c.mu.RUnlock()
	return s
}

func (c *openedCache) put(value string, s *session) {
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxOpened {
		c.m = make(map[string]*session, maxOpened)
	}
	c.m[value] = s
	c.mu.Unlock()
}
