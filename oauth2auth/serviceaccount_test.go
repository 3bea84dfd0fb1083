package oauth2auth_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

const (
	saID     = "svc:account"
	saSecret = "s:e/c+r&e=t% x"
	saToken  = "sa-access-token-SECRET"
)

var saInfo = data.ClientInfo{ClientID: saID, ClientSecret: saSecret}

// saEndpoint is a fake token endpoint that records what it received.
type saEndpoint struct {
	*httptest.Server
	requests atomic.Int32
	mu       sync.Mutex // guards last*
	lastForm url.Values
	lastAuth string
	body     string // the answer; tokenBody by default
	status   int
}

func newSAEndpoint(t *testing.T) *saEndpoint {
	t.Helper()
	e := &saEndpoint{status: http.StatusOK,
		body: `{"access_token":"` + saToken + `","token_type":"Bearer","expires_in":3600}`}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.requests.Add(1)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("got %s %q; want POST application/x-www-form-urlencoded", r.Method, r.Header.Get("Content-Type"))
		}
		_ = r.ParseForm()
		e.mu.Lock()
		e.lastForm, e.lastAuth = r.PostForm, r.Header.Get("Authorization")
		e.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(e.status)
		fmt.Fprint(w, e.body)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *saEndpoint) env() oauth2auth.Environment {
	return oauth2auth.Environment{Name: "test", TokenURL: e.URL + "/token"}
}

func (e *saEndpoint) last() (url.Values, string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastForm, e.lastAuth
}

func TestNewServiceAccountAuthorizerInvalid(t *testing.T) {
	key := testKey(t)
	tests := []struct {
		name    string
		info    data.ClientInfo
		env     oauth2auth.Environment
		opts    []oauth2auth.Option
		setting string // "" means no error
	}{
		{name: "valid", info: saInfo, env: oauth2auth.Environment{TokenURL: "https://idp.example/token"}},
		{name: "issuer only", info: saInfo, env: oauth2auth.Environment{Issuer: "https://idp.example"}},
		{name: "no client id", info: data.ClientInfo{ClientSecret: "s"}, env: oauth2auth.Environment{TokenURL: "https://idp.example/token"},
			setting: "oauth2auth: ClientInfo.ClientID"},
		{name: "no secret", info: data.ClientInfo{ClientID: "id"}, env: oauth2auth.Environment{TokenURL: "https://idp.example/token"},
			setting: "oauth2auth: ClientInfo.ClientSecret"},
		{name: "auth none", info: saInfo, env: oauth2auth.Environment{TokenURL: "https://idp.example/token"},
			opts: []oauth2auth.Option{oauth2auth.WithClientAuth(oauth2auth.ClientAuthNone)}, setting: "oauth2auth: ClientInfo.ClientSecret"},
		{name: "post without secret", info: data.ClientInfo{ClientID: "id"}, env: oauth2auth.Environment{TokenURL: "https://idp.example/token"},
			opts: []oauth2auth.Option{oauth2auth.WithClientAuth(oauth2auth.ClientSecretPost)}, setting: "oauth2auth: ClientInfo.ClientSecret"},
		{name: "unknown auth", info: saInfo, env: oauth2auth.Environment{TokenURL: "https://idp.example/token"},
			opts: []oauth2auth.Option{oauth2auth.WithClientAuth(oauth2auth.ClientAuth(42))}, setting: "oauth2auth: WithClientAuth"},
		{name: "private key jwt without secret", info: data.ClientInfo{ClientID: "id"},
			env: oauth2auth.Environment{TokenURL: "https://idp.example/token"}, opts: []oauth2auth.Option{oauth2auth.WithPrivateKeyJWT(key, "k")}},
		{name: "nil http client means the default", info: saInfo, env: oauth2auth.Environment{TokenURL: "https://idp.example/token"},
			opts: []oauth2auth.Option{oauth2auth.WithHTTPClient(nil)}},
		{name: "no token url no issuer", info: saInfo, env: oauth2auth.Environment{Name: "prod", Scopes: []string{"a"}},
			setting: `oauth2auth: Environment "prod"`},
		{name: "plain http non-loopback", info: saInfo, env: oauth2auth.Environment{TokenURL: "http://idp.example/token"},
			setting: "oauth2auth: Environment.TokenURL"},
		{name: "plain http issuer non-loopback", info: saInfo, env: oauth2auth.Environment{Issuer: "http://idp.example"},
			setting: "oauth2auth: Environment.Issuer"},
		{name: "plain http allowed by option", info: saInfo, env: oauth2auth.Environment{TokenURL: "http://idp.example/token"},
			opts: []oauth2auth.Option{oauth2auth.InsecureAllowHTTP()}},
		{name: "plain http loopback", info: saInfo, env: oauth2auth.Environment{TokenURL: "http://127.0.0.1:9/token"}},
		{name: "plain http localhost", info: saInfo, env: oauth2auth.Environment{TokenURL: "http://localhost:9/token"}},
		{name: "plain http ipv6 loopback", info: saInfo, env: oauth2auth.Environment{TokenURL: "http://[::1]:9/token"}},
		{name: "relative token url", info: saInfo, env: oauth2auth.Environment{TokenURL: "/token"},
			setting: "oauth2auth: Environment.TokenURL"},
		{name: "ftp token url", info: saInfo, env: oauth2auth.Environment{TokenURL: "ftp://idp.example/token"},
			setting: "oauth2auth: Environment.TokenURL"},
		{name: "user info in url", info: saInfo, env: oauth2auth.Environment{TokenURL: "https://u:pw@idp.example/token"},
			setting: "oauth2auth: Environment.TokenURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := oauth2auth.NewServiceAccountAuthorizer(tt.info, tt.env, tt.opts...)
			if tt.setting == "" {
				require.NoError(t, err)
				require.NotNil(t, a)
				return
			}
			var ce *authorizer.InvalidConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.setting, ce.Setting)
			assert.Nil(t, a)
			assert.NotContains(t, err.Error(), saSecret)
			assert.NotContains(t, err.Error(), "pw@")
		})
	}
}

