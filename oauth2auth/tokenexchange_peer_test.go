package oauth2auth

// Proofs of the token exchange (RFC 8693) and of client assertions read from
// a file against the real oidc-provider, whose peer server registers the
// token-exchange grant (scripts/peers/oidc-provider/tokenexchange.mjs).

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/internal/peertest"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
	"github.com/seed-d44eba79/authorizer/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// The peer's clients for these proofs (server.mjs).
var (
	peerExchanger  = data.ClientInfo{ClientID: "sdk-exchange", ClientSecret: "sdk-exchange-secret"}
	peerAssertFile = "sdk-assert-file"
)

const serviceA = "urn:sdk-test:service-a"

// peerAssertionKey is the private key of sdk-assert-file, derived from the
// seed server.mjs documents (a test key).
func peerAssertionKey() ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("authorizer sdk-assert-file test key; not a secret"))
	return ed25519.NewKeyFromSeed(seed[:])
}

// peerVerifier verifies tokens for audience with the verify package
// against the peer's published keys.
func peerVerifier(t *testing.T, issuer, audience string) *verify.Verifier {
	t.Helper()
	keys := verify.Discover(issuer)
	v, err := verify.New(keys, verify.Expect{Issuer: issuer, Audience: []string{audience}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = v.Close(); _ = keys.Close() })
	return v
}

// claimsAct is the act claim of an exchanged token (RFC 8693 §4.1).
type claimsAct struct {
	Act struct {
		Sub string `json:"sub"`
	} `json:"act"`
}

func TestPeerTokenExchangeClientCredentialsToken(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	sa, err := NewServiceAccountAuthorizer(peerExchanger, Environment{Issuer: issuer})
	require.NoError(t, err)
	x, err := NewTokenExchangeAuthorizer(sa, Environment{Issuer: issuer},
		WithAudiences(serviceA), WithExtraScopes("orders:read"))
	require.NoError(t, err)
	ctx := context.Background()
	tok, err := x.Authorize(ctx)
	require.NoError(t, err)
	assert.Equal(t, TokenTypeAccessToken, tok.Extra("issued_token_type"))

	c, err := peerVerifier(t, issuer, serviceA).Verify(ctx, tok.AccessToken)
	require.NoError(t, err)
	assert.Equal(t, peerExchanger.ClientID, c.Subject, "the subject is the service account")
	assert.Equal(t, peerExchanger.ClientID, c.ClientID)
	assert.Equal(t, []string{serviceA}, c.Audience)
	assert.True(t, c.HasScope("orders:read"), "scopes %v", c.Scopes)

	_, err = peerVerifier(t, issuer, "urn:sdk-test:service-b").Verify(ctx, tok.AccessToken)
	assert.ErrorIs(t, err, authorizer.ErrTokenAudience, "scoped to service A only")
}

func TestPeerTokenExchangeUserToken(t *testing.T) {
	env := peerEnv(t, "openid", "offline_access")
	var prompts int
	user, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: nativeClient}, env,
		WithDevicePrompt(devicePrompter(t, env.Issuer, "alice", &prompts)), withPollInterval(200*time.Millisecond))
	require.NoError(t, err)
	service, err := NewServiceAccountAuthorizer(peerExchanger, Environment{Issuer: env.Issuer})
	require.NoError(t, err)
	x, err := NewTokenExchangeAuthorizer(user, Environment{Issuer: env.Issuer}, WithExchangeClient(peerExchanger),
		WithAudiences(serviceA), WithActorToken(service, ""), WithRequestedTokenType(TokenTypeJWT))
	require.NoError(t, err)

	// Through a Transport, as an application would use it.
	var got *verify.Claims
	v := peerVerifier(t, env.Issuer, serviceA)
	api := newVerifiedAPI(t, v, &got)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, api.URL, nil)
	require.NoError(t, err)
	tr := base.NewTransport(x)
	defer tr.Close()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, 1, prompts)
	require.NotNil(t, got)
	assert.Equal(t, "alice", got.Subject, "the subject is the signed-in user")
	assert.Equal(t, peerExchanger.ClientID, got.ClientID)
	var act claimsAct
	require.NoError(t, got.Decode(&act))
	assert.Equal(t, peerExchanger.ClientID, act.Act.Sub, "the service acts for alice")
	require.NoError(t, user.SignOut(ctx))
}

