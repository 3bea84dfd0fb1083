package base

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"golang.org/x/oauth2"
)

// rndProvider is an identity provider that rotates refresh tokens and
// detects reuse: Refresh with a refresh token of a grant that was already
// exchanged revokes the grant (counted in reuse), as oidc-provider does.
// Authorize starts a new grant. Every Transport given an
// rndGrantAuthorizer of one provider shares its grants through the cache,
// as replicas do.
type rndProvider struct {
	clock    *fakeClock
	lifetime func() (time.Duration, bool) // a new token's lifetime, and whether ExpiresIn is set

	mu      sync.Mutex
	n       int
	grantOf map[string]int // refresh token -> grant
	live    map[int]string // grant -> the one refresh token that may be exchanged
	reuse   int            // Refresh calls with an exchanged refresh token
	reuseAt []string       // which tokens were reused, for the failure message
}

func (p *rndProvider) issueLocked(grant int) *oauth2.Token {
	p.n++
	if p.grantOf == nil {
		p.grantOf, p.live = map[string]int{}, map[int]string{}
	}
	if grant == 0 {
		grant = p.n
	}
	life, withIn := p.lifetime()
	tok := &oauth2.Token{AccessToken: fmt.Sprintf("at-%d", p.n), TokenType: "Bearer",
		RefreshToken: fmt.Sprintf("rt-%d", p.n)}
	if life > 0 {
		tok.Expiry = p.clock.Now().Add(life)
		if withIn {
			tok.ExpiresIn = int64(life / time.Second)
		}
	}
	p.grantOf[tok.RefreshToken] = grant
	p.live[grant] = tok.RefreshToken
	return tok
}

func (p *rndProvider) authorize() *oauth2.Token {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.issueLocked(0)
}

func (p *rndProvider) refresh(tok *oauth2.Token) *oauth2.Token {
	p.mu.Lock()
	defer p.mu.Unlock()
	grant := p.grantOf[tok.RefreshToken]
	if live := p.live[grant]; tok.RefreshToken != live {
		p.reuse++
		if len(p.reuseAt) < 5 {
			p.reuseAt = append(p.reuseAt, fmt.Sprintf("%s (live %s)", tok.RefreshToken, live))
		}
	}
	return p.issueLocked(grant)
}

func (p *rndProvider) reuses() (int, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reuse, append([]string(nil), p.reuseAt...)
}

// rndGrantAuthorizer talks to p; Expired is TokenExpired on the fake clock.
type rndGrantAuthorizer struct{ p *rndProvider }

func (a *rndGrantAuthorizer) Authorize(context.Context) (*oauth2.Token, error) {
	return a.p.authorize(), nil
}

func (a *rndGrantAuthorizer) Refresh(_ context.Context, tok *oauth2.Token) (*oauth2.Token, error) {
	return a.p.refresh(tok), nil
}

func (a *rndGrantAuthorizer) Expired(tok *oauth2.Token) bool {
	return TokenExpired(tok, a.p.clock.Now())
}

// rndLockCache is a MemoryCache with a CacheLocker that always works.
type rndLockCache struct {
	MemoryCache
	lock chan struct{}
}

func newRndLockCache() *rndLockCache { return &rndLockCache{lock: make(chan struct{}, 1)} }

