package oauth2auth_test

// Integration tests against the real oidc-provider started by
// scripts/peers/oidc-provider/start.sh (see scripts/test.sh):
// AUTHORIZER_OIDC_ISSUER is an instance with the default token TTL,
// AUTHORIZER_OIDC_SHORT_ISSUER one started with ACCESS_TOKEN_TTL=5.

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/internal/peertest"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The peer's API resource (RFC 8707): tokens for it are RS256 JWTs.
const (
	peerResource = "urn:sdk-test:api"
	peerScope    = "api:read"
)

// peerClients are the peer's confidential clients.
var (
	peerBasic   = data.ClientInfo{ClientID: "sdk-cc-basic", ClientSecret: "sdk-cc-basic-secret"}
	peerPost    = data.ClientInfo{ClientID: "sdk-cc-post", ClientSecret: "sdk-cc-post-secret"}
	peerSpecial = data.ClientInfo{ClientID: "sdk-cc-special", ClientSecret: "s:e/c+r&e=t% x"}
	peerLimited = data.ClientInfo{ClientID: "sdk-cc-limited", ClientSecret: "sdk-cc-limited-secret"}
)

func apiEnv(issuer string) oauth2auth.Environment {
	return oauth2auth.Environment{Name: "peer", TokenURL: issuer + "/token",
		Scopes: []string{peerScope}, Resources: []string{peerResource}}
}

// apiVerifier verifies the peer's access tokens for the API resource with
// go-oidc against the peer's JWKS.
func apiVerifier(t *testing.T, issuer string) *oidc.IDTokenVerifier {
	t.Helper()
	ctx := context.Background()
	p, err := oidc.NewProvider(ctx, issuer)
	require.NoError(t, err)
	return p.VerifierContext(ctx, &oidc.Config{ClientID: peerResource})
}

func TestIntegrationClientAuthentication(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	verifier := apiVerifier(t, issuer)
	tests := []struct {
		name string
		info data.ClientInfo
		opts []oauth2auth.Option
	}{
		{name: "client_secret_basic", info: peerBasic},
		{name: "client_secret_post", info: peerPost, opts: []oauth2auth.Option{oauth2auth.WithClientAuth(oauth2auth.ClientSecretPost)}},
		{name: "reserved characters in secret", info: peerSpecial},
		{name: "reserved characters in secret, post", info: peerSpecial,
			opts: []oauth2auth.Option{oauth2auth.WithClientAuth(oauth2auth.ClientSecretPost)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := oauth2auth.NewServiceAccountAuthorizer(tt.info, apiEnv(issuer), tt.opts...)
			require.NoError(t, err)
			sent := time.Now()
			tok, err := a.Authorize(context.Background())
			done := time.Now()
			require.NoError(t, err)
			assert.False(t, a.Expired(tok))

			idt, err := verifier.Verify(context.Background(), tok.AccessToken)
			require.NoError(t, err, "access token does not verify against the peer's JWKS")
			var claims struct {
				ClientID string `json:"client_id"`
				Scope    string `json:"scope"`
			}
			require.NoError(t, idt.Claims(&claims))
			assert.Equal(t, []string{peerResource}, idt.Audience)
			assert.Equal(t, issuer, idt.Issuer)
			assert.Equal(t, tt.info.ClientID, idt.Subject)
			assert.Equal(t, tt.info.ClientID, claims.ClientID)
			assert.Equal(t, peerScope, claims.Scope)
			lifetime := idt.Expiry.Sub(idt.IssuedAt)
			assert.Equal(t, time.Duration(tok.ExpiresIn)*time.Second, lifetime, "expires_in matches exp - iat")
			assert.WithinDuration(t, idt.Expiry, tok.Expiry, 2*time.Second, "token Expiry matches the JWT's exp")
			assert.False(t, tok.Expiry.Before(sent.Add(lifetime)) || tok.Expiry.After(done.Add(lifetime)),
				"Expiry %v is not the request time + %v", tok.Expiry, lifetime)
			assert.Equal(t, peerScope, tok.Extra("scope"))
		})
	}
}

// TestIntegrationPeerRejectsRawBasic shows that the peer checks RFC 6749
// §2.3.1 encoding, so TestIntegrationClientAuthentication's special-secret
// row proves the SDK encodes: the raw secret in Basic is refused.
func TestIntegrationPeerRejectsRawBasic(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	req, err := http.NewRequest(http.MethodPost, issuer+"/token", strings.NewReader("grant_type=client_credentials"))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(peerSpecial.ClientID, peerSpecial.ClientSecret)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

// peerJWTKey is the private key of the peer's private_key_jwt client
// sdk-cc-jwt, derived from the seed its server.mjs documents (a test key).
func peerJWTKey() ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("authorizer sdk-cc-jwt test key; not a secret"))
	return ed25519.NewKeyFromSeed(seed[:])
}