// newVerifiedAPI is a resource server that verifies the bearer token with v
// and records its claims.
func newVerifiedAPI(t *testing.T, v *verify.Verifier, got **verify.Claims) *httptest.Server {
	var mu sync.Mutex
	h := verify.Middleware(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*got = verify.ClaimsFrom(r.Context())
		mu.Unlock()
	}))
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

// flakySubject gives a token the server does not know first, then the
// real subject's: the exchange is refused once and must renew it.
type flakySubject struct {
	base.Authorizer
	mu       sync.Mutex // guards refreshes
	refreshs int
}

func (f *flakySubject) Authorize(context.Context) (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: "revoked-subject-token", Expiry: time.Now().Add(time.Hour)}, nil
}

func (f *flakySubject) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	f.mu.Lock()
	f.refreshs++
	f.mu.Unlock()
	return f.Authorizer.Authorize(ctx)
}

func TestPeerTokenExchangeRenewsRefusedSubject(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	sa, err := NewServiceAccountAuthorizer(peerExchanger, Environment{Issuer: issuer})
	require.NoError(t, err)
	subject := &flakySubject{Authorizer: sa}
	x, err := NewTokenExchangeAuthorizer(subject, Environment{Issuer: issuer}, WithExchangeClient(peerExchanger),
		WithAudiences(serviceA))
	require.NoError(t, err)
	tok, err := x.Authorize(context.Background())
	require.NoError(t, err, "the peer refused the first subject token with invalid_request; the renewed one is exchanged")
	assert.Equal(t, 1, subject.refreshs)
	_, err = peerVerifier(t, issuer, serviceA).Verify(context.Background(), tok.AccessToken)
	require.NoError(t, err)

	forbidden, err := NewTokenExchangeAuthorizer(sa, Environment{Issuer: issuer}, WithAudiences("urn:sdk-test:forbidden"))
	require.NoError(t, err)
	_, err = forbidden.Authorize(context.Background())
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "invalid_target", ae.Code)
}

// recorder is an http.RoundTripper that keeps the client_assertion of every
// token request, and runs after (if set) once the answer has arrived.
type recorder struct {
	mu         sync.Mutex // guards assertions, after
	assertions []string
	after      func(status int)
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	b, _ := io.ReadAll(body)
	form, _ := url.ParseQuery(string(b))
	resp, err := http.DefaultTransport.RoundTrip(req)
	r.mu.Lock()
	r.assertions = append(r.assertions, form.Get("client_assertion"))
	after := r.after
	r.mu.Unlock()
	if err == nil && after != nil {
		after(resp.StatusCode)
	}
	return resp, err
}

func (r *recorder) sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.assertions...)
}

// assertion signs a fresh client assertion for sdk-assert-file with key.
func assertion(t *testing.T, key ed25519.PrivateKey, issuer string) string {
	t.Helper()
	s, err := tokenwire.KeySigner{Key: key, KeyID: "sdk-assert-file-1"}.Sign(peerAssertFile, issuer+"/token", time.Now())
	require.NoError(t, err)
	return s
}

func TestPeerClientAssertionFile(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	path := filepath.Join(t.TempDir(), "assertion.jwt")
	rec := &recorder{}
	sa, err := NewServiceAccountAuthorizer(data.ClientInfo{ClientID: peerAssertFile}, Environment{TokenURL: issuer + "/token"},
		WithClientAssertionFile(path), WithHTTPClient(&http.Client{Transport: rec}))
	require.NoError(t, err)
	ctx := context.Background()

	first := assertion(t, peerAssertionKey(), issuer)
	writeFile(t, path, first)
	_, err = sa.Authorize(ctx)
	require.NoError(t, err)

	// The same file again: the peer refuses the replayed assertion (jti),
	// the file is re-read once, still the same, and the refusal returned.
	_, err = sa.Authorize(ctx)
	var ic *authorizer.InvalidClientError
	require.ErrorAs(t, err, &ic, "a replayed assertion")
	assert.NotContains(t, err.Error(), first)

	second := assertion(t, peerAssertionKey(), issuer)
	writeFile(t, path, second)
	_, err = sa.Authorize(ctx)
	require.NoError(t, err, "the rewritten file is used by the next request")
	assert.Equal(t, []string{first, first, first, second}, rec.sent())
}

