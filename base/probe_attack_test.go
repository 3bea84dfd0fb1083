package base

// Probes of the documented promises of package base, and attacks by a
// careless caller, a hostile server, a hostile cache and a broken hook.
// Each test names the promise or attack; a broken promise that is not fixed
// here is a t.Skip("FINDING: ...").

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// redirected returns a request to to, as http.Client makes it when
// following a redirect from a request to from.
func redirected(t *testing.T, from, to string) *http.Request {
	t.Helper()
	first, err := http.NewRequest(http.MethodGet, from, nil)
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodGet, to, nil)
	require.NoError(t, err)
	req.Response = &http.Response{StatusCode: http.StatusFound, Request: first}
	return req
}

func sentAuth(req *http.Request) []string {
	var v []string
	for k, vs := range req.Header {
		if strings.EqualFold(k, "Authorization") || strings.EqualFold(k, "X-Api-Key") {
			v = append(v, vs...)
		}
	}
	return v
}

// Promise: credentials never follow a redirect off the first request's
// origin (host, port, https to http) unless the host is allowed; loopback
// and host spelling variants are not confused for one another.
func TestProbeRedirectOrigins(t *testing.T) {
	tests := []struct {
		from, to string
		opts     []Option
		creds    bool
	}{
		{from: api, to: "https://api.example.test:443/x", creds: true},
		{from: api, to: "https://API.Example.TEST/x", creds: true},
		{from: "https://api.example.test:443/", to: "https://api.example.test/x", creds: true},
		{from: api, to: "https://user:pw@evil.test/x"},
		{from: api, to: "https://api.example.test@evil.test/x"},
		{from: api, to: "https://api.example.test.evil.test/x"},
		{from: api, to: "https://api.example.test./x"},
		{from: api, to: "https://api.example.test:8443/x"},
		{from: api, to: "http://api.example.test/x", opts: []Option{InsecureAllowHTTP()}},
		{from: api, to: "http://api.example.test:443/x", opts: []Option{InsecureAllowHTTP()}},
		{from: "http://localhost:8080/", to: "http://127.0.0.1:8080/x"},
		{from: "http://[::1]:8080/", to: "http://localhost:8080/x"},
		{from: api, to: "https://other.example.test/x", opts: []Option{WithAllowedHosts("OTHER.example.test")}, creds: true},
		{from: api, to: "https://other.example.test:444/x", opts: []Option{WithAllowedHosts("other.example.test:443")}},
		{from: api, to: "https://other.example.test/x", opts: []Option{WithAllowedHosts("other.example.test:443")}, creds: true},
		{from: api, to: "https://other.example.test:443/x", opts: []Option{WithAllowedHosts("other.example.test:443")}, creds: true},
		{from: api, to: "https://[::1]/x", opts: []Option{WithAllowedHosts("[::1]:443")}, creds: true},
		{from: api, to: "https://other.example.test/x", opts: []Option{WithAllowedHosts("other.example.test:8443")}},
		// "never from https to http", even to an allowed host.
		{from: api, to: "http://other.example.test/x", opts: []Option{WithAllowedHosts("other.example.test"), InsecureAllowHTTP()}},
	}
	for _, tt := range tests {
		t.Run(tt.from+" to "+tt.to, func(t *testing.T) {
			clock := newClock()
			rec := &recorder{}
			tr := newTestTransport(t, &apiKeyAuthorizer{newFake(clock)}, clock, rec, tt.opts...)
			req := redirected(t, tt.from, tt.to)
			req.Header.Set("authorization", "Bearer caller-copied")
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			got := sentAuth(rec.requests[0])
			if tt.creds {
				assert.Contains(t, got, "Bearer token-1")
			} else {
				assert.Empty(t, got, "no credential of the SDK's or the caller's off-origin")
			}
		})
	}
}

