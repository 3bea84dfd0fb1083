package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seed-d44eba79/authorizer/verify"
)

// DPoPReplayStore is a [verify.DPoPReplayStore] on Redis: the record of
// accepted DPoP proofs shared by every replica of a service, so that a
// proof accepted by one replica is refused by all the others (give it to
// each replica's Verifier with [verify.WithDPoPReplayStore]). Create it
// with [NewDPoPReplayStore]; it may share its client (and Redis) with a
// [Store] and a [SessionStore], under a key space of its own
// ([DefaultDPoPReplayPrefix]).
//
// Keys: one per accepted proof, written by one SET key 1 NX PX (the check
// and the write are one atomic command: of two replicas recording the same
// proof at once, exactly one is told it is fresh), living until the
// Verifier's "until" by this process's clock plus a margin
// ([WithDPoPReplayMargin]). The key is the
// Verifier's hash of the proof's key thumbprint and jti: no jti, token or
// proof reaches Redis, its MONITOR stream or its dump file. One key per
// command: on a cluster the keys spread over the slots.
//
// Concurrency: safe for concurrent use. Context: Record forwards ctx and
// bounds its Redis call by the call timeout ([WithDPoPReplayCallTimeout]).
// Failures: unlike the token store, for which Redis is an optimisation,
// this store is a security check and the Verifier fails closed: when Redis
// fails or times out, or at once while the circuit breaker
// ([WithDPoPReplayBreaker]) is open, Record returns an error wrapping
// [ErrUnavailable] and the Verifier refuses the proof with 503 and
// Retry-After. A proof refused by the Verifier for any other reason never
// reaches Redis.
type DPoPReplayStore struct {
	client  redis.UniversalClient
	cfg     dpopReplayConfig
	breaker *breaker
}

var _ verify.DPoPReplayStore = (*DPoPReplayStore)(nil)

// NewDPoPReplayStore returns a DPoPReplayStore on client (a *redis.Client,
// *redis.ClusterClient, Sentinel failover client or *redis.Ring). As for
// [New], client must have ContextTimeoutEnabled
// set. A nil client, a client whose options show ContextTimeoutEnabled
// unset, a nil DPoPReplayOption or an invalid option is an
// [*authorizer.InvalidConfigError].
func NewDPoPReplayStore(client redis.UniversalClient, opts ...DPoPReplayOption) (*DPoPReplayStore, error) {
	if client == nil || isNilPointer(client) {
		return nil, invalid("NewDPoPReplayStore client", "is nil")
	}
	if !contextTimeoutEnabled(client) {
		return nil, invalid("NewDPoPReplayStore client", "needs ContextTimeoutEnabled: true in its options")
	}
	cfg, err := newDPoPReplayConfig(opts)
	if err != nil {
		return nil, err
	}
	b := &breaker{failures: cfg.breakerFailures, cooldown: cfg.breakerCooldown, now: cfg.now, logger: cfg.logger}
	return &DPoPReplayStore{client: client, cfg: cfg, breaker: b}, nil
}

// errEmptyReplayKey: Record was given an empty key, which names no proof.
var errEmptyReplayKey = errors.New("redisstore: DPoPReplayStore.Record: empty key")

// Record implements [verify.DPoPReplayStore]: it writes key (under the
// prefix) unless it exists, to expire after until plus the margin, and
// reports whether it was written (fresh) or already there (a replay). The
// expiry is a lifetime (PX) counted by this process's clock, so Redis's
// clock does not matter; an until already past (by more than the margin)
// is an error, and one more than 24 hours ahead is cut to 24 hours. Errors wrap
// [ErrUnavailable], or are ctx's error when the caller's ctx ended.
func (s *DPoPReplayStore) Record(ctx context.Context, key string, until time.Time) (fresh bool, err error) {
	if key == "" {
		return false, errEmptyReplayKey
	}
	// A lifetime (PX), not a moment (PXAT): Redis's clock may differ from
	// the replicas' by more than the margin; only theirs judge proofs.
	ttl := until.Sub(s.cfg.now()) // this replica's clock, the one its Verifier judges by
	if ttl > maxReplayTTL {
		ttl = maxReplayTTL
	}
	if ttl += s.cfg.margin; ttl <= 0 {
		return false, errDeadReplayKey // no proof the Verifier accepts is dead already
	}
	var reply string
	err = s.breaker.call(ctx, s.cfg.callTimeout, func(ctx context.Context) error {
		var err error
		reply, err = s.client.Do(ctx, "SET", s.cfg.prefix+key, "1", "NX", "PX", ttl.Milliseconds()).Text()
		if err == nil && reply != "OK" {
			err = errNotOK
		}
		return err
	})
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, redis.Nil):
		return false, nil
	}
	return false, err
}

// maxReplayTTL caps a record's lifetime: a proof's age is minutes, and an
// until far in the future must not overflow into an expiry in the past.
const maxReplayTTL = 24 * time.Hour

// errDeadReplayKey: Record was given an until already past (plus margin).
var errDeadReplayKey = errors.New("redisstore: DPoPReplayStore.Record: until is already past")

// errNotOK: SET NX answered something other than OK or nil (not Redis, or
// a proxy that ignores NX): the record is unknown.
var errNotOK = errors.New("redisstore: SET NX did not answer OK")