func TestPeerClientAssertionFileRotatedAfterInvalidClient(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	path := filepath.Join(t.TempDir(), "assertion.jwt")
	_, otherKey, err := ed25519.GenerateKey(nil)
	require.NoError(t, err)
	stale := assertion(t, otherKey, issuer) // not the registered key: invalid_client
	fresh := assertion(t, peerAssertionKey(), issuer)
	writeFile(t, path, stale)
	rec := &recorder{}
	var once sync.Once
	rec.after = func(status int) { // the platform rotates the file just after the refusal
		if status == http.StatusUnauthorized || status == http.StatusBadRequest {
			once.Do(func() { writeFile(t, path, fresh) })
		}
	}
	sa, err := NewServiceAccountAuthorizer(data.ClientInfo{ClientID: peerAssertFile}, Environment{TokenURL: issuer + "/token"},
		WithClientAssertionFile(path), WithHTTPClient(&http.Client{Transport: rec}))
	require.NoError(t, err)
	_, err = sa.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{stale, fresh}, rec.sent())
}

func TestPeerTokenExchangeSubjectFileWithAssertionFile(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	dir := t.TempDir()
	subjectPath, assertionPath := filepath.Join(dir, "subject.jwt"), filepath.Join(dir, "assertion.jwt")
	subject, err := NewTokenFile(subjectPath)
	require.NoError(t, err)
	rec := &recorder{}
	x, err := NewTokenExchangeAuthorizer(subject, Environment{TokenURL: issuer + "/token"},
		WithExchangeClient(data.ClientInfo{ClientID: peerAssertFile}), WithClientAssertionFile(assertionPath),
		WithSubjectTokenType(TokenTypeAccessToken), WithAudiences(serviceA), WithHTTPClient(&http.Client{Transport: rec}))
	require.NoError(t, err)
	v := peerVerifier(t, issuer, serviceA)
	ctx := context.Background()
	// The platform writes a token of one client, then of another.
	for _, client := range []data.ClientInfo{peerExchanger, {ClientID: "sdk-cc-basic", ClientSecret: "sdk-cc-basic-secret"}} {
		sa, err := NewServiceAccountAuthorizer(client, Environment{TokenURL: issuer + "/token"})
		require.NoError(t, err)
		subj, err := sa.Authorize(ctx)
		require.NoError(t, err)
		writeFile(t, subjectPath, subj.AccessToken)
		writeFile(t, assertionPath, assertion(t, peerAssertionKey(), issuer))
		tok, err := x.Authorize(ctx)
		require.NoError(t, err)
		c, err := v.Verify(ctx, tok.AccessToken)
		require.NoError(t, err)
		assert.Equal(t, client.ClientID, c.Subject, "the file's current subject was exchanged")
		assert.Equal(t, peerAssertFile, c.ClientID)
	}
	assert.Len(t, rec.sent(), 2, "one exchange per subject")
}

// neverStale hides its subject's expiry, so that the peer, not the SDK,
// finds the subject token expired; it counts renewals.
type neverStale struct {
	base.Authorizer
	mu       sync.Mutex // guards renewals
	renewals int
}

func (n *neverStale) Expired(*oauth2.Token) bool { return false }

func (n *neverStale) Refresh(ctx context.Context, tok *oauth2.Token) (*oauth2.Token, error) {
	n.mu.Lock()
	n.renewals++
	n.mu.Unlock()
	return n.Authorizer.Refresh(ctx, tok)
}

// The peer with 5 s tokens: once the subject's token has really expired,
// the peer refuses the exchange, and the subject is renewed once. The wait
// only makes the expiry more certain on a busy machine.
func TestPeerTokenExchangeRenewsExpiredSubject(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_SHORT_ISSUER")
	sa, err := NewServiceAccountAuthorizer(peerExchanger, Environment{TokenURL: issuer + "/token"})
	require.NoError(t, err)
	subject := &neverStale{Authorizer: sa}
	x, err := NewTokenExchangeAuthorizer(subject, Environment{TokenURL: issuer + "/token"},
		WithExchangeClient(peerExchanger), WithAudiences(serviceA))
	require.NoError(t, err)
	ctx := context.Background()
	_, err = x.Authorize(ctx)
	require.NoError(t, err)
	held := x.subject.tok
	time.Sleep(time.Until(held.Expiry) + 1500*time.Millisecond)

	tok, err := x.Authorize(ctx)
	require.NoError(t, err, "the expired subject token was refused, renewed and exchanged again")
	assert.Equal(t, 1, subject.renewals)
	assert.NotEqual(t, held.AccessToken, x.subject.tok.AccessToken)
	_, err = peerVerifier(t, issuer, serviceA).Verify(ctx, tok.AccessToken)
	require.NoError(t, err)
}