// Promise: plain http carries credentials only to loopback hosts.
func TestProbeHTTPOnlyToLoopback(t *testing.T) {
	for host, ok := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.9.9.9": true, "[::1]": true,
		"[::ffff:127.0.0.1]": true, "localhost.": false, "localhost.evil.test": false,
		"127.0.0.1.evil.test": false, "evil.test": false, "[::2]": false, "0.0.0.0": false,
	} {
		t.Run(host, func(t *testing.T) {
			clock := newClock()
			rec := &recorder{}
			tr := newTestTransport(t, newFake(clock), clock, rec)
			req, err := http.NewRequest(http.MethodGet, "http://"+host+":8080/x", nil)
			require.NoError(t, err)
			resp, err := tr.RoundTrip(req)
			if ok {
				require.NoError(t, err)
				resp.Body.Close()
				return
			}
			require.ErrorIs(t, err, authorizer.ErrInsecureTransport)
			assert.Zero(t, rec.count())
		})
	}
}

// Attack: a careless caller's request with no Header, no URL, and a body
// that must be closed on every error.
type trackedBody struct {
	io.Reader
	mu     sync.Mutex
	closed bool
}

func (b *trackedBody) Close() error { b.mu.Lock(); b.closed = true; b.mu.Unlock(); return nil }
func (b *trackedBody) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

func TestProbeCarelessRequests(t *testing.T) {
	clock := newClock()
	rec := &recorder{}
	tr := newTestTransport(t, newFake(clock), clock, rec)
	u, _ := url.Parse(api)
	resp, err := tr.RoundTrip(&http.Request{Method: http.MethodGet, URL: u})
	require.NoError(t, err, "nil Header")
	resp.Body.Close()
	assert.Equal(t, "Bearer token-1", rec.requests[0].Header.Get("Authorization"))

	body := &trackedBody{Reader: strings.NewReader("x")}
	_, err = tr.RoundTrip(&http.Request{Method: http.MethodPost, Body: body})
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae, "nil URL")
	assert.True(t, body.isClosed(), "body closed on error")

	body = &trackedBody{Reader: strings.NewReader("x")}
	u2, _ := url.Parse("http://evil.test/")
	_, err = tr.RoundTrip(&http.Request{Method: http.MethodPost, URL: u2, Body: body})
	require.ErrorIs(t, err, authorizer.ErrInsecureTransport)
	assert.True(t, body.isClosed())

	tr.Close()
	body = &trackedBody{Reader: strings.NewReader("x")}
	_, err = tr.RoundTrip(&http.Request{Method: http.MethodPost, URL: u, Body: body})
	require.ErrorIs(t, err, authorizer.ErrClosed)
	assert.True(t, body.isClosed())
}

// Promise: the caller's request is never modified, through a 401 and its
// replay; the inner RoundTripper sees one Authorization only.
func TestProbeRequestNotModifiedThrough401(t *testing.T) {
	clock := newClock()
	rec := &recorder{}
	tr := newTestTransport(t, newFake(clock), clock, rec)
	get(t, tr, api) // token-1 works, then is revoked
	rec.setReject("Bearer token-1", true)
	rec.requests, rec.bodies = nil, nil
	req, _ := http.NewRequest(http.MethodPost, api, strings.NewReader("payload"))
	req.Header["authorization"] = []string{"Basic caller"}
	hdr, before, u := req.Header, req.Header.Clone(), *req.URL
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, 2, rec.count())
	assert.Equal(t, []string{"payload", "payload"}, rec.bodies)
	assert.Equal(t, before, req.Header)
	assert.Equal(t, u, *req.URL)
	assert.Equal(t, fmt.Sprintf("%p", hdr), fmt.Sprintf("%p", req.Header))
	for _, r := range rec.requests {
		assert.Len(t, sentAuth(r), 1)
	}
}

// Attack: GetBody that fails: the caller gets the original 401, readable.
func TestProbeGetBodyFails(t *testing.T) {
	clock := newClock()
	rec := &recorder{}
	rec.setReject("Bearer token-1", true)
	tr := newTestTransport(t, newFake(clock), clock, rec)
	req, _ := http.NewRequest(http.MethodPost, api, strings.NewReader("payload"))
	req.GetBody = func() (io.ReadCloser, error) { return nil, errors.New("no second body") }
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "ok", string(b))
	resp.Body.Close()
	assert.Equal(t, 1, rec.count())
}

// endless is a 401 body that never ends.
type endless struct {
	mu     sync.Mutex
	read   int
	closed bool
}

func (e *endless) Read(p []byte) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.read += len(p)
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}
func (e *endless) Close() error { e.mu.Lock(); e.closed = true; e.mu.Unlock(); return nil }

type endless401 struct {
	mu     sync.Mutex
	bodies []*endless
	n      int
}

