package base

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

// Issue 18.1: after Close nothing is sent, not even with a fresh token.
func TestNothingIsSentAfterClose(t *testing.T) {
	clock := newClock()
	rec := &recorder{}
	tr := newTestTransport(t, newFake(clock), clock, rec)
	get(t, tr, api)
	require.NoError(t, tr.Close())
	for _, url := range []string{api, "http://127.0.0.1:1/"} {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		_, err := tr.RoundTrip(req)
		require.ErrorIs(t, err, authorizer.ErrClosed, url)
	}
	_, err := tr.Token(context.Background())
	require.ErrorIs(t, err, authorizer.ErrClosed)
	assert.Equal(t, 1, rec.count(), "requests that reached the inner RoundTripper")
}

// lockingCache is a MemoryCache whose Lock fails, or blocks until ctx ends.
type lockingCache struct {
	*MemoryCache
	lockErr error // Lock fails with it, if non-nil
	block   bool  // Lock blocks until ctx is done
	locks   atomic.Int32
}

func (c *lockingCache) Lock(ctx context.Context, _ string) (func() error, error) {
	c.locks.Add(1)
	if c.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if c.lockErr != nil {
		return nil, c.lockErr
	}
	return func() error { return nil }, nil
}

// Issue 18.2: a cache that cannot lock costs a token request of our own,
// never a failed request; a usable cached token is used without the lock.
func TestCacheLockFailureIsNotARequestFailure(t *testing.T) {
	tests := []struct {
		name  string
		cache *lockingCache
	}{
		{name: "lock fails", cache: &lockingCache{MemoryCache: NewMemoryCache(), lockErr: errors.New("store down")}},
		{name: "lock does not answer", cache: &lockingCache{MemoryCache: NewMemoryCache(), block: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			f := newFake(clock)
			tr := newTestTransport(t, f, clock, &recorder{}, WithCache(tt.cache, "k"))
			tok, err := tr.Token(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "token-1", tok.AccessToken)
			cached, _ := tt.cache.Load(context.Background(), "k")
			require.NotNil(t, cached, "the token is still stored")

			// A new replica finds the usable token without taking the lock.
			locks := tt.cache.locks.Load()
			f2 := newFake(clock)
			tr2 := newTestTransport(t, f2, clock, &recorder{}, WithCache(tt.cache, "k"))
			tok, err = tr2.Token(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "token-1", tok.AccessToken)
			assert.Zero(t, f2.calls(), "token requests of the new replica")
			assert.Equal(t, locks, tt.cache.locks.Load(), "locks taken by the new replica")
		})
	}
}

// Issue 18.3: a caller whose own context ends inside the expiration gap
// gets the token that still works.
func TestCallerDeadlineInGapGetsWorkingToken(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	tr := newTestTransport(t, f, clock, &recorder{})
	_, err := tr.Token(context.Background())
	require.NoError(t, err)
	clock.Advance(time.Hour - 10*time.Second) // in the gap, not expired
	gate := f.hold()
	f.started = make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan *oauth2.Token, 1)
	go func() {
		tok, err := tr.Token(ctx)
		assert.NoError(t, err)
		got <- tok
	}()
	<-f.started
	cancel()
	tok := <-got
	close(gate)
	require.NotNil(t, tok)
	assert.Equal(t, "token-1", tok.AccessToken)
}

// Issue 18.4: Authorizer.Expired is honoured whatever WithRefreshAhead says.
func TestExpiredHonouredWhateverRefreshAhead(t *testing.T) {
	for _, ahead := range []time.Duration{0, 10 * time.Second} {
		t.Run(ahead.String(), func(t *testing.T) {
			clock := newClock()
			f := newFake(clock)
			tr := newTestTransport(t, f, clock, &recorder{}, WithRefreshAhead(ahead))
			_, err := tr.Token(context.Background())
			require.NoError(t, err)
			clock.Advance(time.Hour - 20*time.Second) // in the 30 s gap
			tok, err := tr.Token(context.Background())
			require.NoError(t, err)
			assert.False(t, f.Expired(tok), "sent a token the Authorizer calls expired")
			assert.Equal(t, "token-2", tok.AccessToken)
		})
	}
}

