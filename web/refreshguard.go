package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// errRefreshElsewhere: another replica held the session's refresh lease
// for longer than leaseWait. Temporary: the request is served with the
// session as it is, and a later one tries again.
var errRefreshElsewhere = errors.New("web: another replica is refreshing the session")

// Waiting for another replica's refresh ([SessionLocker]): the store is
// read again after leaseMinPoll, doubling to leaseMaxPoll, for leaseWait
// at most (measured on the wall clock, as the polling is). The lease
// outlives the longest grant (refreshTimeout) by leaseSlack, so that a
// live holder never loses it and a dead one's expires.
const (
	leaseMinPoll = 10 * time.Millisecond
	leaseMaxPoll = 200 * time.Millisecond
	leaseWait    = 10 * time.Second
	leaseSlack   = 5 * time.Second
)

// refreshStored refreshes a session kept in the SessionStore. With a
// [SessionLocker] one replica of the fleet redeems the refresh token: the
// others wait for the session it stores and use it. Without one, every
// process refreshes on its own (one grant per session per process).
func (l *Login) refreshStored(ctx context.Context, s *session) (*session, error) {
	locker, ok := l.cfg.SessionStore.(SessionLocker)
	if !ok {
		return l.grantAndWrite(ctx, s)
	}
	wait, giveUp := leaseMinPoll, time.Now().Add(l.refresher.leaseWait)
	for {
		unlock, err := locker.LockSession(ctx, s.id, refreshTimeout+leaseSlack)
		if err == nil {
			defer unlock()
			// Another replica may have refreshed it between our read and
			// the lease: its refresh token is the live one.
			if ns, err := l.storedChange(ctx, s); ns != nil || err != nil {
				return ns, err
			}
			return l.grantAndWrite(ctx, s)
		}
		if !errors.Is(err, ErrSessionLocked) {
			return nil, storeFailed(err)
		}
		if ns, err := l.storedChange(ctx, s); ns != nil || err != nil {
			return ns, err
		}
		if !time.Now().Add(wait).Before(giveUp) {
			return nil, errRefreshElsewhere
		}
		t := time.NewTimer(jitter(wait))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		wait = min(wait*2, leaseMaxPoll)
	}
}

// storedChange returns the session the store now holds for s.id when it
// is not s (another replica refreshed it), or nil when it is still s;
// errSessionEnded when the store holds nothing (signed out or logged out
// on another replica).
func (l *Login) storedChange(ctx context.Context, s *session) (*session, error) {
	ns, err := l.loadStored(ctx, s.id)
	switch {
	case errors.Is(err, ErrSessionNotFound):
		return nil, errSessionEnded
	case err != nil:
		return nil, err
	case bytes.Equal(ns.stored, s.stored):
		return nil, nil
	}
	return ns, nil
}

// grantAndWrite redeems s's refresh token and writes the refreshed
// session back over s.
func (l *Login) grantAndWrite(ctx context.Context, s *session) (*session, error) {
	ns, err := l.refreshGrant(ctx, s)
	if err != nil {
		return nil, err
	}
	return l.restoreSession(ctx, s, ns)
}

// restoreSession writes a refreshed session ns back to the store over s,
// unless s ended while its refresh was in flight (a back-channel logout or
// sign-out here, or its deletion from the store by another replica):
// storing it again would bring it back on every replica. With a
// [SessionReplacer] the write is conditional on the store still holding
// s; without one, a deletion between the check and the Put is undone.
func (l *Login) restoreSession(ctx context.Context, s, ns *session) (*session, error) {
	if l.denied.denies(ns) {
		return nil, errSessionEnded
	}
	r, ok := l.cfg.SessionStore.(SessionReplacer)
	if !ok {
		if _, err := l.storedChange(ctx, s); err != nil {
			return nil, err
		}
		if err := l.storeSession(ctx, ns); err != nil {
			return nil, storeFailed(err)
		}
		return ns, nil
	}
	blob := []byte(l.sessions.seal(ns.encode(), adStore))
	err := r.Replace(ctx, ns.id, s.stored, blob, sessionTags(ns), l.storeTTL(ns))
	switch {
	case errors.Is(err, ErrSessionNotFound):
		return nil, errSessionEnded
	case errors.Is(err, ErrSessionChanged):
		// Written by another replica meanwhile (its lease expired under
		// ours, or the store has no lease): keep what the store holds.
		ch, err := l.storedChange(ctx, s)
		if ch == nil && err == nil {
			err = errSessionEnded
		}
		return ch, err
	case err != nil:
		return nil, storeFailed(err)
	}
	ns.stored = blob
	return ns, nil
}

// storeFailed marks a store error as errStoreUnavailable: temporary, the
// session is neither used up nor ended.
func storeFailed(err error) error {
	if errors.Is(err, errStoreUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", errStoreUnavailable, err)
}

// jitter returns a duration in [d/2, d).
func jitter(d time.Duration) time.Duration { return d/2 + rand.N(d/2+1) }
