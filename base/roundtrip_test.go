package base

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// Rule 5: 100 concurrent 401s for the current token cause one refresh, and
// every request is replayed once with the new token.
func TestConcurrent401sCauseOneRefresh(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	rec := &recorder{}
	tr := newTestTransport(t, f, clock, rec)
	get(t, tr, api)
	clock.Advance(time.Minute)            // token-1 has been in use a while
	rec.setReject("Bearer token-1", true) // the API revokes token-1

	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() {
			req, _ := http.NewRequest(http.MethodPost, api, strings.NewReader("payload"))
			resp, err := tr.RoundTrip(req)
			if assert.NoError(t, err) {
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, 1, f.refresh.Load(), "refreshes for 100 concurrent 401s")
	for i, r := range rec.requests {
		if r.Header.Get("Authorization") == "Bearer token-2" {
			assert.Equal(t, "payload", rec.bodies[i], "replayed body")
		}
	}
}

// Rule 5: a request is never replayed twice, and an unreplayable body gets
// the 401 as it came.
func TestUnauthorizedReplayLimits(t *testing.T) {
	tests := []struct {
		name      string
		body      io.Reader
		rejectNew bool
		wantSent  int
	}{
		{name: "replayed once then 401 returned", body: nil, rejectNew: true, wantSent: 2},
		{name: "unreplayable body not replayed", body: io.MultiReader(strings.NewReader("x")), wantSent: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			f := newFake(clock)
			rec := &recorder{}
			tr := newTestTransport(t, f, clock, rec)
			get(t, tr, api)            // token-1 works
			clock.Advance(time.Minute) // and has been in use a while
			rec.setReject("Bearer token-1", true)
			rec.setReject("Bearer token-2", tt.rejectNew)
			req, _ := http.NewRequest(http.MethodPost, api, tt.body)
			req.GetBody = nil
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
			assert.Equal(t, tt.wantSent+1, rec.count(), "requests sent")
		})
	}
}

// Rule 6: no credential follows a redirect from 127.0.0.1 to localhost; a
// same-origin redirect keeps them, and WithAllowedHosts widens the rule.
func TestRedirectToOtherHostCarriesNoCredentials(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]http.Header{}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.URL.Path] = r.Header.Clone()
		mu.Unlock()
	}))
	defer target.Close()
	other := strings.Replace(target.URL, "127.0.0.1", "localhost", 1)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/same":
			http.Redirect(w, r, target.URL+"/same-target", http.StatusFound)
		default:
			http.Redirect(w, r, other+"/cross", http.StatusFound)
		}
	}))
	defer origin.Close()

	tests := []struct {
		name, path, targetPath string
		opts                   []Option
		wantCreds              bool
	}{
		{name: "cross host", path: "/cross-start", targetPath: "/cross"},
		{name: "same host other port", path: "/same", targetPath: "/same-target"},
		{name: "allowed host", path: "/cross-start", targetPath: "/cross",
			opts: []Option{WithAllowedHosts(strings.TrimPrefix(other, "http://"))}, wantCreds: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			tr := NewTransport(&apiKeyAuthorizer{newFake(clock)}, append(tt.opts, withClock(clock.Now))...)
			defer tr.Close()
			resp, err := (&http.Client{Transport: tr}).Get(origin.URL + tt.path)
			require.NoError(t, err)
			resp.Body.Close()
			mu.Lock()
			h := seen[tt.targetPath]
			mu.Unlock()
			require.NotNil(t, h, "target reached")
			assert.Equal(t, tt.wantCreds, h.Get("Authorization") != "", "Authorization at target")
			assert.Equal(t, tt.wantCreds, h.Get("X-Api-Key") != "", "X-Api-Key at target")
		})
	}
}

