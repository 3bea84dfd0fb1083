package base

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/seed-d44eba79/authorizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

// monoClock returns readings of the monotonic clock, as time.Now does, whose
// wall clock can be stepped while the monotonic clock goes on.
type monoClock struct {
	base      time.Time // from time.Now: carries a monotonic reading
	elapsed   atomic.Int64
	wallShift atomic.Int64 // whole seconds
}

func (c *monoClock) Now() time.Time {
	return shiftWall(c.base.Add(time.Duration(c.elapsed.Load())), c.wallShift.Load())
}

// shiftWall returns t with its wall clock reading moved by secs seconds and
// its monotonic reading kept: what time.Now returns after the system clock
// is stepped. It relies on time.Time's layout (wall, ext, loc; with a
// monotonic reading, wall holds seconds since 1885 in bits 30..62), which
// TestShiftWall checks.
func shiftWall(t time.Time, secs int64) time.Time {
	type rep struct {
		wall uint64
		ext  int64
		loc  *time.Location
	}
	r := (*rep)(unsafe.Pointer(&t))
	r.wall = uint64(int64(r.wall) + secs<<30)
	return t
}

func TestShiftWall(t *testing.T) {
	now := time.Now()
	back := shiftWall(now, -600)
	assert.Zero(t, back.Sub(now), "monotonic reading kept")
	assert.Equal(t, now.Unix()-600, back.Unix(), "wall clock stepped")
}

// Issue 20.5: a step of the wall clock back does not stall recovery: the
// backoff deadline is on the monotonic clock.
func TestWallClockStepBackDoesNotStallRecovery(t *testing.T) {
	clock := &monoClock{base: time.Now()}
	f := newFake(newClock())
	f.fail(&authorizer.AuthorizationError{StatusCode: 503})
	tr := NewTransport(f, WithBase(&recorder{}), withClock(clock.Now), WithBackoff(time.Second, time.Second))
	defer tr.Close()
	_, err := tr.Token(context.Background())
	require.Error(t, err)
	f.fail(nil)
	clock.wallShift.Store(-600) // the wall clock steps 10 minutes back
	clock.elapsed.Store(int64(2 * time.Second))
	_, err = tr.Token(context.Background())
	require.NoError(t, err, "the provider is back and the 1 s backoff is over")
}

// panickingCache panics in the method named by where.
type panickingCache struct {
	*MemoryCache
	where string
}

func (c *panickingCache) Load(ctx context.Context, key string) (*oauth2.Token, error) {
	if c.where == "load" {
		panic("cache load exploded")
	}
	return c.MemoryCache.Load(ctx, key)
}

func (c *panickingCache) Lock(context.Context, string) (func() error, error) {
	if c.where == "lock" {
		panic("cache lock exploded")
	}
	return func() error { return nil }, nil
}

// Issue 20.7: a panic on the Transport's goroutine (Authorizer, cache) is
// recovered, logged with its stack, typed for the waiters, and the
// Transport stays usable; a background refresh that panics harms nobody.
func TestPanicInTokenRequestIsRecovered(t *testing.T) {
	for _, where := range []string{"authorizer", "load", "lock"} {
		t.Run(where, func(t *testing.T) {
			clock := newClock()
			f := newFake(clock)
			var logs syncBuffer
			opts := []Option{WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))}
			cache := &panickingCache{MemoryCache: NewMemoryCache(), where: where}
			if where == "authorizer" {
				f.set(func(f *fakeAuthorizer) { f.panicValue = "secret-in-panic" })
			} else {
				opts = append(opts, WithCache(cache, "k"))
			}
			tr := newTestTransport(t, f, clock, &recorder{}, opts...)
			_, err := tr.Token(context.Background())
			var ae *authorizer.AuthorizationError
			require.ErrorAs(t, err, &ae)
			assert.Contains(t, err.Error(), "panicked")
			assert.NotContains(t, err.Error(), "secret-in-panic")
			assert.Contains(t, logs.String(), "token request panicked")
			assert.Contains(t, logs.String(), "goroutine", "the stack is logged")

			f.set(func(f *fakeAuthorizer) { f.panicValue = nil })
			cache.where = ""
			clock.Advance(time.Minute)
			tok, err := tr.Token(context.Background())
			require.NoError(t, err, "usable after the panic")

			// A background refresh that panics has no caller at all.
			f.set(func(f *fakeAuthorizer) { f.panicValue = "again" })
			clock.Advance(56 * time.Minute)
			again, err := tr.Token(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tok.AccessToken, again.AccessToken)
			require.Eventually(t, func() bool { return !tr.busy.Load() }, 5*time.Second, time.Millisecond)
		})
	}
}