func TestServiceAccountAuthorizeOnTheWire(t *testing.T) {
	tests := []struct {
		name  string
		opts  []oauth2auth.Option
		check func(t *testing.T, form url.Values, auth string)
	}{
		{name: "basic by default", check: func(t *testing.T, form url.Values, auth string) {
			r := &http.Request{Header: http.Header{"Authorization": {auth}}}
			id, secret, ok := r.BasicAuth()
			require.True(t, ok, "Authorization %q is not Basic", auth)
			assert.Equal(t, url.QueryEscape(saID), id)
			assert.Equal(t, url.QueryEscape(saSecret), secret)
			assert.Empty(t, form["client_secret"])
		}},
		{name: "post", opts: []oauth2auth.Option{oauth2auth.WithClientAuth(oauth2auth.ClientSecretPost)},
			check: func(t *testing.T, form url.Values, auth string) {
				assert.Empty(t, auth)
				assert.Equal(t, saID, form.Get("client_id"))
				assert.Equal(t, saSecret, form.Get("client_secret"))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := newSAEndpoint(t)
			env := ep.env()
			env.Scopes = []string{"api:read", "api:write"}
			env.Audience = "https://api.example"
			env.Resources = []string{"urn:a", "urn:b"}
			env.Params = url.Values{"tenant": {"t1"}, "grant_type": {"password"}}
			a, err := oauth2auth.NewServiceAccountAuthorizer(saInfo, env, tt.opts...)
			require.NoError(t, err)
			tok, err := a.Authorize(context.Background())
			require.NoError(t, err)
			assert.Equal(t, saToken, tok.AccessToken)
			assert.Equal(t, saInfo, a.ClientInfo())
			form, auth := ep.last()
			assert.Equal(t, "client_credentials", form.Get("grant_type"), "grant_type cannot be overridden by Params")
			assert.Equal(t, "api:read api:write", form.Get("scope"))
			assert.Equal(t, "https://api.example", form.Get("audience"))
			assert.Equal(t, []string{"urn:a", "urn:b"}, form["resource"])
			assert.Equal(t, "t1", form.Get("tenant"))
			tt.check(t, form, auth)
		})
	}
}

func TestServiceAccountExpiryAndRefresh(t *testing.T) {
	ep := newSAEndpoint(t)
	ep.body = `{"access_token":"` + saToken + `","token_type":"Bearer"}` // no expires_in
	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	var clock atomic.Pointer[time.Time]
	clock.Store(&now)
	a, err := oauth2auth.NewServiceAccountAuthorizer(saInfo, ep.env(),
		oauth2auth.WithDefaultLifetime(10*time.Minute), oauth2auth.WithClock(func() time.Time { return *clock.Load() }))
	require.NoError(t, err)
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, now.Add(10*time.Minute), tok.Expiry, "default lifetime, never forever")
	assert.False(t, a.Expired(tok))
	almost := now.Add(10*time.Minute - data.ExpirationGap)
	clock.Store(&almost)
	assert.True(t, a.Expired(tok), "expired once only ExpirationGap remains")
	assert.True(t, a.Expired(nil))

	tok2, err := a.Refresh(context.Background(), tok)
	require.NoError(t, err)
	assert.NotSame(t, tok, tok2)
	assert.EqualValues(t, 2, ep.requests.Load(), "refresh is a new client-credentials grant")
	form, _ := ep.last()
	assert.Equal(t, "client_credentials", form.Get("grant_type"))
}

func TestServiceAccountTypedErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		check  func(t *testing.T, err error)
	}{
		{name: "invalid_client", status: 401, body: `{"error":"invalid_client"}`, check: func(t *testing.T, err error) {
			var e *authorizer.InvalidClientError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, saID, e.ClientID)
		}},
		{name: "unavailable", status: 503, body: `{"error":"temporarily_unavailable"}`, check: func(t *testing.T, err error) {
			var e *authorizer.AuthorizationError
			require.ErrorAs(t, err, &e)
			assert.True(t, e.Temporary())
		}},
		{name: "html", status: 200, body: `<html>login</html>`, check: func(t *testing.T, err error) {
			var e *authorizer.AuthorizationError
			require.ErrorAs(t, err, &e)
			assert.Contains(t, e.Error(), "HTML")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ep := newSAEndpoint(t)
			ep.status, ep.body = tt.status, tt.body
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			a, err := oauth2auth.NewServiceAccountAuthorizer(saInfo, ep.env(), oauth2auth.WithLogger(logger))
			require.NoError(t, err)
			_, err = a.Authorize(context.Background())
			require.Error(t, err)
			tt.check(t, err)
			assert.NotContains(t, err.Error(), saSecret)
			assert.NotContains(t, logs.String(), saSecret)
			assert.Contains(t, logs.String(), "token request failed")
		})
	}
}

func TestServiceAccountLogsNoSecrets(t *testing.T) {
	ep := newSAEndpoint(t)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := oauth2auth.NewServiceAccountAuthorizer(saInfo, ep.env(), oauth2auth.WithLogger(logger))
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	require.NoError(t, err)
	out := logs.String()
	assert.Contains(t, out, data.Fingerprint(saToken))
	assert.NotContains(t, out, saToken)
	assert.NotContains(t, out, saSecret)
	assert.NotContains(t, out, url.QueryEscape(saSecret))
}

func TestServiceAccountCanceled(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	a, err := oauth2auth.NewServiceAccountAuthorizer(saInfo, oauth2auth.Environment{TokenURL: srv.URL})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-entered; cancel() }()
	_, err = a.Authorize(ctx)
	require.ErrorIs(t, err, context.Canceled)
}

// TestServiceAccountDiscoveryOnce: with only an Issuer, many concurrent
// first calls discover the token endpoint once.
func TestServiceAccountDiscoveryOnce(t *testing.T) {
	ep := newSAEndpoint(t)
	var discoveries atomic.Int32
	release := make(chan struct{})
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		discoveries.Add(1)
		<-release // hold discovery so all callers pile up
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":%q}`, "http://"+r.Host, ep.URL+"/token")
	}))
	defer idp.Close()
	a, err := oauth2auth.NewServiceAccountAuthorizer(saInfo, oauth2auth.Environment{Issuer: idp.URL})
	require.NoError(t, err)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := a.Authorize(context.Background())
			errs <- err
		})
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	assert.EqualValues(t, 1, discoveries.Load(), "discovery requests")
	assert.EqualValues(t, n, ep.requests.Load(), "token requests")
	assert.Equal(t, ep.URL+"/token", a.Environment().TokenURL)
}

func testKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

// TestServiceAccountThroughTransport: many concurrent first requests
// through base.NewTransport share one client-credentials grant, and
// closing the Transport leaves no goroutine behind.
func TestServiceAccountThroughTransport(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) }) // runs last, after the servers close
	ep := newSAEndpoint(t)
	slow := ep.Config.Handler
	ep.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond) // all callers arrive while the grant is in flight
		slow.ServeHTTP(w, r)
	})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+saToken || r.Header.Get("X-Api-Key") != "api-key-value" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer api.Close()
	info := saInfo
	info.APIKey = "api-key-value"
	a, err := oauth2auth.NewServiceAccountAuthorizer(info, ep.env())
	require.NoError(t, err)
	transport := base.NewTransport(a)
	client := &http.Client{Transport: transport}
	const n = 50
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range n {
		wg.Go(func() {
			resp, err := client.Get(api.URL)
			if err != nil || resp.StatusCode != http.StatusOK {
				failed.Add(1)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	require.NoError(t, transport.Close())
	assert.Zero(t, failed.Load(), "failed requests")
	assert.EqualValues(t, 1, ep.requests.Load(), "token requests")
}