func TestIntegrationPrivateKeyJWT(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	info := data.ClientInfo{ClientID: "sdk-cc-jwt"}
	a, err := oauth2auth.NewServiceAccountAuthorizer(info, apiEnv(issuer), oauth2auth.WithPrivateKeyJWT(peerJWTKey(), "sdk-cc-jwt-1"))
	require.NoError(t, err)
	for range 2 { // a fresh assertion (jti) per request: the peer refuses a replay
		tok, err := a.Authorize(context.Background())
		require.NoError(t, err)
		idt, err := apiVerifier(t, issuer).Verify(context.Background(), tok.AccessToken)
		require.NoError(t, err)
		assert.Equal(t, "sdk-cc-jwt", idt.Subject)
	}

	_, other, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	b, err := oauth2auth.NewServiceAccountAuthorizer(info, apiEnv(issuer), oauth2auth.WithPrivateKeyJWT(other, "sdk-cc-jwt-1"))
	require.NoError(t, err)
	_, err = b.Authorize(context.Background())
	var e *authorizer.InvalidClientError
	require.ErrorAs(t, err, &e, "an assertion signed with another key")
}

func TestIntegrationOpaqueTokenWithoutResource(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	a, err := oauth2auth.NewServiceAccountAuthorizer(peerBasic, oauth2auth.Environment{TokenURL: issuer + "/token"})
	require.NoError(t, err)
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 0, strings.Count(tok.AccessToken, "."), "without a resource the peer issues an opaque token")
	assert.Positive(t, tok.ExpiresIn)
}

func TestIntegrationRefusals(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	wrong := data.ClientInfo{ClientID: peerBasic.ClientID, ClientSecret: "wrong-secret-value"}
	tests := []struct {
		name  string
		info  data.ClientInfo
		env   oauth2auth.Environment
		opts  []oauth2auth.Option
		check func(t *testing.T, err error)
	}{
		{name: "wrong secret", info: wrong, env: apiEnv(issuer), check: func(t *testing.T, err error) {
			var e *authorizer.InvalidClientError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, peerBasic.ClientID, e.ClientID)
			assert.Equal(t, http.StatusUnauthorized, e.StatusCode)
			assert.Equal(t, "invalid_client", e.Code)
			assert.False(t, e.Temporary())
		}},
		{name: "wrong secret, post", info: wrong, env: apiEnv(issuer),
			opts: []oauth2auth.Option{oauth2auth.WithClientAuth(oauth2auth.ClientSecretPost)}, check: func(t *testing.T, err error) {
				var e *authorizer.InvalidClientError
				require.ErrorAs(t, err, &e)
			}},
		{name: "unknown client", info: data.ClientInfo{ClientID: "no-such-client", ClientSecret: "x"}, env: apiEnv(issuer),
			check: func(t *testing.T, err error) {
				var e *authorizer.InvalidClientError
				require.ErrorAs(t, err, &e)
				assert.Equal(t, "no-such-client", e.ClientID)
			}},
		{name: "grant not allowed for the client", info: peerLimited, env: apiEnv(issuer), check: func(t *testing.T, err error) {
			var e *authorizer.AuthorizationError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, http.StatusBadRequest, e.StatusCode)
			assert.Equal(t, "invalid_request", e.Code)
			assert.Contains(t, e.Description, "grant type is not allowed")
			assert.False(t, e.Temporary())
		}},
		{name: "unknown resource", info: peerBasic,
			env: oauth2auth.Environment{TokenURL: issuer + "/token", Resources: []string{"urn:sdk-test:other"}},
			check: func(t *testing.T, err error) {
				var e *authorizer.AuthorizationError
				require.ErrorAs(t, err, &e)
				assert.Equal(t, "invalid_target", e.Code)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := oauth2auth.NewServiceAccountAuthorizer(tt.info, tt.env, tt.opts...)
			require.NoError(t, err)
			tok, err := a.Authorize(context.Background())
			require.Error(t, err)
			assert.Nil(t, tok)
			tt.check(t, err)
			assert.NotContains(t, err.Error(), tt.info.ClientSecret)
			assert.True(t, strings.HasPrefix(err.Error(), "authorizer: ") || strings.HasPrefix(err.Error(), "oauth2auth: "), err.Error())
		})
	}
}

func TestIntegrationDiscoveryFromIssuer(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	env, err := oauth2auth.Environment{Issuer: issuer}.Discover(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, issuer+"/token", env.TokenURL)
	assert.Equal(t, issuer+"/auth", env.AuthURL)
	assert.Equal(t, issuer+"/device/auth", env.DeviceAuthURL)
	assert.Equal(t, issuer+"/token/revocation", env.RevocationURL)
	assert.Equal(t, issuer+"/jwks", env.JWKSURL)

	a, err := oauth2auth.NewServiceAccountAuthorizer(peerBasic, oauth2auth.Environment{Issuer: issuer,
		Scopes: []string{peerScope}, Resources: []string{peerResource}})
	require.NoError(t, err)
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	_, err = apiVerifier(t, issuer).Verify(context.Background(), tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, issuer+"/token", a.Environment().TokenURL)
}