// Issue 16.2: printing a Transport never shows the API key.
func TestPrintingShowsNoSecret(t *testing.T) {
	clock := newClock()
	cache := NewMemoryCache()
	tr := newTestTransport(t, &apiKeyAuthorizer{newFake(clock)}, clock, &recorder{}, WithCache(cache, "k"))
	_, err := tr.Token(context.Background())
	require.NoError(t, err)
	values := map[string]any{
		"transport": tr, "transport in struct": struct{ T *Transport }{tr}, "cache": cache,
		"token source authorizer": FromTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "token-static"})),
	}
	for name, v := range values {
		for how, out := range renderings(t, v) {
			for _, secret := range []string{"key-secret", "client-secret", "token-1", "token-static"} {
				assert.NotContains(t, out, secret, "%s %s", name, how)
			}
		}
	}
	assert.Contains(t, fmt.Sprint(tr), "REDACTED")
}

// renderings returns every way a user might print v.
func renderings(t *testing.T, v any) map[string]string {
	t.Helper()
	js, err := json.Marshal(v)
	require.NoError(t, err)
	var logJSON, logText bytes.Buffer
	slog.New(slog.NewJSONHandler(&logJSON, nil)).Info("x", "v", v)
	slog.New(slog.NewTextHandler(&logText, nil)).Info("x", "v", v)
	return map[string]string{
		"%v": fmt.Sprintf("%v", v), "%+v": fmt.Sprintf("%+v", v), "%#v": fmt.Sprintf("%#v", v),
		"%s": fmt.Sprintf("%s", v), "%q": fmt.Sprintf("%q", v), "json": string(js),
		"slog json": logJSON.String(), "slog text": logText.String(),
	}
}

// Issues 16.7 and 16.8: a token is adopted only when its type is Bearer (any
// case, or empty) and its access token a b64token; any other is refused
// with a typed error, counts toward the backoff and is never cached.
func TestOnlyUsableTokensAreAdopted(t *testing.T) {
	tests := []struct {
		name, typ, access string
		ok                bool
	}{
		{name: "Bearer", typ: "Bearer", access: "abc", ok: true},
		{name: "bearer", typ: "bearer", access: "abc", ok: true},
		{name: "BEARER", typ: "BEARER", access: "abc", ok: true},
		{name: "empty type", typ: "", access: "abc", ok: true},
		{name: "jwt-like", typ: "Bearer", access: "eyJ0.eyJz-_~+/.c2ln==", ok: true},
		{name: "DPoP", typ: "DPoP", access: "abc"},
		{name: "MAC", typ: "mac", access: "abc"},
		{name: "Basic", typ: "Basic", access: "abc"},
		{name: "CRLF", typ: "Bearer", access: "abc\r\nX-Evil: 1"},
		{name: "space", typ: "Bearer", access: "a b"},
		{name: "non-ASCII", typ: "Bearer", access: "tök"},
		{name: "padding inside", typ: "Bearer", access: "a=b"},
		{name: "only padding", typ: "Bearer", access: "=="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			f := newFake(clock)
			f.shape = func(tok *oauth2.Token) { tok.TokenType, tok.AccessToken = tt.typ, tt.access }
			cache := NewMemoryCache()
			rec := &recorder{}
			tr := newTestTransport(t, f, clock, rec, WithCache(cache, "k"))
			for range 20 {
				req, _ := http.NewRequest(http.MethodGet, api, nil)
				resp, err := tr.RoundTrip(req)
				if tt.ok {
					require.NoError(t, err)
					resp.Body.Close()
					continue
				}
				var ae *authorizer.AuthorizationError
				require.ErrorAs(t, err, &ae)
				assert.NotContains(t, err.Error(), tt.access)
			}
			cached, _ := cache.Load(context.Background(), "k")
			if tt.ok {
				assert.Equal(t, 1, f.calls())
				assert.Equal(t, "Bearer "+tt.access, rec.requests[0].Header.Get("Authorization"))
				return
			}
			assert.Equal(t, 1, f.calls(), "token requests: a refused token counts toward the backoff")
			assert.Nil(t, cached, "a refused token is never cached")
			assert.Zero(t, rec.count(), "nothing sent")
		})
	}
}