// Issue 18.5: a 401 to a request whose body cannot be replayed still
// retires the refused token.
func TestUnreplayable401StillRetiresToken(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	rec := &recorder{}
	tr := newTestTransport(t, f, clock, rec)
	get(t, tr, api)
	clock.Advance(time.Minute)
	rec.setReject("Bearer token-1", true)
	req, _ := http.NewRequest(http.MethodPost, api, io.MultiReader(strings.NewReader("stream")))
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	n := rec.count()
	resp = get(t, tr, api)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, n+1, rec.count(), "the next request is sent once")
	assert.Equal(t, "Bearer token-2", rec.requests[n].Header.Get("Authorization"), "the refused token is not sent again")
}

// Issues 18.6 and 20.6: a token useless at once (refused by the API, or
// expired at birth) counts toward the backoff.
func TestUselessTokensAreBackedOff(t *testing.T) {
	t.Run("API refuses every token", func(t *testing.T) {
		clock := newClock()
		f := newFake(clock)
		rec := &rejectAll{}
		tr := newTestTransport(t, f, clock, rec)
		for range 20 {
			req, _ := http.NewRequest(http.MethodGet, api, nil)
			resp, err := tr.RoundTrip(req)
			if err == nil {
				resp.Body.Close()
				assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			} else {
				assert.ErrorIs(t, err, authorizer.ErrBackoff)
			}
		}
		assert.LessOrEqual(t, f.calls(), 2, "token requests for 20 requests")
	})
	t.Run("tokens expired at birth", func(t *testing.T) {
		clock := newClock()
		f := newFake(clock)
		f.lifetime = 0
		tr := newTestTransport(t, f, clock, &recorder{})
		for range 2000 {
			_, err := tr.Token(context.Background())
			var ae *authorizer.AuthorizationError
			require.ErrorAs(t, err, &ae)
		}
		assert.Equal(t, 1, f.calls(), "token requests for 2000 callers with no time passing")
	})
}

// rejectAll answers 401 to every request.
type rejectAll struct{}

func (rejectAll) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusUnauthorized, Body: io.NopCloser(strings.NewReader("no")), Request: req}, nil
}

// blockingSource is an oauth2.TokenSource that ignores every context: Token
// blocks until release is closed.
type blockingSource struct {
	started chan struct{}
	release chan struct{}
}

func (s *blockingSource) Token() (*oauth2.Token, error) {
	s.started <- struct{}{}
	<-s.release
	return &oauth2.Token{AccessToken: "late"}, nil
}

// Issues 18.7 and 20.8: Close returns though the token source ignores ctx,
// and a waiting caller gets ErrClosed, not context.Canceled.
func TestCloseIsBoundedAndWaitersGetErrClosed(t *testing.T) {
	src := &blockingSource{started: make(chan struct{}, 1), release: make(chan struct{})}
	tr := NewTransport(FromTokenSource(src), WithBase(&recorder{}), withCloseWait(10*time.Millisecond))
	waiter := make(chan error, 1)
	go func() { _, err := tr.Token(context.Background()); waiter <- err }()
	<-src.started
	closed := make(chan struct{})
	go func() { tr.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(time.Minute): // only reached when Close hangs
		close(src.release)
		t.Fatal("Close waited for a token source that ignores ctx")
	}
	err := <-waiter
	require.ErrorIs(t, err, authorizer.ErrClosed)
	assert.NotErrorIs(t, err, context.Canceled)
	close(src.release)
	goleak.VerifyNone(t) // the abandoned call's goroutine has finished by now
}

// Issue 20.8 with an Authorizer that honours ctx.
func TestCloseGivesWaitersErrClosed(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	f.hold()
	f.started = make(chan struct{}, 1)
	tr := NewTransport(f, WithBase(&recorder{}), withClock(clock.Now))
	waiter := make(chan error, 1)
	go func() { _, err := tr.Token(context.Background()); waiter <- err }()
	<-f.started
	require.NoError(t, tr.Close())
	err := <-waiter
	require.ErrorIs(t, err, authorizer.ErrClosed)
	assert.NotErrorIs(t, err, context.Canceled)
}

