package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
)

// adStore authenticates sessions sealed for the store.
const adStore = "store"

// errStoreUnavailable: the SessionStore failed (not "no such session"), so
// nothing is known about the session: it is neither used nor ended.
var errStoreUnavailable = errors.New("web: session store unavailable")

// identify returns the browser's Identity, or nil when it has no session
// that opens, is in time, is not logged out, and could be refreshed when due.
// The error is errStoreUnavailable when the SessionStore failed: then
// nothing about the session is known, and its cookie is kept.
func (l *Login) identify(w http.ResponseWriter, r *http.Request, cookies []*http.Cookie) (*Identity, error) {
	value := l.jar.sessionFrom(cookies)
	if value == "" {
		return nil, nil
	}
	s, err := l.loadSession(r.Context(), value)
	if errors.Is(err, errStoreUnavailable) {
		// The store is down or slow: the session may be fine. Keep the
		// cookie (a Redis outage must not sign everyone out for good);
		// serve proceeds without an identity and answers a protected
		// path with 503.
		l.cfg.Logger.Warn("web: session store unavailable; request served without a session", "error", err.Error(), "path", r.URL.Path)
		return nil, err
	}
	if err != nil {
		l.cfg.Logger.Warn("web: session cookie ignored (signed out)", "reason", err.Error(), "path", r.URL.Path)
		l.clearSession(w, r, nil)
		return nil, nil
	}
	now := l.cfg.Now()
	if now.Sub(s.created) > l.cfg.SessionLifetime || l.denied.denies(s) {
		l.clearSession(w, r, s)
		return nil, nil
	}
	if s.refreshDue(now) {
		if s = l.refreshSession(w, r, s); s == nil {
			return nil, nil
		}
	}
	return newIdentity(l, s), nil
}

// refreshSession refreshes s before the app sees it. A refused refresh
// ends the session (nil); a temporary failure keeps s.
func (l *Login) refreshSession(w http.ResponseWriter, r *http.Request, s *session) *session {
	ns, err := l.refresher.refresh(r.Context(), s)
	switch {
	case err == nil:
		if l.cfg.SessionStore == nil && ns != s {
			l.saveSession(w, r, ns)
		}
		return ns
	case temporary(err):
		l.cfg.Logger.Warn("web: token refresh failed; trying again on the next request", "sub", s.claims.Subject, "error", err.Error())
		return s
	default:
		l.cfg.Logger.Info("web: refresh refused; session ended", "sub", s.claims.Subject, "error", err.Error())
		l.denied.denySession(s.id, l.cfg.Now())
		l.clearSession(w, r, s)
		return nil
	}
}

// temporary: the provider did not refuse the refresh. A grant cut short
// (Close, refreshTimeout, the request gone), a failing SessionStore, and
// another replica's refresh still running are temporary here, even though
// an AuthorizationError reports a cancelled call as not worth retrying:
// ending the session for it would delete it from a shared store when one
// replica shuts down.
func temporary(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, authorizer.ErrClosed) ||
		errors.Is(err, errStoreUnavailable) || errors.Is(err, errRefreshElsewhere) {
		return true
	}
	var t interface{ Temporary() bool }
	if errors.As(err, &t) {
		return t.Temporary()
	}
	return false
}

// refreshDue: the access token is within its expiration gap
// ([data.EffectiveGap] of its lifetime) and there is a refresh token.
func (s *session) refreshDue(now time.Time) bool {
	if s.refresh == "" {
		return false
	}
	return !now.Before(s.expiry.Add(-data.EffectiveGap(s.expiry.Sub(s.issued))))
}

func (l *Login) loadSession(ctx context.Context, value string) (*session, error) {
	if l.cfg.SessionStore == nil {
		if s := l.opened.get(value); s != nil {
			return s, nil
		}
		plain, ok := l.sessions.open(value, l.jar.name)
		if !ok {
			return nil, errors.New("does not open (tampered, or sealed with another secret)")
		}
		s, err := decodeSession(plain)
		if err == nil {
			if err = l.forThisClient(s); err != nil {
				return nil, err
			}
			l.opened.put(value, s)
		}
		return s, err
	}
	id, ok := l.ids.open(value, l.jar.name)
	if !ok {
		return nil, errors.New("session id does not open (tampered, or sealed with another secret)")
	}
	return l.loadStored(ctx, string(id))
}

