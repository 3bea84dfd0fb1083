package web

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
)

// errSessionEnded: the session ended (sign-out, back-channel logout, a
// refused refresh) while a request was on its way to refresh it, or while
// it was being refreshed.
var errSessionEnded = errors.New("web: session ended")

// refreshTimeout bounds one refresh grant.
const refreshTimeout = 30 * time.Second

// maxRecent bounds the refreshed sessions remembered for requests that
// still carry the old cookie.
const maxRecent = 10000

// refresher runs at most one refresh per session at a time, and remembers
// the refreshed session, so that the requests that still carry the old
// cookie (sent before the browser got the new one) are given the new
// session instead of redeeming the rotated refresh token again — which the
// provider would refuse, signing the user out (oauth2-proxy #1006).
type refresher struct {
	l *Login

	mu     sync.Mutex          // guards calls, recent and closed
	closed bool                // set by Close: no new grants
	calls  map[string]*call    // by session id, while a grant is in flight
	recent map[string]*session // by session id, the latest refreshed session

	leaseWait time.Duration // leaseWait; tests shorten it before the first request
}

type call struct {
	done chan struct{} // closed when s and err are set
	s    *session
	err  error
}

func newRefresher(l *Login) *refresher {
	return &refresher{l: l, calls: map[string]*call{}, recent: map[string]*session{}, leaseWait: leaseWait}
}

// refresh returns s refreshed. Callers for the same session share one
// grant; a caller whose ctx ends leaves (with ctx's error) while the grant
// goes on for the others.
func (f *refresher) refresh(ctx context.Context, s *session) (*session, error) {
	if f.l.denied.denies(s) {
		// Signed out, or logged out by the provider: an Identity the app
		// kept gets no new tokens.
		return nil, &authorizer.InvalidCredentialsError{Err: errors.New("web: the session ended; sign in again")}
	}
	now := f.l.cfg.Now()
	f.mu.Lock()
	if n := f.recent[s.id]; n != nil && !n.issued.Before(s.issued) {
		if !n.refreshDue(now) {
			f.mu.Unlock()
			return n, nil
		}
		s = n // its refresh token is the newest
	}
	if f.closed {
		f.mu.Unlock()
		return nil, authorizer.ErrClosed
	}
	c := f.calls[s.id]
	if c == nil && f.l.denied.denies(s) {
		// Ended (refused, signed out, logged out) after the caller checked:
		// its refresh token must not be presented again.
		f.mu.Unlock()
		return nil, errSessionEnded
	}
	if c == nil {
		c = &call{done: make(chan struct{})}
		f.calls[s.id] = c
		f.l.running.Add(1)
		go f.run(c, s) // ends with the grant: refreshTimeout at most, or Close
	}
	f.mu.Unlock()
	select {
	case <-c.done:
		return c.s, c.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (f *refresher) run(c *call, s *session) {
	defer f.l.running.Done()
	// Detached from the request that started it: the other requests
	// waiting for this session must not fail because one browser tab
	// went away. Close ends it.
	ctx, cancel := context.WithTimeout(f.l.life, refreshTimeout)
	defer cancel()
	var ns *session
	var err error
	if f.l.cfg.SessionStore != nil {
		ns, err = f.l.refreshStored(ctx, s)
	} else {
		ns, err = f.l.refreshGrant(ctx, s)
	}
	f.mu.Lock()
	delete(f.calls, s.id)
	if err == nil {
		f.remember(ns)
	} else if !temporary(err) {
		// Before the call is gone: a request that comes now must not
		// redeem the refused token again.
		f.l.denied.denySession(s.id, f.l.cfg.Now())
	}
	f.mu.Unlock()
	c.s, c.err = ns, err
	close(c.done)
}

// remember keeps ns; f.mu is held.
func (f *refresher) remember(ns *session) {
	if len(f.recent) >= maxRecent {
		now := f.l.cfg.Now()
		for id, s := range f.recent {
			if s.expiry.Before(now) {
				delete(f.recent, id)
			}
		}
		if len(f.recent) >= maxRecent {
			clear(f.recent)
		}
	}
	f.recent[ns.id] = ns
}

// close refuses new grants from now on.
func (f *refresher) close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
}

// forget drops what is remembered of a session that ended.
func (f *refresher) forget(id string) {
	f.mu.Lock()
	delete(f.recent, id)
	f.mu.Unlock()
}

// refreshGrant redeems s's refresh token (RFC 6749 §6) through the one wire.
// A new ID token in the answer is verified and must name the same subject.
func (l *Login) refreshGrant(ctx context.Context, s *session) (*session, error) {
	md, err := l.prov.metadata(ctx)
	if err != nil {
		return nil, err
	}
	now := l.cfg.Now()
	tok, err := tokenwire.Do(ctx, tokenwire.Request{
		HTTPClient: l.cfg.HTTPClient, URL: md.TokenEndpoint, Client: l.cfg.Client,
		Auth: clientAuth(l.cfg.Client.ClientSecret, md), Now: l.cfg.Now,
		Form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {s.refresh}},
	})
	if err != nil {
		return nil, err
	}
	ns := *s
	ns.issued = now
	ns.setTokens(tok)
	if raw, _ := tok.Extra("id_token").(string); raw != "" {
		c, err := l.idTokens.Verify(ctx, raw)
		if err != nil {
			return nil, err
		}
		if c.Subject != s.claims.Subject {
			return nil, errors.New("web: refreshed ID token names another subject")
		}
		ns.idToken = raw
		if err := ns.readClaims(); err != nil {
			return nil, err
		}
	}
	return &ns, nil
}