func (c *rndLockCache) Lock(ctx context.Context, _ string) (func() error, error) {
	select {
	case c.lock <- struct{}{}:
		return func() error { <-c.lock; return nil }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Two replicas share a grant through a locking cache. A renews token 1 to
// token 2 (stored in the cache); B still holds token 1. When B next needs a
// token, token 1 has expired and token 2 is in its refresh-ahead window:
// the cached token 2 is usable and newer, but fromCache skipped it as "no
// fresher than what we are renewing ahead of time", so B called Refresh
// with token 1's refresh token, which was already exchanged: a provider
// that detects reuse revokes the grant.
func TestRandomSharedCacheRefreshesWithNewestToken(t *testing.T) {
	clock := newClock()
	p := &rndProvider{clock: clock, lifetime: func() (time.Duration, bool) { return 10 * time.Minute, true }}
	cache := newRndLockCache()
	rec := &recorder{}
	a := newTestTransport(t, &rndGrantAuthorizer{p}, clock, rec, WithCache(cache, "k"))
	b := newTestTransport(t, &rndGrantAuthorizer{p}, clock, rec, WithCache(cache, "k"))
	ctx := context.Background()
	if _, err := a.Token(ctx); err != nil { // token 1, cached
		t.Fatal(err)
	}
	waitIdle(t, a)
	if tok, err := b.Token(ctx); err != nil || tok.AccessToken != "at-1" {
		t.Fatalf("B: %v, %v; want at-1 from the cache", tok, err)
	}
	waitIdle(t, b)
	clock.Advance(6 * time.Minute) // token 1 in its refresh-ahead window
	if _, err := a.Token(ctx); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, a)
	if tok, _ := cache.Load(ctx, "k"); tok == nil || tok.AccessToken != "at-2" {
		t.Fatalf("cache holds %v, want at-2", tok)
	}
	clock.Advance(6 * time.Minute) // token 1 expired, token 2 stale (4 min left)
	tok, err := b.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, which := p.reuses(); n != 0 {
		t.Fatalf("refresh token reused %d times (%v): the grant is revoked; B got %s", n, which, tok.AccessToken)
	}
}

// As above, but the provider shortened the lifetime: token 2 (2 minutes)
// expires before token 1 (10 minutes), and B is still inside token 1's
// refresh-ahead window when token 2 enters its own. The cached token 2 was
// issued later, so B must adopt it and refresh with it, not with token 1.
func TestRandomSharedCacheShorterLifetimeRefreshesWithNewestToken(t *testing.T) {
	clock := newClock()
	var n atomic.Int32
	p := &rndProvider{clock: clock, lifetime: func() (time.Duration, bool) {
		if n.Add(1) == 1 {
			return 10 * time.Minute, true
		}
		return 2 * time.Minute, true
	}}
	cache := newRndLockCache()
	rec := &recorder{}
	a := newTestTransport(t, &rndGrantAuthorizer{p}, clock, rec, WithCache(cache, "k"))
	b := newTestTransport(t, &rndGrantAuthorizer{p}, clock, rec, WithCache(cache, "k"))
	ctx := context.Background()
	if _, err := a.Token(ctx); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, a)
	if tok, err := b.Token(ctx); err != nil || tok.AccessToken != "at-1" {
		t.Fatalf("B: %v, %v; want at-1 from the cache", tok, err)
	}
	waitIdle(t, b)
	clock.Advance(6 * time.Minute)
	if _, err := a.Token(ctx); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, a)
	clock.Advance(75 * time.Second) // token 1 and token 2 both stale, neither expired
	if _, err := b.Token(ctx); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, b)
	if _, err := b.Token(ctx); err != nil { // refreshes ahead with the adopted token 2
		t.Fatal(err)
	}
	waitIdle(t, b)
	if n, which := p.reuses(); n != 0 {
		t.Fatalf("refresh token reused %d times (%v): the grant is revoked", n, which)
	}
}

// waitIdle waits until tr has no token request in flight and mu is free,
// so that the next request in the refresh-ahead window starts a refresh
// (refreshAhead skips it while mu is held).
func waitIdle(t *testing.T, tr *Transport) {
	t.Helper()
	for i := 0; tr.busy.Load(); i++ {
		if i > 20000 {
			t.Fatal("token request never ended")
		}
		time.Sleep(100 * time.Microsecond)
	}
	for !tr.mu.TryLock() { // finish closes done before it unlocks mu
		time.Sleep(100 * time.Microsecond)
	}
	tr.mu.Unlock()
}

// rndOrderedCache is a MemoryCache whose lock the test grants, one holder
// at a time, in the order it chooses: each Lock sends its grant channel on
// entered and waits for it to be closed; unlock sends on unlocked.
type rndOrderedCache struct {
	MemoryCache
	entered  chan chan struct{}
	unlocked chan struct{}
}

