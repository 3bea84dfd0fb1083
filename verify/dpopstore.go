package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// The DPoP replay store: the jti values of accepted proofs shared by every
// replica of a service, so that a proof accepted by one replica is refused
// by the others. The in-memory replay cache (dpopreplay.go) stays in front
// of it: the local filter and the per-key quota.

// DPoPReplayStore remembers accepted DPoP proofs for a fleet of Verifiers
// (replicas behind a load balancer), so that a proof is accepted at most
// once by all of them together. redisstore.NewDPoPReplayStore is one, on
// Redis; [WithDPoPReplayStore] gives one to [New].
//
// Record records key until until and reports whether it was fresh: true
// when key was not recorded (or its entry had been forgotten), false when
// it was recorded before and not yet forgotten (a replay). Two Records of
// the same key, from any replicas, at the same time, must not both report
// fresh: the check and the write are one atomic step. key is a fixed-length
// (64 hex digits) SHA-256 hash of the proof's key thumbprint (jkt) and jti,
// never the raw jti; until is when the entry may be forgotten (the proof is
// too old to be accepted after it); a store may keep it longer, never
// shorter.
//
// Concurrency: Record is called by any number of goroutines at once.
// Context: ctx is the request's context, bounded by the Verifier to
// [DPoPReplayStoreTimeout]; Record must return when ctx ends (the Verifier
// waits for it, and refuses an answer that comes after ctx ended). Errors:
// an error, or a panic, means "unknown", and the Verifier refuses the
// proof (fail closed); the error reaches the caller wrapped, so it must
// not contain a secret. A store that loses entries (a Redis failover with
// asynchronous replication, a resharded ring) accepts the replays of the
// lost proofs for as long as they are young enough.
type DPoPReplayStore interface {
	Record(ctx context.Context, key string, until time.Time) (fresh bool, err error)
}

// Limits of a call to a [DPoPReplayStore].
const (
	// DPoPReplayStoreTimeout bounds each call of [DPoPReplayStore.Record]
	// (less when the request's context ends sooner). It is a backstop above
	// a store's own call timeout (redisstore's is 250 ms), so that the store
	// sees its own deadline first and counts the failure (its circuit
	// breaker opens) rather than seeing a caller that gave up.
	DPoPReplayStoreTimeout = time.Second
	// dpopStoreRetryAfter is the Retry-After of a proof refused because the
	// store failed: about a circuit breaker's cooldown.
	dpopStoreRetryAfter = 2 * time.Second
)

// WithDPoPReplayStore shares the record of accepted DPoP proofs between
// the replicas of a service: after every other check of
// [Verifier.VerifyDPoP] passed and the in-memory replay cache
// ([WithDPoPReplayCacheSize]) accepted the proof, s is asked, and a proof
// it has seen (from any replica) is refused as a replay
// ([authorizer.ErrTokenDPoPReplay]). When s fails, or does not answer
// within [DPoPReplayStoreTimeout] or the request's context, the proof is
// refused (fail closed): an *[authorizer.AuthorizationError] (StatusCode
// 503, RetryAfter set, Temporary) wrapping
// [authorizer.ErrDPoPReplayStoreUnavailable] and the store's error (or the
// context's); [Middleware] answers 503 with Retry-After. That proof stays
// in this Verifier's own cache (it may have reached s): the retry carries a
// new proof, as every request does. A proof refused for any other reason is
// never recorded in s. For [New]. Optional; without it each Verifier keeps
// its own record, and a proof replayed to another replica within the proof
// age ([WithDPoPProofAge]) passes there. A nil s is an error.
func WithDPoPReplayStore(s DPoPReplayStore) Option {
	return Option{"WithDPoPReplayStore", forVerifier, func(c *config) error {
		if s == nil || isNilStore(s) {
			return errors.New("is nil")
		}
		c.dpopStore = s
		return nil
	}}
}

// isNilStore reports a typed nil pointer in s, which would panic on use.
func isNilStore(s DPoPReplayStore) bool {
	switch v := reflect.ValueOf(s); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Chan, reflect.Slice, reflect.Interface:
		return v.IsNil()
	}
	return false
}

// dpopStoreKey is the store's key of a proof: SHA-256 of jkt and jti,
// domain-separated, in hex. Neither the jti nor the thumbprint can be read
// back from it.
func dpopStoreKey(jkt, jti string) string {
	h := sha256.New()
	h.Write([]byte("authorizer-dpop-replay\x00"))
	h.Write([]byte(jkt))
	h.Write([]byte{0})
	h.Write([]byte(jti))
	return hex.EncodeToString(h.Sum(nil))
}

// recordShared asks the store about a proof the in-memory cache accepted.
func (v *Verifier) recordShared(ctx context.Context, p *proof, until time.Time) error {
	s := v.cfg.dpopStore
	if s == nil {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, v.cfg.dpopStoreTimeout)
	defer cancel()
	fresh, err := recordRecovered(cctx, s, dpopStoreKey(p.jkt, p.jti), until)
	if err == nil && cctx.Err() != nil {
		err = cctx.Err() // an answer after the deadline is no answer
	}
	switch {
	case err != nil:
		return storeUnavailable(err)
	case !fresh:
		return invalid(authorizer.TokenDPoPReplay, "proof jti was seen before (by the shared replay store)")
	}
	return nil
}

// recordRecovered is s.Record with a panic turned into an error (the
// store failed; its value, which may hold anything, is not quoted).
func recordRecovered(ctx context.Context, s DPoPReplayStore, key string, until time.Time) (fresh bool, err error) {
	defer func() {
		if r := recover(); r != nil {
			fresh, err = false, fmt.Errorf("verify: the DPoP replay store panicked (a %T)", r)
		}
	}()
	return s.Record(ctx, key, until)
}

// storeUnavailable is the fail-closed refusal when the store failed.
func storeUnavailable(err error) error {
	return &authorizer.AuthorizationError{
		StatusCode: 503,
		Message:    "verify: the DPoP replay store failed or did not answer in time; refusing the proof rather than risking a replay",
		RetryAfter: dpopStoreRetryAfter,
		Err:        fmt.Errorf("%w: %w", authorizer.ErrDPoPReplayStoreUnavailable, err),
	}
}