func (s *endless401) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	b := &endless{}
	s.bodies = append(s.bodies, b)
	h := http.Header{"Location": {"https://evil.test/"}, "Www-Authenticate": {`Bearer error="invalid_token"`}}
	return &http.Response{StatusCode: http.StatusUnauthorized, Body: b, Header: h, Request: req}, nil
}

// Attack: a hostile server answering every request 401 with a never-ending
// body and a Location: memory stays bounded, the caller gets the 401, the
// body is cut with an error, and token requests are backed off.
func TestProbe401StormEndlessBody(t *testing.T) {
	clock := newClock()
	srv := &endless401{}
	f := newFake(clock)
	tr := newTestTransport(t, f, clock, srv)
	for range 20 {
		req, _ := http.NewRequest(http.MethodGet, api, nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			require.ErrorIs(t, err, authorizer.ErrBackoff)
			continue
		}
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			assert.ErrorIs(t, err, errBodyCut)
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for _, b := range srv.bodies {
		assert.True(t, b.closed)
		assert.LessOrEqual(t, b.read, 2*maxKeptBody+1024)
	}
	assert.LessOrEqual(t, f.calls(), 3, "one token request per backoff step, the clock does not move")
}

// Attack: an Authorizer returning (nil, nil), an empty token, a token with
// CR-LF, a foreign type, an Expiry in year 1, or a negative ExpiresIn.
func TestProbeHostileTokens(t *testing.T) {
	tests := map[string]func(*oauth2.Token){
		"nil":         nil,
		"empty":       func(tok *oauth2.Token) { tok.AccessToken = "" },
		"crlf":        func(tok *oauth2.Token) { tok.AccessToken = "abc\r\nX-Evil: 1" },
		"space":       func(tok *oauth2.Token) { tok.AccessToken = "abc def" },
		"mac":         func(tok *oauth2.Token) { tok.TokenType = "MAC" },
		"year 1":      func(tok *oauth2.Token) { tok.Expiry, tok.ExpiresIn = time.Date(1, 2, 1, 0, 0, 0, 0, time.UTC), 0 },
		"already due": func(tok *oauth2.Token) { tok.Expiry = tok.Expiry.Add(-2 * time.Hour) },
	}
	for name, shape := range tests {
		t.Run(name, func(t *testing.T) {
			clock := newClock()
			rec := &recorder{}
			var a Authorizer
			if shape == nil {
				a = nilAuthorizer{}
			} else {
				f := newFake(clock)
				f.shape = shape
				a = f
			}
			tr := newTestTransport(t, a, clock, rec)
			_, err := tr.Token(context.Background())
			var ae *authorizer.AuthorizationError
			require.ErrorAs(t, err, &ae)
			assert.NotContains(t, err.Error(), "X-Evil")
			req, _ := http.NewRequest(http.MethodGet, api, nil)
			_, err = tr.RoundTrip(req)
			require.Error(t, err)
			assert.Zero(t, rec.count())
		})
	}
}

type nilAuthorizer struct{}

func (nilAuthorizer) Authorize(context.Context) (*oauth2.Token, error) { return nil, nil }
func (nilAuthorizer) Refresh(context.Context, *oauth2.Token) (*oauth2.Token, error) {
	return nil, nil
}
func (nilAuthorizer) Expired(tok *oauth2.Token) bool { return TokenExpired(tok, time.Now()) }

// Attack: a token whose Expiry is in year 9999 (a provider's "never") must
// not make every request start a background refresh: the stale point of
// such a token is far away, not overflowed into the past.
func TestProbeFarFutureExpiryIsNotStale(t *testing.T) {
	for name, shape := range map[string]func(*oauth2.Token){
		"year 9999 no ExpiresIn": func(tok *oauth2.Token) {
			tok.Expiry, tok.ExpiresIn = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 0
		},
		"year 9999 huge ExpiresIn": func(tok *oauth2.Token) {
			tok.Expiry, tok.ExpiresIn = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), 1<<40
		},
	} {
		t.Run(name, func(t *testing.T) {
			clock := newClock()
			f := newFake(clock)
			f.shape = shape
			rec := &recorder{}
			tr := newTestTransport(t, f, clock, rec)
			clock.Advance(time.Second) // the Transport's clock has run a while
			_, err := tr.Token(context.Background())
			require.NoError(t, err)
			clock.Advance(time.Hour)
			st := tr.cur.Load()
			assert.Greater(t, st.staleIn, tr.elapsed(), "a token valid for millennia is fresh an hour later")
			get(t, tr, api)
			tr.Close()
			tr.wg.Wait() // a background refresh, if one started, has ended
			assert.Equal(t, 1, f.calls(), "no refresh of a token valid for millennia")
		})
	}
}