// Issue 18.8: the backoff ceiling saturates instead of wrapping.
func TestBackoffCeilingSaturates(t *testing.T) {
	for _, bounds := range [][2]time.Duration{{10 * time.Second, time.Hour}, {time.Second, 30 * time.Second},
		{time.Nanosecond, 1<<63 - 1}, {time.Hour, 1<<63 - 1}} {
		prev := time.Duration(0)
		for n := 1; n <= 200; n++ {
			c := backoffCeiling(bounds[0], bounds[1], n)
			require.GreaterOrEqual(t, c, prev, "failure %d with %v", n, bounds)
			require.GreaterOrEqual(t, c, bounds[0])
			require.LessOrEqual(t, c, bounds[1])
			prev = c
		}
		assert.Equal(t, bounds[1], prev, "reaches the maximum")
	}
	tr := NewTransport(newFake(newClock()), WithBackoff(10*time.Second, time.Hour))
	defer tr.Close()
	for n := 1; n <= 64; n++ {
		w := tr.backoff(errors.New("x"), n)
		require.True(t, w >= 10*time.Second && w <= time.Hour, "failure %d waits %v", n, w)
	}
}

// spyBody records when it is closed.
type spyBody struct {
	io.Reader
	closed atomic.Bool
}

func (b *spyBody) Close() error { b.closed.Store(true); return nil }

// unauthorizedOnce answers 401 with body to the second request, 200 to
// the others.
type unauthorizedOnce struct {
	body  *spyBody
	calls atomic.Int32
}

func (u *unauthorizedOnce) RoundTrip(req *http.Request) (*http.Response, error) {
	if u.calls.Add(1) == 2 {
		return &http.Response{StatusCode: http.StatusUnauthorized, Body: u.body, Request: req}, nil
	}
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: req}, nil
}

// Issue 18.9: a 401 body is drained and closed before waiting for the next
// token; the caller still reads it when no new token comes.
func TestUnauthorizedBodyReleasedBeforeWait(t *testing.T) {
	for _, fail := range []bool{false, true} {
		clock := newClock()
		f := newFake(clock)
		inner := &unauthorizedOnce{body: &spyBody{Reader: strings.NewReader(`{"error":"invalid_token"}`)}}
		tr := newTestTransport(t, f, clock, inner)
		get(t, tr, api) // token-1 works
		clock.Advance(time.Minute)
		gate := f.hold()
		f.started = make(chan struct{}, 1)
		if fail {
			f.fail(&authorizer.AuthorizationError{StatusCode: 503})
		}
		type result struct {
			resp *http.Response
			err  error
		}
		done := make(chan result, 1)
		go func() {
			req, _ := http.NewRequest(http.MethodGet, api, nil)
			resp, err := tr.RoundTrip(req)
			done <- result{resp, err}
		}()
		<-f.started // the caller now waits for the new token
		assert.True(t, inner.body.closed.Load(), "401 body closed before the wait")
		close(gate)
		r := <-done
		require.NoError(t, r.err)
		if fail {
			assert.Equal(t, http.StatusUnauthorized, r.resp.StatusCode)
			b, err := io.ReadAll(r.resp.Body)
			require.NoError(t, err)
			assert.Equal(t, `{"error":"invalid_token"}`, string(b), "the caller reads the 401 body")
		} else {
			assert.Equal(t, http.StatusOK, r.resp.StatusCode)
		}
		r.resp.Body.Close()
	}
}

// Issue 18.10: jitter moves the refresh-ahead point earlier by up to a
// tenth of the lead, never later.
func TestRefreshAheadJitterMovesStartEarlier(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	tok := &oauth2.Token{AccessToken: "t", Expiry: now.Add(time.Hour), ExpiresIn: 3600}
	lead := 5 * time.Minute
	var earliest, latest time.Duration
	for i := range 2000 {
		d := tok.Expiry.Sub(newTokenState(tok, lead, now).staleAt)
		require.GreaterOrEqual(t, d, lead)
		require.LessOrEqual(t, d, lead+lead/10)
		if i == 0 || d < earliest {
			earliest = d
		}
		latest = max(latest, d)
	}
	assert.Greater(t, latest, earliest, "jitter varies")
}

// Issue 20.1: a caller that waited never falls back to its own copy of a
// token that a concurrent 401 refused meanwhile.
func TestFallbackNeverSendsARefusedToken(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	tr := newTestTransport(t, f, clock, &recorder{})
	_, err := tr.Token(context.Background())
	require.NoError(t, err)
	clock.Advance(time.Hour - 10*time.Second) // in the gap, not expired
	f.fail(&authorizer.AuthorizationError{StatusCode: 503})
	var once sync.Once
	f.set(func(f *fakeAuthorizer) {
		f.onExpired = func(*oauth2.Token) {
			// A concurrent 401 refuses token-1 right after this caller loaded it.
			once.Do(func() { st := tr.cur.Load(); tr.cur.Store(st.invalidated()) })
		}
	})
	tok, err := tr.Token(context.Background())
	if tok != nil {
		t.Fatalf("got %q, which a resource server refused", tok.AccessToken)
	}
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
}