// Issue 16.8 for the cache: an unusable cached token is skipped.
func TestUnusableCachedTokenIsSkipped(t *testing.T) {
	clock := newClock()
	cache := NewMemoryCache()
	require.NoError(t, cache.Store(context.Background(), "k", &oauth2.Token{AccessToken: "bad\ntoken",
		TokenType: "Bearer", Expiry: clock.Now().Add(time.Hour)}))
	f := newFake(clock)
	tr := newTestTransport(t, f, clock, &recorder{}, WithCache(cache, "k"))
	tok, err := tr.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "token-1", tok.AccessToken)
}

// Issue 16.12: every case variant of the credential headers the SDK sets is
// removed from the caller's header copy.
func TestCallerCredentialHeaderVariantsRemoved(t *testing.T) {
	clock := newClock()
	rec := &recorder{}
	tr := newTestTransport(t, &apiKeyAuthorizer{newFake(clock)}, clock, rec)
	req, _ := http.NewRequest(http.MethodGet, api, nil)
	req.Header["authorization"] = []string{"Basic caller"}
	req.Header["AUTHORIZATION"] = []string{"Bearer caller"}
	req.Header["x-api-key"] = []string{"caller-key"}
	req.Header["X-Trace"] = []string{"1"}
	before := req.Header.Clone()
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	sent := rec.requests[0].Header
	var auth, keys []string
	for k, v := range sent {
		switch http.CanonicalHeaderKey(k) {
		case "Authorization":
			auth = append(auth, v...)
		case "X-Api-Key":
			keys = append(keys, v...)
		}
	}
	assert.Equal(t, []string{"Bearer token-1"}, auth)
	assert.Equal(t, []string{"key-secret"}, keys)
	assert.Equal(t, []string{"1"}, sent["X-Trace"])
	assert.Equal(t, before, req.Header, "the caller's request is not modified")

	// Without an API key of its own, the SDK leaves the caller's alone.
	rec2 := &recorder{}
	tr2 := newTestTransport(t, newFake(clock), clock, rec2)
	resp, err = tr2.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	var sentKey []string
	for k, v := range rec2.requests[0].Header {
		if http.CanonicalHeaderKey(k) == "X-Api-Key" {
			sentKey = append(sentKey, v...)
		}
	}
	assert.Equal(t, []string{"caller-key"}, sentKey)
	assert.Len(t, rec2.requests[0].Header.Values("Authorization"), 1)
}