func (c *rndOrderedCache) Lock(ctx context.Context, _ string) (func() error, error) {
	g := make(chan struct{})
	select {
	case c.entered <- g:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-g:
		return func() error { c.unlocked <- struct{}{}; return nil }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// A's token at-2 (renewed from at-1, which B still holds) is refused. A's
// token request deleted at-2 from the cache before taking the lock; B,
// renewing at-1 ahead of time, then found the cache empty, took the lock
// first and called Refresh with at-1, whose refresh token A had already
// exchanged. The refused token must leave the cache only under the lock,
// by the sharer that replaces it.
func TestRandomRefusedTokenLeavesCacheUnderLock(t *testing.T) {
	clock := newClock()
	p := &rndProvider{clock: clock, lifetime: func() (time.Duration, bool) { return 10 * time.Minute, true }}
	cache := &rndOrderedCache{entered: make(chan chan struct{}), unlocked: make(chan struct{})}
	grant := func() { g := <-cache.entered; close(g); <-cache.unlocked }
	rec := &recorder{}
	a := newTestTransport(t, &rndGrantAuthorizer{p}, clock, rec, WithCache(cache, "k"))
	b := newTestTransport(t, &rndGrantAuthorizer{p}, clock, rec, WithCache(cache, "k"))
	ctx := context.Background()
	done := make(chan struct{})
	go func() { defer close(done); a.Token(ctx) }()
	grant() // at-1
	<-done
	waitIdle(t, a)
	if tok, err := b.Token(ctx); err != nil || tok.AccessToken != "at-1" {
		t.Fatalf("B: %v, %v; want at-1 from the cache", tok, err)
	}
	waitIdle(t, b)
	clock.Advance(6 * time.Minute)
	a.Token(ctx) // renews at-1 ahead of time
	grant()      // at-2
	waitIdle(t, a)
	get(t, a, api) // at-2 accepted once
	rec.setReject("Bearer at-2", true)
	done = make(chan struct{})
	go func() { defer close(done); get(t, a, api) }() // 401: A replaces at-2
	gA := <-cache.entered
	b.Token(ctx) // B renews at-1 ahead of time
	for i := 0; b.busy.Load(); i++ {
		select {
		case gB := <-cache.entered: // B takes the lock first
			close(gB)
			<-cache.unlocked
		default:
			if i > 50000 {
				t.Fatal("B's token request never ended")
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	close(gA)
	<-cache.unlocked
	<-done
	if n, which := p.reuses(); n != 0 {
		t.Fatalf("refresh token reused %d times (%v): the grant is revoked", n, which)
	}
}

// Two replicas share a grant through a locking cache and are idle for an
// hour: A had renewed at-1 into at-2 (cached), B still holds at-1; now both
// are expired. B's token request found the cached at-2 unusable and called
// Refresh with at-1, whose refresh token A had exchanged. Refresh must get
// the newest token, usable or not.
func TestRandomIdleSharersRefreshWithNewestToken(t *testing.T) {
	clock := newClock()
	p := &rndProvider{clock: clock, lifetime: func() (time.Duration, bool) { return 10 * time.Minute, true }}
	cache := newRndLockCache()
	rec := &recorder{}
	a := newTestTransport(t, &rndGrantAuthorizer{p}, clock, rec, WithCache(cache, "k"))
	b := newTestTransport(t, &rndGrantAuthorizer{p}, clock, rec, WithCache(cache, "k"))
	ctx := context.Background()
	if _, err := a.Token(ctx); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, a)
	if tok, err := b.Token(ctx); err != nil || tok.AccessToken != "at-1" {
		t.Fatalf("B: %v, %v; want at-1 from the cache", tok, err)
	}
	waitIdle(t, b)
	clock.Advance(6 * time.Minute)
	a.Token(ctx) // renews at-1 into at-2 ahead of time
	waitIdle(t, a)
	clock.Advance(time.Hour) // both expired
	tok, err := b.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, which := p.reuses(); n != 0 {
		t.Fatalf("refresh token reused %d times (%v): the grant is revoked; B got %s", n, which, tok.AccessToken)
	}
}

// rndSlowAuthorizer is rndGrantAuthorizer whose Refresh takes step on the
// clock: a slow token endpoint, or a clock step during the call.
type rndSlowAuthorizer struct {
	rndGrantAuthorizer
	step time.Duration
}

func (a *rndSlowAuthorizer) Refresh(ctx context.Context, tok *oauth2.Token) (*oauth2.Token, error) {
	next, err := a.rndGrantAuthorizer.Refresh(ctx, tok)
	a.p.clock.Advance(a.step)
	return next, err
}

// A refresh yields at-2 (2 s lifetime) but the call takes 1.6 s, so at-2 is
// expired at birth by TokenExpired's 0.5 s gap and refused, as the package
// doc says. Its refresh token, the only live one at a provider that rotates
// them, is dropped with it: the next Refresh gets at-1 again and revokes the
// grant.
func TestRandomExpiredAtBirthKeepsRefreshToken(t *testing.T) {
	clock := newClock()
	var n atomic.Int32
	p := &rndProvider{clock: clock, lifetime: func() (time.Duration, bool) {
		if n.Add(1) == 1 {
			return 10 * time.Minute, true
		}
		return 2 * time.Second, true
	}}
	a := &rndSlowAuthorizer{rndGrantAuthorizer{p}, 0}
	tr := newTestTransport(t, a, clock, &recorder{}, WithBackoff(time.Second, time.Second))
	ctx := context.Background()
	if _, err := tr.Token(ctx); err != nil {
		t.Fatal(err)
	}
	waitIdle(t, tr)
	a.step = 1600 * time.Millisecond
	clock.Advance(9*time.Minute + 45*time.Second) // at-1 expired by its gap
	tr.Token(ctx)                                 // Refresh(at-1) -> at-2, expired at birth
	waitIdle(t, tr)
	a.step = 0
	clock.Advance(2 * time.Second) // past the backoff
	tr.Token(ctx)
	waitIdle(t, tr)
	if n, which := p.reuses(); n != 0 {
		t.Fatalf("refresh token reused %d times (%v): the grant is revoked", n, which)
	}
}

// Found by TestRandomLifecycleSharedGrant: B holds token 1, which a
// resource server refused; the clock steps back (an NTP step; replicas'
// clocks disagree just the same) before A renews token 1 into token 2. By
// Expiry less lifetime, token 2 looks issued before token 1. When B next
// needs a token, both have expired: B must refresh with the cached token
// 2's refresh token (it never exchanged token 1's itself, so the cached
// one is the newer), not with token 1's, which A exchanged.
func TestRandomSharedCacheClockBackRefreshesWithCachedToken(t *testing.T) {
	clock := newClock()
	p := &rndProvider{clock: clock, lifetime: func() (time.Duration, bool) { return 10 * time.Minute, true }}
	cache := newRndLockCache()
	rec := &recorder{}
	a := newTestTransport(t, &rndGrantAuthorizer{p}, clock, rec, WithCache(cache, "k"))
	b := newTestTransport(t, &rndGrantAuthorizer{p}, clock, rec, WithCache(cache, "k"))
	ctx := context.Background()
	if _, err := a.Token(ctx); err != nil { // token 1, cached
		t.Fatal(err)
	}
	waitIdle(t, a)
	if tok, err := b.Token(ctx); err != nil || tok.AccessToken != "at-1" {
		t.Fatalf("B: %v, %v; want at-1 from the cache", tok, err)
	}
	waitIdle(t, b)
	clock.Advance(-5 * time.Minute)
	st := a.cur.Load()
	st.accept()
	a.invalidate(st) // revoked: A renews it
	if tok, err := a.Token(ctx); err != nil || tok.AccessToken != "at-2" {
		t.Fatalf("A: %v, %v; want at-2", tok, err)
	}
	waitIdle(t, a)
	clock.Advance(20 * time.Minute) // both expired
	if _, err := b.Token(ctx); err != nil {
		t.Fatal(err)
	}
	if n, which := p.reuses(); n != 0 {
		t.Fatalf("refresh token reused %d times (%v): the grant is revoked", n, which)
	}
}

// signalLockCache is an rndLockCache whose Lock reports on entered that it
// was called, before it waits.
type signalLockCache struct {
	*rndLockCache
	entered chan struct{}
}

func (c *signalLockCache) Lock(ctx context.Context, key string) (func() error, error) {
	c.entered <- struct{}{}
	return c.rndLockCache.Lock(ctx, key)
}

// Found by TestRandomLifecycleSharedGrant: a Transport closed while its
// token request waits for the cache's lock (a sharer holds it, renewing
// the shared token) must not go on to Refresh without the lock: the
// refresh token it read before the lock is the one the sharer is
// exchanging (an Authorizer that does not check ctx before sending reuses
// it, and the provider revokes the grant).
func TestRandomSharedCacheCloseDuringLockWaitSkipsRefresh(t *testing.T) {
	clock := newClock()
	p := &rndProvider{clock: clock, lifetime: func() (time.Duration, bool) { return 10 * time.Minute, true }}
	cache := &signalLockCache{newRndLockCache(), make(chan struct{}, 4)}
	b := newTestTransport(t, &rndGrantAuthorizer{p}, clock, &recorder{}, WithCache(cache, "k"),
		WithFetchTimeout(time.Hour))
	ctx := context.Background()
	if _, err := b.Token(ctx); err != nil { // token 1, cached
		t.Fatal(err)
	}
	waitIdle(t, b)
	<-cache.entered
	cache.lock <- struct{}{} // a sharer holds the lock
	clock.Advance(20 * time.Minute)
	done := make(chan error, 1)
	go func() { _, err := b.Token(ctx); done <- err }()
	<-cache.entered // B waits for the lock
	b.Close()
	if err := <-done; !errors.Is(err, authorizer.ErrClosed) {
		t.Errorf("Token: %v, want ErrClosed", err)
	}
	<-cache.lock
	p.mu.Lock()
	issued := p.n
	p.mu.Unlock()
	if issued != 1 {
		t.Fatalf("%d tokens issued, want 1: the closed Transport refreshed without the lock", issued)
	}
}