// Issue 20.2: Refresh always gets the newest token, never the caller's copy.
func TestRefreshGetsNewestToken(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	tr := newTestTransport(t, f, clock, &recorder{})
	_, err := tr.Token(context.Background())
	require.NoError(t, err)
	clock.Advance(time.Hour - 10*time.Second) // token-1 in the gap
	newer := &oauth2.Token{AccessToken: "token-newer", TokenType: "Bearer", Expiry: clock.Now().Add(time.Hour), ExpiresIn: 3600}
	var once sync.Once
	f.set(func(f *fakeAuthorizer) {
		f.onExpired = func(*oauth2.Token) {
			// Meanwhile another request renewed the token, and a 401 refused the new one.
			once.Do(func() { tr.cur.Store(newTokenState(newer, time.Minute, clock.Now()).invalidated()) })
		}
	})
	_, err = tr.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"token-newer"}, f.refreshedWith())
}

// Issue 20.3: a token refused by a resource server is deleted from the
// shared cache and never adopted from it again.
func TestRefusedTokenNeverComesBackFromCache(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	cache := NewMemoryCache()
	rec := &recorder{}
	tr := newTestTransport(t, f, clock, rec, WithCache(cache, "k"))
	get(t, tr, api) // token-1, stored
	clock.Advance(time.Minute)
	rec.setReject("Bearer token-1", true)
	f.fail(&authorizer.AuthorizationError{StatusCode: 503})
	resp := get(t, tr, api)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	cached, _ := cache.Load(context.Background(), "k")
	if cached != nil {
		assert.NotEqual(t, "token-1", cached.AccessToken, "refused token left in the cache")
	}

	// A new replica never starts with the refused token.
	rec2 := &recorder{}
	f2 := newFake(clock)
	f2.shape = func(tok *oauth2.Token) { tok.AccessToken = "replica-" + tok.AccessToken }
	tr2 := newTestTransport(t, f2, clock, rec2, WithCache(cache, "k"))
	get(t, tr2, api)
	assert.NotEqual(t, "Bearer token-1", rec2.requests[0].Header.Get("Authorization"))

	// A lagging cache brings token-1 back; tr never adopts it again.
	f.fail(nil)
	clock.Advance(time.Minute)
	get(t, tr, api) // token-2
	require.NoError(t, cache.Store(context.Background(), "k", &oauth2.Token{AccessToken: "token-1", TokenType: "Bearer",
		Expiry: clock.Now().Add(time.Hour), ExpiresIn: 3600}))
	clock.Advance(time.Minute)
	rec.setReject(rec.requests[len(rec.requests)-1].Header.Get("Authorization"), true)
	get(t, tr, api)
	for _, r := range rec.requests[len(rec.requests)-2:] {
		assert.NotEqual(t, "Bearer token-1", r.Header.Get("Authorization"), "refused token sent again")
	}
}

// Issue 20.4: one lifetime rule: a token with an Expiry but no ExpiresIn is
// never sent once the Authorizer's rule (TokenExpired) calls it expired,
// while the provider is healthy.
func TestOneLifetimeRule(t *testing.T) {
	for _, lifetime := range []time.Duration{40 * time.Second, 20 * time.Second, 2 * time.Minute} {
		t.Run(lifetime.String(), func(t *testing.T) {
			clock := newClock()
			f := newFake(clock)
			f.lifetime = lifetime
			f.shape = func(tok *oauth2.Token) { tok.ExpiresIn = 0 }
			tr := newTestTransport(t, f, clock, &recorder{})
			for range 3 * int(lifetime/time.Second) {
				tok, err := tr.Token(context.Background())
				require.NoError(t, err)
				require.False(t, f.Expired(tok), "sent %s, which the Authorizer calls expired", tok.AccessToken)
				require.Eventually(t, func() bool { return !tr.busy.Load() }, 5*time.Second, time.Millisecond)
				clock.Advance(time.Second)
			}
		})
	}
}
