package oauth2auth

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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

// metadataServer serves OpenID discovery (counting fetches; gate, when set,
// holds each fetch until it is closed) and a token endpoint that names the
// current generation of the metadata in its token.
type metadataServer struct {
	*httptest.Server
	fetches    atomic.Int32
	generation atomic.Int32
	gate       chan struct{}
}

func newMetadataServer(t *testing.T) *metadataServer {
	m := &metadataServer{}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			m.fetches.Add(1)
			if m.gate != nil {
				<-m.gate
			}
			fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":"%s/token%d"}`, m.URL, m.URL, m.generation.Load())
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"access_token":"at-%s","token_type":"Bearer","expires_in":60}`, strings.TrimPrefix(r.URL.Path, "/"))
		}
	}))
	t.Cleanup(m.Close)
	return m
}

// Issue 18 item 12: N concurrent first calls share one discovery.
func TestDiscoveryRunsOncePerAuthorizer(t *testing.T) {
	m := newMetadataServer(t)
	m.gate = make(chan struct{})
	a, err := NewServiceAccountAuthorizer(optSecret, Environment{Issuer: m.URL})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			_, err := a.Authorize(context.Background())
			assert.NoError(t, err)
		})
	}
	require.Eventually(t, func() bool { return m.fetches.Load() == 1 }, 10*time.Second, time.Millisecond)
	close(m.gate)
	wg.Wait()
	assert.EqualValues(t, 1, m.fetches.Load())
}

// Issue 18 item 12: a caller waiting for another's discovery leaves when
// its ctx ends.
func TestDiscoveryWaitHonoursContext(t *testing.T) {
	m := newMetadataServer(t)
	m.gate = make(chan struct{})
	defer close(m.gate)
	// No client timeout: the first discovery blocks until the test ends.
	a, err := NewServiceAccountAuthorizer(optSecret, Environment{Issuer: m.URL}, WithHTTPClient(&http.Client{}))
	require.NoError(t, err)
	go func() { _, _ = a.Authorize(context.Background()) }() // holds the discovery
	require.Eventually(t, func() bool { return m.fetches.Load() == 1 }, 10*time.Second, time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	go func() { _, err := a.Authorize(ctx); done <- err }()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second): // a watchdog, not a margin: the call must not wait for the discovery at all
		t.Fatal("a caller with a canceled ctx waited for another caller's discovery")
	}
}

// Issue 18 item 12: the service account's discovered environment is
// fetched again after DiscoveryTTL (before, it was kept forever).
func TestServiceAccountRediscoversAfterTTL(t *testing.T) {
	m := newMetadataServer(t)
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	a, err := NewServiceAccountAuthorizer(optSecret, Environment{Issuer: m.URL}, WithClock(clock))
	require.NoError(t, err)
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "at-token0", tok.AccessToken)

	m.generation.Store(1) // the provider moves its token endpoint
	now.Add(int64(DiscoveryTTL - time.Second))
	tok, err = a.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "at-token0", tok.AccessToken, "within the TTL the discovered endpoint is kept")
	now.Add(int64(2 * time.Second))
	tok, err = a.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "at-token1", tok.AccessToken, "after the TTL the metadata is fetched again")
	assert.EqualValues(t, 2, m.fetches.Load())
	assert.Equal(t, m.URL+"/token1", a.Environment().TokenURL)
}

// Issue 18 item 20: no process-wide discovery cache; a new authorizer sees
// the provider's current metadata (before, a second authorizer, or a
// second test run, got the first one's).
func TestDiscoveryIsNotProcessWide(t *testing.T) {
	m := newMetadataServer(t)
	for gen := range int32(3) {
		m.generation.Store(gen)
		a, err := NewServiceAccountAuthorizer(optSecret, Environment{Issuer: m.URL})
		require.NoError(t, err)
		tok, err := a.Authorize(context.Background())
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("at-token%d", gen), tok.AccessToken)
	}
	assert.EqualValues(t, 3, m.fetches.Load(), "one discovery per authorizer")
}

// Issue 16 item 1: discovery does not follow a redirect (an https issuer
// redirecting to plain http on another host).
func TestDiscoveryDoesNotFollowRedirects(t *testing.T) {
	var hit atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Store(true) }))
	defer other.Close()
	idp := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusMovedPermanently)
	}))
	defer idp.Close()
	_, err := Environment{Issuer: idp.URL}.Discover(context.Background(), idp.Client())
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.Contains(t, err.Error(), "redirect")
	assert.False(t, hit.Load(), "the redirect target was fetched")
}

// Issue 16 item 5: an https issuer's metadata may not name plain-http
// endpoints, not even loopback ones.
func TestHTTPSIssuerEndpointsMustBeHTTPS(t *testing.T) {
	idp := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"issuer":"https://%s","token_endpoint":"http://127.0.0.1:1/token"}`, r.Host)
	}))
	defer idp.Close()
	_, err := Environment{Issuer: idp.URL}.Discover(context.Background(), idp.Client())
	var ce *authorizer.InvalidConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "oauth2auth: discovered token_endpoint", ce.Setting)
}