// countingTransport counts token requests (POSTs to a path ending in
// /token) that pass through it.
type countingTransport struct {
	next   http.RoundTripper
	tokens atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/token") {
		c.tokens.Add(1)
	}
	return c.next.RoundTrip(r)
}

// protectedAPI is a resource server that accepts only requests whose bearer
// token verifies against the peer's JWKS with the API audience.
func protectedAPI(t *testing.T, verifier *oidc.IDTokenVerifier, refused *atomic.Int32) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			refused.Add(1)
			http.Error(w, "no bearer token", http.StatusUnauthorized)
			return
		}
		if _, err := verifier.Verify(r.Context(), raw); err != nil {
			refused.Add(1)
			http.Error(w, "invalid token", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestIntegrationShortLivedTokens sends requests for 15 s through
// base.NewClient with tokens that live 5 s: every request must succeed
// with a JWT the API verifies, tokens must be requested about once per
// refresh-ahead interval, and no request may wait on a refresh (every
// refresh after the first token runs in the background).
func TestIntegrationShortLivedTokens(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_SHORT_ISSUER")
	t.Parallel()
	const (
		duration = 15 * time.Second
		workers  = 4
		every    = 50 * time.Millisecond
	)
	var refused atomic.Int32
	api := protectedAPI(t, apiVerifier(t, issuer), &refused)

	counter := &countingTransport{next: http.DefaultTransport}
	a, err := oauth2auth.NewServiceAccountAuthorizer(peerBasic, apiEnv(issuer),
		oauth2auth.WithHTTPClient(&http.Client{Transport: counter, Timeout: 10 * time.Second}))
	require.NoError(t, err)

	var mu sync.Mutex // guards events
	var events []base.Event
	transport := base.NewTransport(a, base.WithHook(func(e base.Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	}))
	defer transport.Close()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}

	lifetime := firstTokenLifetime(t, transport)
	var sent, failed atomic.Int32
	var slowest atomic.Int64
	deadline := time.Now().Add(duration)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				start := time.Now()
				if err := get(client, api.URL); err != nil {
					failed.Add(1)
					t.Errorf("request failed: %v", err)
				}
				d := time.Since(start)
				for old := slowest.Load(); int64(d) > old && !slowest.CompareAndSwap(old, int64(d)); old = slowest.Load() {
				}
				sent.Add(1)
				time.Sleep(every)
			}
		})
	}
	wg.Wait()

	assert.Zero(t, failed.Load(), "failed requests")
	assert.Zero(t, refused.Load(), "requests the API refused")
	// Refresh ahead starts once less than lifetime/2 (+ up to 10% jitter)
	// remains, so a token serves at least lifetime - 0.55*lifetime.
	perToken := lifetime - lifetime*55/100
	maxTokens := int(math.Ceil(float64(duration)/float64(perToken))) + 1
	tokens := int(counter.tokens.Load())
	assert.LessOrEqual(t, tokens, maxTokens, "token requests")
	assert.GreaterOrEqual(t, tokens, int(duration/lifetime), "token requests")

	mu.Lock()
	defer mu.Unlock()
	var fetched, refreshed, foreground int
	for _, e := range events {
		switch e.Kind {
		case base.EventFetched:
			fetched++
		case base.EventRefreshed:
			refreshed++
			if !e.Background {
				foreground++
			}
		case base.EventFailed, base.EventBackoff, base.EventInvalidated:
			t.Errorf("unexpected event %v: %v", e.Kind, e.Err)
		}
	}
	assert.Equal(t, 1, fetched, "only the first token is fetched in the foreground")
	assert.Zero(t, foreground, "refreshes a request had to wait on")
	assert.Equal(t, tokens, fetched+refreshed, "every token request is reported")
	t.Logf("%d API requests in %v by %d workers, %d token requests (token lifetime %v), slowest request %v",
		sent.Load(), duration, workers, tokens, lifetime, time.Duration(slowest.Load()))
}

// firstTokenLifetime obtains the first token through the Transport and
// returns its lifetime.
func firstTokenLifetime(t *testing.T, tr *base.Transport) time.Duration {
	t.Helper()
	tok, err := tr.Token(context.Background())
	require.NoError(t, err)
	require.Positive(t, tok.ExpiresIn)
	return time.Duration(tok.ExpiresIn) * time.Second
}

func get(c *http.Client, url string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}
