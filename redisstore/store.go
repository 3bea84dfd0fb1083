package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seed-d44eba79/authorizer/base"
	"golang.org/x/oauth2"
)

// Store is a [base.TokenCache] and [base.CacheLocker] on Redis, shared by
// every replica of a service. Create it with [New].
//
// Concurrency: a Store is safe for concurrent use. Context: every method
// forwards ctx, and bounds each Redis call by the call timeout as well
// ([WithCallTimeout]). Failures: Load, Store and Delete return errors
// wrapping [ErrUnavailable] when Redis fails; [base.Transport] logs and
// ignores them. Lock never reports a failing Redis (see [Store.Lock]).
type Store struct {
	client  redis.UniversalClient
	cfg     config
	ring    *keyring
	breaker *breaker

	mu     sync.Mutex       // guards leases
	leases map[string]lease // Redis lock key -> the lease this Store holds
	marks  *fenceMarks      // the newest fence seen per token key
}

// lease is one held lease: the random value that proves it is ours, and
// its fence.
type lease struct {
	value string
	fence int64
}

var (
	_ base.TokenCache  = (*Store)(nil)
	_ base.CacheLocker = (*Store)(nil)
)

// New returns a Store on client (a *redis.Client, *redis.ClusterClient,
// Sentinel failover client or *redis.Ring) that seals tokens with key, 32
// random bytes (AES-256-GCM). Keep key secret and the same on every
// replica; rotate it with [WithOlderKeys].
//
// client must have ContextTimeoutEnabled set: without it go-redis ignores
// context deadlines and a call to a paused Redis lasts the client's read
// timeout (seconds) instead of the Store's call timeout. A client whose
// options show it unset, a nil client (or a nil *redis.Client, *redis.ClusterClient or
// *redis.Ring), a nil Option, a key that is not 32 bytes, or an
// invalid option is an [*authorizer.InvalidConfigError].
func New(client redis.UniversalClient, key []byte, opts ...Option) (*Store, error) {
	if client == nil || isNilPointer(client) {
		return nil, invalid("New client", "is nil")
	}
	if !contextTimeoutEnabled(client) {
		return nil, invalid("New client", "needs ContextTimeoutEnabled: true in its options")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	ring, err := newKeyring(key, cfg.olderKeys)
	if err != nil {
		return nil, err
	}
	cfg.olderKeys = nil // kept only inside the keyring
	b := &breaker{failures: cfg.breakerFailures, cooldown: cfg.breakerCooldown,
		now: cfg.now, logger: cfg.logger}
	return &Store{client: client, cfg: cfg, ring: ring, breaker: b, leases: map[string]lease{}, marks: newFenceMarks()}, nil
}

// isNilPointer reports a typed nil client of the known types, whose
// Options method would panic.
func isNilPointer(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.Client:
		return c == nil
	case *redis.ClusterClient:
		return c == nil
	case *redis.Ring:
		return c == nil
	}
	return false
}

