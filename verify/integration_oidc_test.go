package verify_test

// Proofs against the real oidc-provider (scripts/peers/oidc-provider),
// which scripts/test.sh starts and names in AUTHORIZER_OIDC_ISSUER (and
// AUTHORIZER_OIDC_SHORT_ISSUER, 5 s tokens). The tests skip without it,
// and fail under AUTHORIZER_REQUIRE_PEERS=1.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/internal/peertest"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
	"github.com/seed-d44eba79/authorizer/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A client-credentials token with the resource indicator verifies through
// discovery; a Verifier for another audience refuses it.
func TestIntegrationOIDCDiscover(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	counter := newPeerCounter()
	defer counter.CloseIdleConnections()
	keys := verify.Discover(issuer, verify.WithHTTPClient(counter.client()))
	defer keys.Close()
	v, err := verify.New(keys, verify.Expect{Issuer: issuer, Audience: []string{peerResource}})
	require.NoError(t, err)
	other, err := verify.New(keys, verify.Expect{Issuer: issuer, Audience: []string{"urn:sdk-test:other"}})
	require.NoError(t, err)

	tok := peerToken(t, issuer)
	c, err := v.Verify(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, issuer, c.Issuer)
	assert.Equal(t, []string{peerResource}, c.Audience)
	assert.Equal(t, peerClient.ClientID, c.Subject)
	assert.Equal(t, peerClient.ClientID, c.ClientID)
	assert.True(t, c.HasScope(peerScope), "scopes %v", c.Scopes)
	assert.False(t, c.HasScope("api:write"), "scopes %v", c.Scopes)
	assert.WithinDuration(t, time.Now().Add(time.Minute), c.Expiry, 10*time.Second)
	var rest struct {
		Scope string `json:"scope"`
		JTI   string `json:"jti"`
	}
	require.NoError(t, c.Decode(&rest))
	assert.Equal(t, peerScope, rest.Scope)
	assert.Equal(t, c.ID, rest.JTI)

	_, err = other.Verify(context.Background(), tok)
	var ite *authorizer.InvalidTokenError
	require.ErrorAs(t, err, &ite, "a token for %s passes a Verifier for another audience", peerResource)
	assert.ErrorIs(t, err, authorizer.ErrTokenAudience)
	assert.NotContains(t, err.Error(), tok)

	assert.Equal(t, 1, counter.count("/.well-known/openid-configuration"), "discovery is looked up once")
	assert.Equal(t, 1, counter.count("/jwks"), "both Verifiers share one fetch of the keys")
}

// A provider restarted with a new signing key: its next token is accepted
// after one refresh of the keys (once the minimum refresh interval has
// passed), and a token of the old key is refused, even though the
// Verifier had cached it as valid. The project's peer keeps its kid across
// restarts ("same kid"); a provider that rotates properly names the new
// key anew ("new kid").
func TestIntegrationOIDCRestartedProvider(t *testing.T) {
	peertest.Env(t, "AUTHORIZER_OIDC_ISSUER") // the peer is installed
	for _, tt := range []struct{ name, kid string }{{"new kid", "peer-rs256-restarted"}, {"same kid", ""}} {
		t.Run(tt.name, func(t *testing.T) { checkRestart(t, tt.kid) })
	}
}

func checkRestart(t *testing.T, newKid string) {
	p := startPeerProvider(t)
	issuer := p.issuer()
	clock := newPeerClock()
	counter := newPeerCounter()
	defer counter.CloseIdleConnections()
	keys := verify.Discover(issuer, verify.WithHTTPClient(counter.client()), verify.WithClock(clock.Now))
	defer keys.Close()
	v, err := verify.New(keys, verify.Expect{Issuer: issuer, Audience: []string{peerResource}}, verify.WithClock(clock.Now))
	require.NoError(t, err)

	before := peerToken(t, issuer)
	_, err = v.Verify(context.Background(), before)
	require.NoError(t, err)
	require.Equal(t, 1, counter.count("/jwks"))

	p.restart(newKid)
	clock.Advance(verify.DefaultMinRefreshInterval + time.Second)
	after := peerToken(t, issuer)
	_, err = v.Verify(context.Background(), after)
	require.NoError(t, err, "the restarted provider's token (new key, kid %q; empty: the kid of the old key) is refused", newKid)
	assert.Equal(t, 2, counter.count("/jwks"), "accepted after exactly one refresh")
	assert.Equal(t, 1, counter.count("/.well-known/openid-configuration"))

	_, err = v.Verify(context.Background(), before)
	assert.True(t, errors.Is(err, authorizer.ErrTokenSignature) || errors.Is(err, authorizer.ErrTokenUnknownKey),
		"a token of the replaced key must be refused (cache entries end with their key): %v", err)
	_, err = v.Verify(context.Background(), after)
	assert.NoError(t, err)
	assert.Equal(t, 2, counter.count("/jwks"), "the old token costs no further fetch inside the interval")
}

// The short-TTL provider's token (5 s): verified and cached, then refused
// once the clock passes its exp, although the cache still holds it.
func TestIntegrationOIDCExpiryBeatsCache(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_SHORT_ISSUER")
	clock := newPeerClock()
	counter := newPeerCounter()
	defer counter.CloseIdleConnections()
	keys := verify.Discover(issuer, verify.WithHTTPClient(counter.client()))
	defer keys.Close()
	v, err := verify.New(keys, verify.Expect{Issuer: issuer, Audience: []string{peerResource}},
		verify.WithClock(clock.Now), verify.WithExpiryLeeway(0))
	require.NoError(t, err)
	tok := peerToken(t, issuer)
	c, err := v.Verify(context.Background(), tok)
	require.NoError(t, err)
	require.Equal(t, 5*time.Second, c.Expiry.Sub(c.IssuedAt), "the short-TTL peer's tokens live 5 s")
	_, err = v.Verify(context.Background(), tok)
	require.NoError(t, err)

	clock.Advance(c.Expiry.Sub(clock.Now()))
	_, err = v.Verify(context.Background(), tok)
	assert.ErrorIs(t, err, authorizer.ErrTokenExpired, "a cached token outlives its exp")
}

// The SDK on both sides against the real provider: a service-account
// client (base.NewClient) calls an API behind verify.Middleware whose keys
// come through discovery; the route needing a scope the token lacks
// answers 403 and the SDK does not replay it.
func TestIntegrationOIDCMiddleware(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	keys := verify.Discover(issuer)
	defer keys.Close()
	v, err := verify.New(keys, verify.Expect{Issuer: issuer, Audience: []string{peerResource}})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("GET /read", verify.Middleware(v, verify.RequireScope(peerScope))(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, verify.ClaimsFrom(r.Context()).ClientID)
		})))
	mux.Handle("GET /write", verify.Middleware(v, verify.RequireScope("api:write"))(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) { t.Error("a token without api:write reached the handler") })))
	api := httptest.NewServer(mux)
	defer api.Close()

	env := oauth2auth.Environment{Name: "peer", TokenURL: issuer + "/token", Scopes: []string{peerScope}, Resources: []string{peerResource}}
	a, err := oauth2auth.NewServiceAccountAuthorizer(peerClient, env)
	require.NoError(t, err)
	client := base.NewClient(a)
	defer client.Transport.(*base.Transport).Close()

	for range 3 {
		resp, err := client.Get(api.URL + "/read")
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, peerClient.ClientID, string(body))
	}
	resp, err := client.Get(api.URL + "/write")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, `Bearer error="insufficient_scope", scope="api:write"`, resp.Header.Get("WWW-Authenticate"))
}
