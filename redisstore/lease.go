package redisstore

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Bounds of the wait between two attempts to take a lease another replica
// holds: it doubles from minPoll to maxPoll (with jitter), and never
// sleeps past the lease's expiry.
const (
	minPoll = 10 * time.Millisecond
	maxPoll = 200 * time.Millisecond
)

// Lock takes key's lease: SET NX PX on the lease key with a random value,
// and a new fence from the key's fencing counter, which the Store made
// under it carries. While the lease is held, a goroutine renews it every
// third of the lease TTL ([WithLeaseTTL]), so a token request of any
// length keeps it and a dead holder's lease expires within the TTL. While
// another replica holds the lease, Lock polls (backing off from 10 ms to
// 200 ms, never past the lease's expiry) until it is released or expires,
// so that the caller then finds the holder's token in the store or takes
// over. unlock stops the renewal and releases the lease with a
// compare-and-delete script (a lease that expired and was taken by
// another replica is left alone); it must be called once, later calls do
// nothing.
//
// Redis failing is an optimisation lost, never a failed request: when
// Redis fails, times out or the circuit breaker is open, and when the
// wait passes [WithMaxWait] or nears ctx's deadline, Lock returns
// at once with a nil error and an unlock that does nothing: the caller
// requests its own token, as a process without a shared store would. Lock
// returns an error only when ctx ends first (ctx.Err()).
func (s *Store) Lock(ctx context.Context, key string) (unlock func() error, err error) {
	k := s.keys(key)
	value := randomValue()
	giveUp := s.waitDeadline(ctx)
	wait := minPoll
	for {
		got, n, err := s.acquire(ctx, k, value)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return noUnlock, nil // Redis is failing: go ahead alone
		}
		if got {
			return s.hold(k.lock, lease{value: value, fence: n}), nil
		}
		sleep := jitter(wait)
		if n > 0 { // n <= 0: a lease key without TTL (not a Store's); back off
			sleep = min(sleep, time.Duration(n)*time.Millisecond+time.Millisecond)
		}
		if !s.cfg.now().Add(sleep).Before(giveUp) {
			s.log(slog.LevelDebug, "redisstore: lease still held; going ahead without it")
			return noUnlock, nil
		}
		t := time.NewTimer(sleep)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, maxPoll)
	}
}

func noUnlock() error { return nil }

// waitDeadline is when Lock stops waiting for another replica's lease:
// after WithMaxWait, or a tenth of ctx's remaining time before its
// deadline, so that Lock returns (without the lease) rather than fail.
func (s *Store) waitDeadline(ctx context.Context) time.Time {
	now := s.cfg.now()
	end := now.Add(s.cfg.maxWait)
	if d, ok := ctx.Deadline(); ok {
		end = minTime(end, now.Add(d.Sub(now)*9/10))
	}
	return end
}

// acquire runs acquireScript: (true, fence) when the lease is taken,
// (false, remaining ms) when another replica holds it; the remaining ms
// is -1 when the lease key has no TTL.
func (s *Store) acquire(ctx context.Context, k keys, value string) (bool, int64, error) {
	var res []any
	err := s.do(ctx, func(ctx context.Context) (err error) {
		res, err = acquireScript.Run(ctx, s.client, []string{k.lock, k.fence, k.tok},
			value, s.cfg.leaseTTL.Milliseconds(), fenceTTL.Milliseconds()).Slice()
		return err
	})
	if err != nil {
		return false, 0, err
	}
	if len(res) != 2 {
		return false, 0, &unavailableError{err: errUnexpectedReply}
	}
	got, _ := res[0].(int64)
	n, _ := res[1].(int64)
	return got == 1, n, nil
}

// release ends a lease: forgets it here, and deletes it in Redis when it
// is still ours. It runs on its own context: the caller's may have ended,
// and a lease left behind costs the others a wait until it expires.
func (s *Store) release(lockKey, value string) error {
	s.mu.Lock()
	if s.leases[lockKey].value == value {
		delete(s.leases, lockKey)
	}
	s.mu.Unlock()
	return s.do(context.Background(), func(ctx context.Context) error {
		return releaseScript.Run(ctx, s.client, []string{lockKey}, value).Err()
	})
}

// hold records a lease taken and keeps it alive until the returned unlock
// is called: a goroutine renews it every third of the lease TTL, so that a
// lease outlives any token request of a live holder (up to WithMaxHold)
// while one whose holder died expires within the lease TTL. unlock stops that goroutine and
// releases the lease; calls after the first do nothing.
func (s *Store) hold(lockKey string, l lease) func() error {
	s.mu.Lock()
	s.leases[lockKey] = l
	s.mu.Unlock()
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { // ends when unlock closes stop
		defer close(done)
		s.renew(lockKey, l.value, stop)
	}()
	var once sync.Once
	return func() (err error) {
		once.Do(func() {
			close(stop)
			<-done
			err = s.release(lockKey, l.value)
		})
		return err
	}
}

// renew extends the lease every third of its TTL until stop is closed,
// the lease is no longer ours, or it has been held for the maximum hold
// time (WithMaxHold: a holder that never unlocks must not block the fleet).
func (s *Store) renew(lockKey, value string, stop <-chan struct{}) {
	t := time.NewTicker(s.cfg.leaseTTL / 3)
	defer t.Stop()
	giveUp := time.NewTimer(s.cfg.maxHold)
	defer giveUp.Stop()
	for {
		select {
		case <-stop:
			return
		case <-giveUp.C:
			return // abandoned: let the lease expire
		case <-t.C:
		}
		var n int64
		err := s.do(context.Background(), func(ctx context.Context) (err error) {
			n, err = renewScript.Run(ctx, s.client, []string{lockKey}, value,
				s.cfg.leaseTTL.Milliseconds()).Int64()
			return err
		})
		if err == nil && n == 0 {
			return // expired and perhaps taken: the fence protects the store
		}
	}
}

// randomValue proves a lease is ours: 128 random bits.
func randomValue() string {
	b := make([]byte, 16)
	_, _ = crand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// jitter returns a duration in [d/2, d).
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