// loadStored reads and opens the session the store holds under id. The
// error wraps errStoreUnavailable when the store failed, and is
// ErrSessionNotFound when it holds nothing.
func (l *Login) loadStored(ctx context.Context, id string) (*session, error) {
	blob, err := l.cfg.SessionStore.Get(ctx, id)
	if err != nil && !errors.Is(err, ErrSessionNotFound) {
		return nil, fmt.Errorf("%w: %w", errStoreUnavailable, err)
	}
	if err != nil {
		return nil, err
	}
	plain, ok := l.sessions.open(string(blob), adStore)
	if !ok {
		return nil, errors.New("stored session does not open")
	}
	s, err := decodeSession(plain)
	if err == nil && s.id != id {
		// The store returned another session's value for this id.
		return nil, errors.New("stored session belongs to another id")
	}
	if err == nil {
		err = l.forThisClient(s)
	}
	if err == nil {
		s.stored = blob
	}
	return s, err
}

// forThisClient: the session's ID token was issued to this app's client
// by this app's issuer. Another app that shares the SessionSecret and
// cookie name (staging and production, say) seals sessions that open
// here; their ID tokens name another audience, or the same client id at
// another issuer.
func (l *Login) forThisClient(s *session) error {
	if !contains(s.claims.Audience, l.cfg.Client.ClientID) {
		return errors.New("session of another client (its ID token's aud)")
	}
	if s.claims.Issuer != l.cfg.Issuer {
		return errors.New("session of another issuer (its ID token's iss)")
	}
	return nil
}

// storeSession writes s to the session store, tagged with its sid and sub
// for back-channel logout.
func (l *Login) storeSession(ctx context.Context, s *session) error {
	blob := []byte(l.sessions.seal(s.encode(), adStore))
	if err := l.cfg.SessionStore.Put(ctx, s.id, blob, sessionTags(s), l.storeTTL(s)); err != nil {
		return err
	}
	s.stored = blob
	return nil
}

// storeTTL is how long the store keeps s: the rest of its lifetime.
func (l *Login) storeTTL(s *session) time.Duration {
	return l.cfg.SessionLifetime - l.cfg.Now().Sub(s.created)
}

func sessionTags(s *session) []string {
	tags := []string{"sub:" + s.claims.Subject}
	if s.claims.SessionID != "" {
		tags = append(tags, "sid:"+s.claims.SessionID)
	} else {
		tags = append(tags, "nosid:"+s.claims.Subject)
	}
	return tags
}

// saveSession sets the session cookie(s); false (after answering) when the
// session cannot be kept.
func (l *Login) saveSession(w http.ResponseWriter, r *http.Request, s *session) bool {
	maxAge := l.cfg.SessionLifetime - l.cfg.Now().Sub(s.created)
	var value string
	if l.cfg.SessionStore != nil {
		if err := l.storeSession(r.Context(), s); err != nil {
			l.fail(w, r, http.StatusServiceUnavailable, "Your session could not be saved.", err)
			return false
		}
		value = l.ids.seal([]byte(s.id), l.jar.name)
	} else {
		value = l.sessions.seal(s.encode(), l.jar.name)
	}
	if !l.jar.writeSession(w, r, value, maxAge) {
		l.fail(w, r, http.StatusInternalServerError, "Your session is too large to keep.",
			errors.New("web: session over 10 cookies; configure a SessionStore"))
		return false
	}
	return true
}

// clearSession expires the session cookies and deletes s from the store.
func (l *Login) clearSession(w http.ResponseWriter, r *http.Request, s *session) {
	l.jar.clearChunks(w, r, 0)
	if s != nil && l.cfg.SessionStore != nil {
		if err := l.cfg.SessionStore.Delete(r.Context(), s.id); err != nil {
			l.cfg.Logger.Warn("web: session store delete failed", "error", err.Error())
		}
	}
}