// Attack: a token whose ExpiresIn contradicts its Expiry (negative, or
// absurdly large) is still refreshed before its Expiry, and sent until then.
func TestProbeInconsistentExpiresIn(t *testing.T) {
	for name, secs := range map[string]int64{"negative": -3600, "huge": 1 << 40} {
		t.Run(name, func(t *testing.T) {
			clock := newClock()
			f := newFake(clock)
			f.shape = func(tok *oauth2.Token) { tok.ExpiresIn = secs }
			tr := newTestTransport(t, f, clock, &recorder{})
			tok, err := tr.Token(context.Background())
			require.NoError(t, err)
			st := tr.cur.Load()
			assert.True(t, st.staleAt.Before(tok.Expiry), "stale before it expires")
			assert.True(t, st.staleAt.After(clock.Now()), "fresh when new")
		})
	}
}

// Attack: a hook that panics, on the Transport's own goroutine (fetched)
// and on the caller's (invalidated). It must not crash the process.
func TestProbeHookPanics(t *testing.T) {
	clock := newClock()
	rec := &recorder{}
	var buf syncBuffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, nil)))
	tr := newTestTransport(t, newFake(clock), clock, rec,
		WithHook(func(e Event) { panic("hook: " + e.Kind.String()) }),
		WithLogger(slog.New(panicHandler{})))
	get(t, tr, api) // fetched, on the Transport's goroutine
	rec.setReject("Bearer token-1", true)
	resp, err := tr.RoundTrip(mustGet(t)) // invalidated, on the caller's
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	tr.Close()
	tr.wg.Wait() // the token request's goroutine, which emitted "fetched", has ended
	assert.Contains(t, buf.String(), "hook or logger panicked")
}

// panicHandler is a slog.Handler that panics on every record.
type panicHandler struct{}

func (panicHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (panicHandler) Handle(context.Context, slog.Record) error { panic("handler") }
func (h panicHandler) WithAttrs([]slog.Attr) slog.Handler      { return h }
func (h panicHandler) WithGroup(string) slog.Handler           { return h }

// Attack: a hook that blocks (against its doc) holds only its own
// goroutine: the callers waiting for the token get it, and Close is bounded.
func TestProbeHookBlocks(t *testing.T) {
	clock := newClock()
	release := make(chan struct{})
	tr := newTestTransport(t, newFake(clock), clock, &recorder{}, withCloseWait(time.Millisecond),
		WithHook(func(e Event) {
			if e.Kind == EventFetched {
				<-release
			}
		}))
	_, err := tr.Token(context.Background())
	require.NoError(t, err, "the token is delivered before the hook is called")
	get(t, tr, api)
	tr.Close()
	close(release) // let the goroutine end, for goleak
	tr.wg.Wait()
}

// Promise: a request with a usable token never blocks, while a refresh
// ahead of expiry is held; and a refused refresh falls back to Authorize.
func TestProbeStaleNeverBlocksAndFallback(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	rec := &recorder{}
	tr := newTestTransport(t, f, clock, rec)
	get(t, tr, api)
	// Refresh reads refreshErr before it waits on the gate.
	f.set(func(f *fakeAuthorizer) { f.refreshErr = &authorizer.InvalidCredentialsError{} })
	gate := f.hold()
	clock.Advance(58 * time.Minute) // inside refresh-ahead and the gap
	for range 5 {
		get(t, tr, api) // would hang here if it waited on the held refresh
	}
	assert.Equal(t, "Bearer token-1", rec.requests[5].Header.Get("Authorization"))
	close(gate)
	tr.wg.Wait() // the background refresh has ended (before Close, which would cancel it)
	assert.Equal(t, int32(1), f.refresh.Load())
	assert.Equal(t, int32(2), f.authorize.Load(), "a refused refresh falls back to Authorize once")
}

func mustGet(t *testing.T) *http.Request {
	req, err := http.NewRequest(http.MethodGet, api, nil)
	require.NoError(t, err)
	return req
}

// Promise: events and log records never carry a token, through fetch,
// 401, cache deletion, failure and backoff.
func TestProbeEventsCarryNoSecret(t *testing.T) {
	clock := newClock()
	rec := &recorder{}
	f := newFake(clock)
	f.shape = func(tok *oauth2.Token) {
		tok.AccessToken = "SECRETACCESS" + tok.AccessToken[len("token-"):]
		tok.RefreshToken = "SECRETREFRESH"
	}
	var buf syncBuffer
	var mu sync.Mutex
	var events []string
	cache := NewMemoryCache()
	tr := newTestTransport(t, f, clock, rec, WithCache(cache, "k"),
		WithLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		WithHook(func(e Event) { mu.Lock(); events = append(events, fmt.Sprintf("%+v %#v", e, e)); mu.Unlock() }))
	get(t, tr, api)
	rec.setReject("Bearer SECRETACCESS1", true)
	get(t, tr, api) // 401, refresh, replay
	f.fail(errors.New("provider down"))
	rec.setReject("Bearer SECRETACCESS2", true)
	get(t, tr, api)                    // 401, failed refresh, the 401 to the caller
	_, err := tr.RoundTrip(mustGet(t)) // backoff
	require.ErrorIs(t, err, authorizer.ErrBackoff)
	tr.Close()
	mu.Lock()
	events = append(events, err.Error())
	mu.Unlock()
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, events)
	all := strings.Join(events, "\n") + buf.String() + fmt.Sprint(tr, cache)
	assert.NotContains(t, all, "SECRET")
}

