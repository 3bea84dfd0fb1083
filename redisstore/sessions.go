package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seed-d44eba79/authorizer/web"
)

// SessionStore is a [web.SessionStore] on Redis: the web middleware's
// server-side sessions, shared by every replica, so that a back-channel
// logout received by one replica ends the session on all of them. Create
// it with [NewSessionStore]; it may share its client (and Redis) with a
// [Store], under a key space of its own ([DefaultSessionPrefix]).
//
// Values arrive sealed by the middleware: no token reaches Redis. Session
// ids and tags reach Redis only as SHA-256 hashes, so neither a session id
// (a bearer credential) nor a subject appears in Redis, its MONITOR stream
// or its dump file.
//
// Keys: a session is one hash (the value, and one field per tag) with the
// session's TTL; a tag is one set of hashed session ids whose TTL is
// raised to at least the TTL of every session added to it. Every key has a
// TTL. No command touches two keys, so the keys carry no hash tag and
// spread over a cluster's slots; [SessionStore.DeleteTag] reads the tag's
// set and deletes its sessions in one pipeline, which a
// *redis.ClusterClient splits by node. A session deleted through a tag is
// deleted only if it still carries that tag, so an id that was stored
// again with other tags is not ended by a stale set member.
//
// Fleet refresh: SessionStore is also a [web.SessionLocker] (a lease key
// per session, SET NX PX, so that one replica redeems a session's refresh
// token while the others wait for its result) and a [web.SessionReplacer]
// (a script that writes a refreshed session only over the value it was
// refreshed from, so that a session deleted by a sign-out or back-channel
// logout meanwhile stays deleted).
//
// Concurrency: safe for concurrent use. Context: every method forwards
// ctx and bounds each Redis round trip by the call timeout
// ([WithSessionCallTimeout]). Failures: every method returns an error
// wrapping [ErrUnavailable] when Redis fails or times out, or at once while
// the circuit breaker is open. The middleware keeps the cookie when Get
// fails and answers a protected request 503; it answers a back-channel
// logout whose DeleteTag failed with 503 and Retry-After; a failed lease
// or Replace leaves the session as it is (its refresh is tried again
// later). Get of an unknown id returns [web.ErrSessionNotFound].
type SessionStore struct {
	client  redis.UniversalClient
	cfg     sessionConfig
	breaker *breaker
}

var _ web.SessionStore = (*SessionStore)(nil)

// NewSessionStore returns a SessionStore on client (a *redis.Client,
// *redis.ClusterClient, Sentinel failover client or *redis.Ring). As for
// [New], client must have ContextTimeoutEnabled set. A nil client, a
// client whose options show ContextTimeoutEnabled unset, a nil
// SessionOption or an invalid option is an [*authorizer.InvalidConfigError].
func NewSessionStore(client redis.UniversalClient, opts ...SessionOption) (*SessionStore, error) {
	if client == nil || isNilPointer(client) {
		return nil, invalid("NewSessionStore client", "is nil")
	}
	if !contextTimeoutEnabled(client) {
		return nil, invalid("NewSessionStore client", "needs ContextTimeoutEnabled: true in its options")
	}
	cfg, err := newSessionConfig(opts)
	if err != nil {
		return nil, err
	}
	b := &breaker{failures: cfg.breakerFailures, cooldown: cfg.breakerCooldown, now: cfg.now, logger: cfg.logger}
	return &SessionStore{client: client, cfg: cfg, breaker: b}, nil
}

// maxSessionTTL caps a session's TTL (PEXPIRE refuses huge values).
const maxSessionTTL = 10 * 365 * 24 * time.Hour

func (s *SessionStore) hashed(kind, name string) string {
	sum := sha256.Sum256([]byte(name))
	return s.cfg.prefix + kind + hex.EncodeToString(sum[:16])
}

func (s *SessionStore) sessionKey(id string) string { return s.hashed("s:", id) }
func (s *SessionStore) tagKey(tag string) string    { return s.hashed("t:", tag) }

// tagField names a tag inside a session's hash.
func tagField(tag string) string {
	sum := sha256.Sum256([]byte(tag))
	return "t:" + hex.EncodeToString(sum[:16])
}