// Issue 17 item 3: an issuer without discovery documents (often a token
// URL given as Issuer) gets a hint at TokenURL and keeps the status.
func TestDiscoveryNotFoundSuggestsTokenURL(t *testing.T) {
	idp := httptest.NewServer(http.NotFoundHandler())
	defer idp.Close()
	_, err := Environment{Issuer: idp.URL + "/oauth2/token"}.Discover(context.Background(), nil)
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, http.StatusNotFound, ae.StatusCode)
	assert.Contains(t, ae.Error(), "set Environment.TokenURL")
}

// Issue 17 item 3: "see InsecureAllowHTTP" names the package.
func TestPlainHTTPErrorNamesThePackage(t *testing.T) {
	_, err := NewServiceAccountAuthorizer(optSecret, Environment{TokenURL: "http://idp.example/token"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "see oauth2auth.InsecureAllowHTTP")
}

// Issue 16 item 13: CognitoEnvironment refuses a region or domain that
// would move the endpoints to another host.
func TestCognitoEnvironmentChecksSyntax(t *testing.T) {
	tests := []struct {
		name, domain, region string
		ok                   bool
	}{
		{"prefix", "my-pool", "eu-west-1", true},
		{"gov region", "my-pool", "us-gov-west-1", true},
		{"custom domain", "auth.example.com", "", true},
		{"region with host", "my-pool", "eu-west-1.attacker.example/x", false},
		{"region with slash", "my-pool", "eu-west-1/x", false},
		{"prefix with slash", "a/b", "eu-west-1", false},
		{"prefix with at", "a@evil", "eu-west-1", false},
		{"upper-case prefix", "MyPool", "eu-west-1", false},
		{"custom with path", "auth.example.com/x", "", false},
		{"custom with port", "auth.example.com:444", "", false},
		{"empty", "", "eu-west-1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := CognitoEnvironment("c", tt.domain, tt.region)
			err := env.Validate(false)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			var ce *authorizer.InvalidConfigError
			require.ErrorAs(t, err, &ce)
			_, err = NewServiceAccountAuthorizer(optSecret, env)
			require.ErrorAs(t, err, &ce, "the constructor refuses it too")
		})
	}
}

// Issue 16 item 11: the device prompt shows only https verification URIs
// (loopback http for tests), and verification_uri_complete on the same
// host.
func TestDeviceVerificationURIRules(t *testing.T) {
	tests := []struct {
		name, uri, complete string
		ok                  bool
	}{
		{"https", "https://idp.example/device", "https://idp.example/device?user_code=A", true},
		{"loopback http", "http://127.0.0.1:9/device", "", true},
		{"plain http elsewhere", "http://idp.example/device", "", false},
		{"complete on another host", "https://idp.example/device", "https://evil.example/device?user_code=A", false},
		{"complete downgraded", "https://idp.example/device", "http://idp.example/device?user_code=A", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := fmt.Sprintf(`{"device_code":"dc","user_code":"A","verification_uri":%q,"verification_uri_complete":%q}`, tt.uri, tt.complete)
			_, err := parseDeviceAuth(http.StatusOK, http.Header{}, []byte(body), time.Now())
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

// Issue 16 item 6: the browser callback's error fields reach the caller
// without control characters and without a character cut in half.
func TestCallbackErrorIsCleaned(t *testing.T) {
	s := &loopbackServer{}
	desc := "bad\x1b[2J\r\nline " + strings.Repeat("é", 300)
	res := s.check(map[string][]string{"error": {"access_denied\x07"}, "error_description": {desc}})
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, res.err, &ae)
	for _, f := range []string{ae.Code, ae.Description} {
		assert.NotContains(t, f, "\x1b")
		assert.NotContains(t, f, "\n")
		assert.NotContains(t, f, "\x07")
		assert.True(t, !strings.ContainsRune(f, '\uFFFD'), "a character was cut in half: %q", f)
	}
}

// Issue 17 item 3: a renewal refused because the session has no refresh
// token says that offline_access is needed.
func TestNoRefreshTokenMentionsOfflineAccess(t *testing.T) {
	f := newFakeIdP(t)
	var prompts []DevicePrompt
	a := newTestDevice(t, f, &prompts)
	_, err := a.Refresh(context.Background(), &oauth2.Token{AccessToken: "x", Expiry: time.Now().Add(-time.Hour)})
	var refused *authorizer.InvalidCredentialsError
	require.ErrorAs(t, err, &refused)
	assert.Contains(t, refused.Error(), "offline_access")
	assert.Empty(t, prompts)
}

// Issue 17 item 3: a sign-in cut short by the caller's deadline (the
// Transport's fetch timeout) says so and what tools do instead.
func TestSignInDeadlineIsExplained(t *testing.T) {
	f := newFakeIdP(t)
	f.pending = 1 << 20 // never approved
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	endDeadline := func(context.Context, DevicePrompt) error { cancel(); return nil } // the sign-in has started
	a := newTestDevice(t, f, new([]DevicePrompt), WithDevicePrompt(endDeadline))
	_, err := a.Authorize(deadlineCtx{ctx})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "interactive device sign-in was in progress")
	assert.Contains(t, err.Error(), "call Authorize or SignIn with their own context")
}

// deadlineCtx reports DeadlineExceeded when its parent is canceled: the
// deadline of a Transport's fetch timeout, ended by the test instead of
// the clock.
type deadlineCtx struct{ context.Context }

func (c deadlineCtx) Err() error {
	if c.Context.Err() != nil {
		return context.DeadlineExceeded
	}
	return nil
}