// Promise: a CacheLocker whose Lock does not answer is waited for at most
// min(2 s, fetch timeout/4); the Transport then requests a token on its own.
type silentLock struct {
	NoopTokenCache
	mu       sync.Mutex
	deadline time.Duration
}

type NoopTokenCache struct{}

func (NoopTokenCache) Load(context.Context, string) (*oauth2.Token, error) { return nil, nil }
func (NoopTokenCache) Store(context.Context, string, *oauth2.Token) error  { return nil }
func (NoopTokenCache) Delete(context.Context, string) error                { return nil }

func (l *silentLock) Lock(ctx context.Context, _ string) (func() error, error) {
	d, _ := ctx.Deadline()
	l.mu.Lock()
	l.deadline = time.Until(d)
	l.mu.Unlock()
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestProbeSilentLockBounded(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	lock := &silentLock{}
	tr := newTestTransport(t, f, clock, &recorder{}, WithCache(lock, "k"), WithFetchTimeout(400*time.Millisecond))
	_, err := tr.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, f.calls())
	lock.mu.Lock()
	defer lock.mu.Unlock()
	assert.LessOrEqual(t, lock.deadline, 100*time.Millisecond)
}

// Attack: a Lock that ignores ctx altogether.
func TestProbeLockIgnoringContext(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	lock := &deafLock{release: make(chan struct{}), unlocked: make(chan struct{})}
	tr := newTestTransport(t, f, clock, &recorder{}, WithCache(lock, "k"))
	_, err := tr.Token(context.Background()) // must not wait for the deaf Lock
	require.NoError(t, err)
	assert.Equal(t, 1, f.calls())
	close(lock.release) // the late lock is released at once
	<-lock.unlocked
}

// deafLock is a CacheLocker whose Lock ignores ctx: it returns when
// release is closed, with a lock whose unlock closes unlocked.
type deafLock struct {
	NoopTokenCache
	release, unlocked chan struct{}
}

func (l *deafLock) Lock(context.Context, string) (func() error, error) {
	<-l.release
	return func() error { close(l.unlocked); return nil }, nil
}

// Attack: a hostile cache returning tokens that must not be adopted.
type hostileCache struct {
	NoopTokenCache
	tok *oauth2.Token
}

func (c hostileCache) Load(context.Context, string) (*oauth2.Token, error) { return c.tok, nil }