// Get implements [web.SessionStore]: the value stored under id, or
// [web.ErrSessionNotFound] (never stored, expired, deleted, or a Redis key
// of another type).
func (s *SessionStore) Get(ctx context.Context, id string) ([]byte, error) {
	var v string
	err := s.do(ctx, func(ctx context.Context) (err error) {
		v, err = s.client.HGet(ctx, s.sessionKey(id), "v").Result()
		return err
	})
	if errors.Is(err, redis.Nil) || isWrongType(err) {
		return nil, web.ErrSessionNotFound
	}
	if err != nil {
		return nil, err
	}
	return []byte(v), nil
}

// Put implements [web.SessionStore]: it replaces what id held with value
// and tags, for ttl (capped at ten years), and adds id to each tag's set.
// A ttl of zero or less deletes id (the session has already expired).
// Everything is one round trip in MULTI/EXEC (on a cluster, one
// MULTI/EXEC per slot: the session's key and each tag's set).
func (s *SessionStore) Put(ctx context.Context, id string, value []byte, tags []string, ttl time.Duration) error {
	if ttl <= 0 {
		return s.Delete(ctx, id)
	}
	ttl = max(min(ttl, maxSessionTTL), time.Millisecond)
	key := s.sessionKey(id)
	fields := []any{"v", value}
	for _, t := range tags {
		fields = append(fields, tagField(t), "1")
	}
	return s.do(ctx, func(ctx context.Context) error {
		_, err := s.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, key)
			p.HSet(ctx, key, fields...)
			p.PExpire(ctx, key, ttl)
			for _, t := range tags {
				tagAddScript.Eval(ctx, p, []string{s.tagKey(t)}, key, ttl.Milliseconds())
			}
			return nil
		})
		return err
	})
}

// Delete implements [web.SessionStore]. The id stays in its tags' sets
// until they expire; a DeleteTag then finds nothing to delete.
func (s *SessionStore) Delete(ctx context.Context, id string) error {
	return s.do(ctx, func(ctx context.Context) error { return s.client.Del(ctx, s.sessionKey(id)).Err() })
}

// DeleteTag implements [web.SessionStore]: it deletes every session that
// carries tag, in two round trips (the tag's set, then one pipeline of
// compare-and-delete scripts and the set's cleanup), each bounded by the
// call timeout. A session stored under tag while DeleteTag runs may
// survive it. Very large tags (tens of thousands of sessions of one
// subject) take one pipeline all the same.
func (s *SessionStore) DeleteTag(ctx context.Context, tag string) error {
	tk := s.tagKey(tag)
	var members []string
	err := s.do(ctx, func(ctx context.Context) (err error) {
		members, err = s.client.SMembers(ctx, tk).Result()
		return err
	})
	if isWrongType(err) || (err == nil && len(members) == 0) {
		return nil
	}
	if err != nil {
		return err
	}
	field := tagField(tag)
	return s.do(ctx, func(ctx context.Context) error {
		_, err := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, m := range members {
				delIfTaggedScript.Eval(ctx, p, []string{m}, field)
			}
			args := make([]any, len(members))
			for i, m := range members {
				args[i] = m
			}
			p.SRem(ctx, tk, args...)
			return nil
		})
		return err
	})
}

// do runs one round trip with its own deadline, through the breaker (the
// same rules as the token Store's).
func (s *SessionStore) do(ctx context.Context, f func(ctx context.Context) error) error {
	return s.breaker.call(ctx, s.cfg.callTimeout, f)
}

// tagAddScript adds ARGV[1] (a session key) to the set KEYS[1] and raises
// the set's TTL to at least ARGV[2] ms.
var tagAddScript = redis.NewScript(`
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = tonumber(ARGV[2])
if redis.call('PTTL', KEYS[1]) < ttl then
	redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1`)

// delIfTaggedScript deletes the session KEYS[1] if it carries the tag
// field ARGV[1].
var delIfTaggedScript = redis.NewScript(`
if redis.call('TYPE', KEYS[1]).ok == 'hash' and redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
	return redis.call('DEL', KEYS[1])
end
return 0`)