// Issue 18.14: an invalid option value is an *authorizer.InvalidConfigError
// from New, and fails every RoundTrip and Token of NewTransport.
func TestInvalidOptions(t *testing.T) {
	tests := []struct {
		name    string
		opt     Option
		setting string
	}{
		{name: "backoff min above max", opt: WithBackoff(5*time.Second, time.Second), setting: "WithBackoff"},
		{name: "backoff zero", opt: WithBackoff(0, time.Second), setting: "WithBackoff"},
		{name: "negative refresh ahead", opt: WithRefreshAhead(-time.Second), setting: "WithRefreshAhead"},
		{name: "zero fetch timeout", opt: WithFetchTimeout(0), setting: "WithFetchTimeout"},
		{name: "negative fetch timeout", opt: WithFetchTimeout(-time.Second), setting: "WithFetchTimeout"},
		{name: "cache without key", opt: WithCache(NewMemoryCache(), ""), setting: "WithCache"},
		{name: "allowed host with scheme", opt: WithAllowedHosts("https://api.example.test"), setting: "WithAllowedHosts"},
		{name: "empty allowed host", opt: WithAllowedHosts(""), setting: "WithAllowedHosts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(newClock())
			_, err := New(f, tt.opt)
			var ice *authorizer.InvalidConfigError
			require.ErrorAs(t, err, &ice)
			assert.Contains(t, ice.Setting, tt.setting)

			rec := &recorder{}
			tr := NewTransport(f, tt.opt, WithBase(rec))
			defer tr.Close()
			req, _ := http.NewRequest(http.MethodGet, api, nil)
			_, err = tr.RoundTrip(req)
			require.ErrorAs(t, err, &ice)
			_, err = tr.Token(context.Background())
			require.ErrorAs(t, err, &ice)
			assert.Zero(t, rec.count())
			assert.Zero(t, f.calls())
		})
	}
	_, err := New(nil)
	var ice *authorizer.InvalidConfigError
	require.ErrorAs(t, err, &ice, "nil Authorizer")
	tr, err := New(newFake(newClock()), WithBase(nil), WithLogger(nil), WithHook(nil), WithCache(nil, ""), WithAPIKey(""))
	require.NoError(t, err, "nil and empty mean the documented defaults")
	tr.Close()
}

// Issue 18.16 for base: a caller's own deadline or cancellation is not a
// temporary failure of the provider.
func TestCallerGaveUpIsNotTemporary(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	gate := f.hold()
	defer close(gate)
	f.started = make(chan struct{}, 1)
	tr := newTestTransport(t, f, clock, &recorder{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := tr.Token(ctx); done <- err }()
	<-f.started
	cancel()
	err := <-done
	require.ErrorIs(t, err, context.Canceled)
	var tmp interface{ Temporary() bool }
	require.ErrorAs(t, err, &tmp)
	var cd *callerDone
	require.ErrorAs(t, err, &cd)
	assert.False(t, cd.Temporary())
	assert.False(t, (&authorizer.AuthorizationError{Err: &callerDone{err: context.DeadlineExceeded}}).Temporary())
	assert.False(t, tmp.Temporary())
}

// Issue 17.5: a Transport that is never closed leaks nothing, and refreshes
// only on demand.
func TestNeverClosedTransportLeaksNothing(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	tr := NewTransport(f, WithBase(&recorder{}), withClock(clock.Now))
	get(t, tr, api)
	clock.Advance(56 * time.Minute)
	require.Eventually(t, func() bool {
		get(t, tr, api) // starts a background refresh (once no token request holds mu)
		return f.calls() == 2 && !tr.busy.Load()
	}, 5*time.Second, time.Millisecond)
	goleak.VerifyNone(t)
	clock.Advance(10 * time.Hour)
	assert.Equal(t, 2, f.calls(), "no refresh without a request")
	_ = errors.New
}

// Issue 18.16: a token request cut short by the Transport's own fetch
// timeout is temporary (the provider was too slow), even when the
// Authorizer returns only ctx.Err(); the caller's own cancellation is not
// (TestCallerGaveUpIsNotTemporary).
func TestFetchTimeoutIsTemporary(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	f.hold() // never released: the fetch runs out of its timeout
	tr := newTestTransport(t, f, clock, &recorder{}, WithFetchTimeout(20*time.Millisecond))
	_, err := tr.Token(context.Background())
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.ErrorIs(t, err, authorizer.ErrTimeout)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.True(t, ae.Temporary(), "SDK timeout must be temporary: %v", err)
}