func TestProbeHostileCache(t *testing.T) {
	clock := newClock()
	for name, tok := range map[string]*oauth2.Token{
		"crlf":    {AccessToken: "abc\r\nX-Evil: 1", TokenType: "Bearer", Expiry: clock.Now().Add(time.Hour)},
		"expired": {AccessToken: "old", TokenType: "Bearer", Expiry: clock.Now().Add(-time.Hour), ExpiresIn: 3600},
		"mac":     {AccessToken: "mac", TokenType: "MAC", Expiry: clock.Now().Add(time.Hour)},
		"empty":   {TokenType: "Bearer", Expiry: clock.Now().Add(time.Hour)},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake(clock)
			rec := &recorder{}
			tr := newTestTransport(t, f, clock, rec, WithCache(hostileCache{tok: tok}, "k"))
			get(t, tr, api)
			assert.Equal(t, "Bearer token-1", rec.requests[0].Header.Get("Authorization"))
		})
	}
}

// Promise: a 401-refused token is never sent again, whoever offers it.
func TestProbeRefusedTokenFromAuthorizerNotSentAgain(t *testing.T) {
	clock := newClock()
	same := &sameToken{clock: clock, tok: &oauth2.Token{AccessToken: "same-token", TokenType: "Bearer",
		Expiry: clock.Now().Add(time.Hour), ExpiresIn: 3600}}
	rec := &recorder{}
	rec.setReject("Bearer same-token", true)
	tr := newTestTransport(t, same, clock, rec)
	for range 6 {
		req, _ := http.NewRequest(http.MethodGet, api, nil)
		if resp, err := tr.RoundTrip(req); err == nil {
			resp.Body.Close()
		}
		clock.Advance(time.Minute) // past any backoff step (30 s cap)
	}
	sent := 0
	rec.mu.Lock()
	for _, r := range rec.requests {
		if r.Header.Get("Authorization") == "Bearer same-token" {
			sent++
		}
	}
	rec.mu.Unlock()
	assert.Equal(t, 1, sent, "a refused token returned again by the Authorizer must never be sent again")
	assert.Greater(t, same.calls.Load(), int64(1), "the Transport kept asking (after backoff)")
	_, err := tr.Token(context.Background())
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae, "typed error while the source keeps returning the refused token")
}

// sameToken hands out one token until it expires, as
// oauth2.StaticTokenSource and ReuseTokenSource do.
type sameToken struct {
	clock *fakeClock
	tok   *oauth2.Token
	calls atomic.Int64
}

func (s *sameToken) Authorize(context.Context) (*oauth2.Token, error) {
	s.calls.Add(1)
	return s.tok, nil
}
func (s *sameToken) Expired(tok *oauth2.Token) bool { return TokenExpired(tok, s.clock.Now()) }
func (s *sameToken) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return s.Authorize(ctx)
}

// Attack: absurd Retry-After values from the provider.
func TestProbeAbsurdRetryAfter(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	f.fail(&authorizer.AuthorizationError{Message: "slow down", StatusCode: 503, RetryAfter: 100 * 365 * 24 * time.Hour})
	tr := newTestTransport(t, f, clock, &recorder{})
	_, err := tr.Token(context.Background())
	require.Error(t, err)
	_, err = tr.Token(context.Background())
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
	require.ErrorIs(t, err, authorizer.ErrBackoff)
	assert.LessOrEqual(t, ae.RetryAfter, maxRetryAfter)
	clock.Advance(maxRetryAfter + time.Second)
	f.fail(nil)
	_, err = tr.Token(context.Background())
	require.NoError(t, err, "the cap holds: a token request after 10 minutes")

	f2 := newFake(clock)
	f2.fail(&authorizer.AuthorizationError{Message: "negative", StatusCode: 503, RetryAfter: -time.Hour})
	tr2 := newTestTransport(t, f2, clock, &recorder{}, WithBackoff(time.Second, time.Second))
	_, _ = tr2.Token(context.Background())
	clock.Advance(time.Second + time.Millisecond)
	f2.fail(nil)
	_, err = tr2.Token(context.Background())
	require.NoError(t, err, "a negative Retry-After is ignored")
}