// contextTimeoutEnabled reports whether client honours context deadlines,
// for the client types whose options can be read; others are trusted.
func contextTimeoutEnabled(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// keys names the Redis keys of one cache key: a hash of it (the cache key
// itself never reaches Redis) inside a hash tag, so that all of them live
// in one hash slot.
type keys struct{ tok, lock, fence string }

func (s *Store) keys(cacheKey string) keys {
	sum := sha256.Sum256([]byte(cacheKey))
	tag := "{" + s.cfg.prefix + hex.EncodeToString(sum[:16]) + "}"
	return keys{tok: tag + ":tok", lock: tag + ":lock", fence: tag + ":fence"}
}

// Load returns the token stored under key, or (nil, nil) when there is
// none, or when the stored value does not open with the keyring (sealed
// for another key or fence, by another key, or not by a Store, including
// a Redis key of another type), or when its fence is older than the
// newest this Store has opened or written for key while that token's key
// lives: an older token put back into Redis (see "Encryption" in the
// package doc).
func (s *Store) Load(ctx context.Context, key string) (*oauth2.Token, error) {
	k := s.keys(key)
	var vals []any
	err := s.do(ctx, func(ctx context.Context) (err error) {
		vals, err = s.client.HMGet(ctx, k.tok, "v", "f").Result()
		return err
	})
	if isWrongType(err) {
		return nil, nil // not a Store's value: absent
	}
	if err != nil {
		return nil, err
	}
	v, _ := vals[0].(string)
	f, _ := vals[1].(string)
	if v == "" {
		return nil, nil
	}
	fence, err := strconv.ParseInt(f, 10, 64)
	if err != nil {
		return nil, nil
	}
	tok, err := s.ring.open(k.tok, fence, []byte(v))
	if err != nil {
		s.log(slog.LevelWarn, "redisstore: a stored token does not open; treated as absent")
		return nil, nil
	}
	now := s.cfg.now()
	if s.marks.older(k.tok, fence, now) {
		s.log(slog.LevelWarn, "redisstore: a stored token is older than one this replica has seen (put back?); treated as absent")
		return nil, nil
	}
	s.marks.opened(k.tok, fence, now.Add(s.keyTTL(tok, now)), now)
	return tok, nil
}

// keyTTL is the TTL of tok's Redis key: DefaultTTLMargin (see
// [WithTTLMargin]) past its expiry, or the no-expiry TTL.
func (s *Store) keyTTL(tok *oauth2.Token, now time.Time) time.Duration {
	ttl := s.cfg.noExpiryTTL
	if !tok.Expiry.IsZero() {
		ttl = min(max(tok.Expiry.Sub(now), 0), maxTokenTTL) + s.cfg.ttlMargin
	}
	return max(ttl, time.Millisecond)
}

// Store saves tok under key, sealed. Under a lease this Store holds (see
// [Store.Lock]) it replaces the stored token unless a newer lease's holder
// stored one since; without a lease it only fills an empty key. A refused
// write is not an error. The key expires DefaultTTLMargin (see
// [WithTTLMargin]) after the token does (or 10 years and the margin from
// now, for a token expiring later).
func (s *Store) Store(ctx context.Context, key string, tok *oauth2.Token) error {
	if tok == nil || tok.AccessToken == "" {
		return errors.New("redisstore: no token to store")
	}
	k := s.keys(key)
	fence := s.heldFence(k.lock)
	sealed, err := s.ring.seal(k.tok, fence, tok)
	if err != nil {
		return err
	}
	var expiryMS int64
	if !tok.Expiry.IsZero() {
		expiryMS = tok.Expiry.UnixMilli()
	}
	now := s.cfg.now()
	ttl := s.keyTTL(tok, now)
	var written int64
	err = s.do(ctx, func(ctx context.Context) (err error) {
		written, err = storeScript.Run(ctx, s.client, []string{k.tok},
			fence, sealed, expiryMS, ttl.Milliseconds()).Int64()
		return err
	})
	if err == nil && written == 1 {
		s.marks.wrote(k.tok, fence, now.Add(ttl), now)
	}
	return err
}

// maxTokenTTL caps the time to a token's expiry that its TTL counts: an
// expiry centuries away (a huge expires_in) would overflow the TTL
// arithmetic, or be refused by PEXPIRE.
const maxTokenTTL = 10 * 365 * 24 * time.Hour

// Delete removes the token under key.
func (s *Store) Delete(ctx context.Context, key string) error {
	k := s.keys(key)
	s.marks.forget(k.tok)
	return s.do(ctx, func(ctx context.Context) error { return s.client.Del(ctx, k.tok).Err() })
}

// heldFence returns the fence of the lease this Store holds on lockKey, or
// 0.
func (s *Store) heldFence(lockKey string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leases[lockKey].fence
}

// String describes the Store without its keys.
func (s *Store) String() string {
	return "redisstore.Store{prefix: " + strconv.Quote(s.cfg.prefix) + "}"
}

// Format prints the Store as String does, whatever the verb, so that no
// key material is ever printed.
func (s *Store) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue logs the Store as String does.
func (s *Store) LogValue() slog.Value { return slog.StringValue(s.String()) }

func (s *Store) log(level slog.Level, msg string, attrs ...slog.Attr) {
	if s.cfg.logger != nil {
		s.cfg.logger.LogAttrs(context.Background(), level, msg, attrs...)
	}
}
