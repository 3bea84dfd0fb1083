package verify

import (
	"crypto/sha256"
	"sync"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// The DPoP replay cache: the (jkt, jti) pairs of accepted proofs, each kept
// until its proof would be too old to be accepted anyway. It is bounded;
// when it is full of live entries a new proof is refused (fail closed)
// rather than an entry forgotten, which would let that proof be replayed.

// replayCache is safe for concurrent use. Its zero size means the
// DefaultDPoPReplayCacheSize.
type replayCache struct {
	size int
	mu   sync.Mutex         // guards m, next
	m    map[[16]byte]int64 // hash of (jkt, jti) → UnixNano the entry dies at
	next int64              // earliest death in m (0 when empty): no sweep frees anything before it
}

func newReplayCache(size int) *replayCache {
	return &replayCache{size: size, m: make(map[[16]byte]int64)}
}

// replayKey hashes a proof's key thumbprint and jti: a fixed 16 bytes per
// entry, whatever the jti's length, and no attacker-chosen map key.
func replayKey(jkt, jti string) [16]byte {
	h := sha256.New()
	h.Write([]byte(jkt))
	h.Write([]byte{0})
	h.Write([]byte(jti))
	var k [16]byte
	copy(k[:], h.Sum(nil))
	return k
}

// record remembers (jkt, jti) until until, or refuses it: seen before and
// still live (a replay), or the cache full of live entries.
func (c *replayCache) record(jkt, jti string, until, now time.Time) error {
	k := replayKey(jkt, jti)
	n, u := now.UnixNano(), until.UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	dies, seen := c.m[k]
	switch {
	case seen && dies > n:
		return invalid(authorizer.TokenDPoPReplay, "proof jti was seen before")
	case !seen && len(c.m) >= c.size:
		c.sweepLocked(n)
		if len(c.m) >= c.size {
			return replayFull(time.Duration(c.next - n))
		}
	}
	c.m[k] = u
	if c.next == 0 || u < c.next {
		c.next = u
	}
	return nil
}

// sweepLocked drops the entries dead at n. It walks the map only when one
// is due to be dead, so a cache full of live entries refuses in O(1).
func (c *replayCache) sweepLocked(n int64) {
	if c.next == 0 || n < c.next {
		return
	}
	c.next = 0
	for k, dies := range c.m {
		switch {
		case dies <= n:
			delete(c.m, k)
		case c.next == 0 || dies < c.next:
			c.next = dies
		}
	}
}

// replayFull is the fail-closed refusal: temporary, retry after wait.
func replayFull(wait time.Duration) error {
	return &authorizer.AuthorizationError{
		StatusCode: 503,
		Message:    "verify: the DPoP replay cache is full of live proofs; refusing rather than forgetting one",
		RetryAfter: max(time.Second, wait.Round(time.Second)),
		Err:        authorizer.ErrDPoPReplayCacheFull,
	}
}