// Rule 7: credentials never go over plain http to a non-loopback host,
// unless the caller opts in; the request body is closed on that error.
func TestPlainHTTPNeedsLoopbackOrOptIn(t *testing.T) {
	tests := []struct {
		name    string
		url     string
		opts    []Option
		wantErr bool
	}{
		{name: "https", url: "https://api.example.test/"},
		{name: "http loopback v4", url: "http://127.0.0.1:8080/"},
		{name: "http loopback v6", url: "http://[::1]:8080/"},
		{name: "http localhost", url: "http://localhost/"},
		{name: "http remote", url: "http://api.example.test/", wantErr: true},
		{name: "http remote opted in", url: "http://api.example.test/", opts: []Option{InsecureAllowHTTP()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			rec := &recorder{}
			tr := newTestTransport(t, newFake(clock), clock, rec, tt.opts...)
			body := &closeSpy{Reader: strings.NewReader("x")}
			req, _ := http.NewRequest(http.MethodPost, tt.url, body)
			resp, err := tr.RoundTrip(req)
			if tt.wantErr {
				require.ErrorIs(t, err, authorizer.ErrInsecureTransport)
				assert.True(t, body.closed, "body closed on error")
				assert.Zero(t, rec.count(), "nothing sent")
				return
			}
			require.NoError(t, err)
			resp.Body.Close()
		})
	}
}

// Rule 8: the caller's request is not modified, and the body of a request
// that fails before sending is closed.
func TestRequestIsNotModified(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	tr := newTestTransport(t, f, clock, &recorder{})
	req, _ := http.NewRequest(http.MethodGet, api, nil)
	req.Header.Set("X-Trace", "1")
	before := req.Header.Clone()
	get(t, tr, api)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, before, req.Header)

	f.fail(&authorizer.AuthorizationError{StatusCode: 500})
	tr2 := newTestTransport(t, f, clock, &recorder{})
	body := &closeSpy{Reader: strings.NewReader("x")}
	req2, _ := http.NewRequest(http.MethodPost, api, body)
	_, err = tr2.RoundTrip(req2)
	require.Error(t, err)
	assert.True(t, body.closed)
}

// Rule 9: a Transport serves as an oauth2.TokenSource, and an
// oauth2.TokenSource serves as an Authorizer.
func TestTokenSourceInterop(t *testing.T) {
	static := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "static", TokenType: "Bearer"})
	rec := &recorder{}
	tr := NewTransport(FromTokenSource(static), WithBase(rec))
	defer tr.Close()
	tok, err := tr.TokenSource(context.Background()).Token()
	require.NoError(t, err)
	assert.Equal(t, "static", tok.AccessToken)
	get(t, tr, api)
	assert.Equal(t, "Bearer static", rec.requests[0].Header.Get("Authorization"))
}

// Rule 10: logs and events never carry a token or a secret.
func TestLogsCarryNoSecrets(t *testing.T) {
	clock := newClock()
	f := newFake(clock)
	var buf syncBuffer // events are emitted from the token-request goroutine
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var events eventLog
	tr := newTestTransport(t, &apiKeyAuthorizer{f}, clock, &recorder{}, WithLogger(logger), WithHook(events.add))
	get(t, tr, api)
	f.fail(&authorizer.InvalidClientError{ClientID: "svc"})
	clock.Advance(59 * time.Minute)
	_, _ = tr.Token(context.Background())
	// Waiters are released before events are emitted: wait for the last one.
	require.Eventually(t, func() bool { return strings.Contains(buf.String(), "token backoff") }, 5*time.Second, time.Millisecond)
	// The first request's "fetched" is emitted after its waiter was
	// released, so it too may come late.
	require.Eventually(t, func() bool { return strings.Contains(buf.String(), "token fetched") }, 5*time.Second, time.Millisecond)
	out := buf.String()
	assert.Contains(t, out, "token failed")
	for _, secret := range []string{"token-1", "key-secret", "client-secret"} {
		assert.NotContains(t, out, secret)
	}
	assert.True(t, events.has(EventFetched, false))
}

// apiKeyAuthorizer adds a ClientInfo with an API key to a fake.
type apiKeyAuthorizer struct{ *fakeAuthorizer }

func (a *apiKeyAuthorizer) ClientInfo() data.ClientInfo {
	return data.ClientInfo{ClientID: "svc", ClientSecret: "client-secret", APIKey: "key-secret"}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type closeSpy struct {
	io.Reader
	closed bool
}

func (c *closeSpy) Close() error { c.closed = true; return nil }