// Attack: Close racing with many RoundTrips: after Close returns, nothing
// more reaches the inner RoundTripper.
func TestProbeCloseRacesRoundTrip(t *testing.T) {
	clock := newClock()
	rec := &recorder{}
	tr := newTestTransport(t, newFake(clock), clock, rec)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 16 {
		wg.Go(func() {
			<-start
			for range 20 {
				resp, err := tr.RoundTrip(mustGet(t))
				if err != nil {
					assert.ErrorIs(t, err, authorizer.ErrClosed)
					continue
				}
				resp.Body.Close()
			}
		})
	}
	close(start)
	tr.Close()
	wg.Wait()
	n := rec.count()
	_, err := tr.RoundTrip(mustGet(t))
	require.ErrorIs(t, err, authorizer.ErrClosed)
	_, err = tr.Token(context.Background())
	require.ErrorIs(t, err, authorizer.ErrClosed)
	assert.Equal(t, n, rec.count())
}

// Promise: TokenSource and FromTokenSource interoperate with x/oauth2.
func TestProbeTokenSourceInterop(t *testing.T) {
	clock := newClock()
	rec := &recorder{}
	tr := newTestTransport(t, newFake(clock), clock, rec)
	ts := oauth2.ReuseTokenSource(nil, tr.TokenSource(context.Background()))
	tok, err := ts.Token()
	require.NoError(t, err)
	assert.Equal(t, "token-1", tok.AccessToken)

	static := &oauth2.Token{AccessToken: "static", TokenType: "bearer"}
	rec2 := &recorder{}
	tr2 := newTestTransport(t, FromTokenSource(oauth2.StaticTokenSource(static)), clock, rec2)
	get(t, tr2, api)
	assert.Equal(t, "Bearer static", rec2.requests[0].Header.Get("Authorization"))

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = FromTokenSource(oauth2.StaticTokenSource(static)).Authorize(ctx)
	require.ErrorIs(t, err, context.Canceled)
}

// Promise: New vs NewTransport: an invalid option is an error from New and
// fails every call of NewTransport, closing the body, never reaching next.
func TestProbeNewVersusNewTransport(t *testing.T) {
	rec := &recorder{}
	bad := WithBackoff(time.Second, 0)
	_, err := New(newFake(newClock()), bad)
	var ice *authorizer.InvalidConfigError
	require.ErrorAs(t, err, &ice)
	tr := NewTransport(newFake(newClock()), bad, WithBase(rec))
	defer tr.Close()
	body := &trackedBody{Reader: strings.NewReader("x")}
	req, _ := http.NewRequest(http.MethodPost, api, body)
	_, err2 := tr.RoundTrip(req)
	require.ErrorAs(t, err2, &ice)
	assert.Equal(t, err.Error(), err2.Error())
	assert.True(t, body.isClosed())
	assert.Zero(t, rec.count())
	// The first invalid option is the one named.
	_, err = New(newFake(newClock()), WithFetchTimeout(0), WithRefreshAhead(-1))
	require.ErrorAs(t, err, &ice)
	assert.Contains(t, ice.Setting, "WithFetchTimeout")
	// An API key from an option may not be printed.
	tr3, err := New(newFake(newClock()), WithAPIKey("KEYSECRET"))
	require.NoError(t, err)
	defer tr3.Close()
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v %s", tr3, tr3, tr3, tr3), "KEYSECRET")
}

// Promise: a refused token is deleted from the cache by the token request
// that replaces it — also when it was refused at once and that request
// waits for the backoff.
func TestProbeRefusedTokenLeavesCache(t *testing.T) {
	clock := newClock()
	rec := &recorder{}
	rec.setReject("Bearer token-1", true)
	cache := NewMemoryCache()
	tr := newTestTransport(t, newFake(clock), clock, rec, WithCache(cache, "k"))
	resp, err := tr.RoundTrip(mustGet(t))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	clock.Advance(time.Minute) // past the backoff
	if _, err := tr.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	tok, err := cache.Load(context.Background(), "k")
	require.NoError(t, err)
	if tok != nil && tok.AccessToken == "token-1" {
		t.Fatal("the refused token is still in the cache after the token request that replaced it")
	}
}

// Promise: however many concurrent 401s a revoked token gets, one token
// request replaces it, and every caller gets the new token's answer.
func TestProbeConcurrent401sOneRefresh(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	rec := &recorder{}
	tr := newTestTransport(t, f, clock, rec)
	get(t, tr, api)
	rec.setReject("Bearer token-1", true)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			resp, err := tr.RoundTrip(mustGet(t))
			if assert.NoError(t, err) {
				resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 2, f.calls())
}
