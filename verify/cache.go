package verify

import (
	"hash/maphash"
	"math"
	"sync"
	"time"
)

// The verified-token cache: raw token → claims, for tokens that passed
// every check. A hit costs a hash, a read-locked map lookup and two
// comparisons (not past exp, key not removed); no allocation.

// cacheShards spreads lock traffic; a power of two.
const cacheShards = 16

// maxNoExpiryCache bounds how long a token without exp is cached.
const maxNoExpiryCache = 5 * time.Minute

type tokenCache struct {
	seed     maphash.Seed
	perShard int
	shards   [cacheShards]cacheShard
}

type cacheShard struct {
	mu sync.RWMutex          // guards m
	m  map[string]cacheEntry // raw token → entry
	_  [40]byte              // keeps shards on separate cache lines
}

type cacheEntry struct {
	claims *Claims
	key    *key
	until  int64 // UnixNano; the entry is dead from then on
}

// newTokenCache returns a cache of about size entries, or nil for 0.
func newTokenCache(size int) *tokenCache {
	if size <= 0 {
		return nil
	}
	c := &tokenCache{seed: maphash.MakeSeed(), perShard: max(1, (size+cacheShards-1)/cacheShards)}
	for i := range c.shards {
		c.shards[i].m = make(map[string]cacheEntry)
	}
	return c
}

func (c *tokenCache) shard(raw string) *cacheShard {
	return &c.shards[maphash.String(c.seed, raw)&(cacheShards-1)]
}

// get returns the claims of raw if it is cached and still valid at now.
func (c *tokenCache) get(raw string, now time.Time) *Claims {
	if c == nil {
		return nil
	}
	s := c.shard(raw)
	s.mu.RLock()
	e, ok := s.m[raw]
	s.mu.RUnlock()
	if !ok || now.UnixNano() >= e.until || e.key.removed.Load() {
		return nil
	}
	return e.claims
}

// put caches claims verified with k. The entry ends at exp (not exp plus
// leeway: after exp the token is checked afresh), or after
// maxNoExpiryCache for a token without exp.
func (c *tokenCache) put(raw string, claims *Claims, k *key, now time.Time) {
	if c == nil {
		return
	}
	until := now.Add(maxNoExpiryCache)
	if !claims.Expiry.IsZero() {
		until = claims.Expiry
	}
	if !until.After(now) {
		return
	}
	s := c.shard(raw)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= c.perShard {
		s.evictLocked(now.UnixNano())
	}
	s.m[raw] = cacheEntry{claims: claims, key: k, until: unixNano(until)}
}

// unixNano is t.UnixNano, saturated: a time past 2262 (an exp of 1e15)
// does not overflow into the past, which made such a token dead at once.
func unixNano(t time.Time) int64 {
	if t.After(maxUnixNano) {
		return math.MaxInt64
	}
	return t.UnixNano()
}

// maxUnixNano is the latest time UnixNano can represent.
var maxUnixNano = time.Unix(0, math.MaxInt64)

// evictLocked drops dead entries, and when none was dead, some others
// (map order is random, so this is random eviction).
func (s *cacheShard) evictLocked(now int64) {
	n := len(s.m)
	for raw, e := range s.m {
		if now >= e.until || e.key.removed.Load() {
			delete(s.m, raw)
		}
	}
	if len(s.m) < n {
		return
	}
	drop := max(1, n/8)
	for raw := range s.m {
		delete(s.m, raw)
		if drop--; drop == 0 {
			return
		}
	}
}
