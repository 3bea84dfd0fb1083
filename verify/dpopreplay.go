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

// replayCache is safe for concurrent use. One key (jkt) may hold at most a
// quarter of it (of a cache of 16 entries or more), so that a client flooding it with valid proofs of its own
// key is refused alone, not every other client with it.
type replayCache struct {
	size, perKey int
	mu           sync.Mutex               // guards m, keys, next
	m            map[[16]byte]replayEntry // hash of (jkt, jti) → its entry
	keys         map[[8]byte]int          // hash of jkt → its live entries in m
	next         int64                    // earliest death in m (0 when empty): no sweep frees anything before it
	high         int64                    // the latest now seen: a clock stepped back cannot revive a swept proof
}

// replayEntry is one accepted proof: when it dies (UnixNano) and whose key
// it was signed by.
type replayEntry struct {
	dies  int64
	owner [8]byte
}

func newReplayCache(size int) *replayCache {
	perKey := size // a cache too small to share holds anyone's proofs
	if size >= 16 {
		perKey = size / 4
	}
	return &replayCache{size: size, perKey: perKey, m: make(map[[16]byte]replayEntry), keys: make(map[[8]byte]int)}
}

// replayKey hashes a proof's key thumbprint and jti: a fixed 16 bytes per
// entry, whatever the jti's length, and no attacker-chosen map key; and the
// thumbprint alone, for the per-key count.
func replayKey(jkt, jti string) (entry [16]byte, owner [8]byte) {
	h := sha256.New()
	h.Write([]byte(jkt))
	copy(owner[:], h.Sum(nil))
	h.Write([]byte{0})
	h.Write([]byte(jti))
	copy(entry[:], h.Sum(nil))
	return entry, owner
}

// record remembers (jkt, jti) until until, or refuses it: seen before and
// still live (a replay), or the cache (or jkt's quarter of it) full of live
// entries.
func (c *replayCache) record(jkt, jti string, until, now time.Time) error {
	k, owner := replayKey(jkt, jti)
	n, u := now.UnixNano(), until.UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if n > c.high {
		c.high = n
	}
	if u <= c.high {
		// dead by the latest clock seen: its entry may have been swept
		// before the clock stepped back, so it cannot be told from a replay
		return proofError("proof is older than the proof age (by the latest time this verifier has seen)")
	}
	e, seen := c.m[k]
	switch {
	case seen && e.dies > n:
		return invalid(authorizer.TokenDPoPReplay, "proof jti was seen before")
	case seen:
		c.drop(k, e) // dead: this jti may be used again
	}
	if len(c.m) >= c.size || c.keys[owner] >= c.perKey {
		c.sweepLocked(n)
		switch {
		case c.keys[owner] >= c.perKey:
			// its own entries free room; the earliest may be any of them,
			// so the wait is one proof lifetime, not the cache's earliest
			return replayFull(time.Duration(u - n))
		case len(c.m) >= c.size:
			return replayFull(time.Duration(c.next - n))
		}
	}
	c.m[k] = replayEntry{dies: u, owner: owner}
	c.keys[owner]++
	if c.next == 0 || u < c.next {
		c.next = u
	}
	return nil
}

// drop removes entry k. mu must be held.
func (c *replayCache) drop(k [16]byte, e replayEntry) {
	delete(c.m, k)
	if c.keys[e.owner]--; c.keys[e.owner] <= 0 {
		delete(c.keys, e.owner)
	}
}

// sweepLocked drops the entries dead at n. It walks the map only when one
// is due to be dead, so a cache full of live entries refuses in O(1).
func (c *replayCache) sweepLocked(n int64) {
	if n < c.high {
		n = c.high // sweep by the latest clock seen, stepped back or not
	}
	if c.next == 0 || n < c.next {
		return
	}
	c.next = 0
	for k, e := range c.m {
		switch {
		case e.dies <= n:
			c.drop(k, e)
		case c.next == 0 || e.dies < c.next:
			c.next = e.dies
		}
	}
}

// replayFull is the fail-closed refusal: temporary, retry after wait.
func replayFull(wait time.Duration) error {
	return &authorizer.AuthorizationError{
		StatusCode: 503,
		Message:    "verify: the DPoP replay cache (or the proof key's quarter of it) is full of live proofs; refusing rather than forgetting one",
		RetryAfter: max(time.Second, wait.Round(time.Second)),
		Err:        authorizer.ErrDPoPReplayCacheFull,
	}
}
