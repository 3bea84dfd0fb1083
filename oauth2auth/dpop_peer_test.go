package oauth2auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/seed-d44eba79/authorizer/filecache"
	"github.com/seed-d44eba79/authorizer/internal/peertest"
	"golang.org/x/oauth2"
)

// The peer's DPoP clients (scripts/peers/oidc-provider/server.mjs): both
// must send DPoP proofs with a server nonce.
var (
	peerDPoP       = data.ClientInfo{ClientID: "sdk-dpop", ClientSecret: "sdk-dpop-secret"}
	peerDPoPNative = data.ClientInfo{ClientID: "sdk-dpop-native"}
)

// cnfJKT is the cnf.jkt claim of a JWT access token (read, not verified:
// the token came straight from the peer).
func cnfJKT(t *testing.T, accessToken string) string {
	t.Helper()
	parts := strings.Split(accessToken, ".")
	if len(parts) != 3 {
		t.Fatalf("access token is not a JWT (%d parts): ask for the resource", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	must(t, err)
	var c struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	must(t, json.Unmarshal(b, &c))
	return c.Cnf.JKT
}

// checkBound checks that tok is a DPoP token bound to key, whose JWT
// access token names key's thumbprint.
func checkBound(t *testing.T, tok *oauth2.Token, key *dpop.Key) {
	t.Helper()
	if !dpop.IsDPoP(tok) || dpop.KeyOf(tok) == nil || !dpop.KeyOf(tok).Equal(key) {
		t.Fatalf("token type %q key %v; want DPoP bound to %v", tok.TokenType, dpop.KeyOf(tok), key)
	}
	if got := cnfJKT(t, tok.AccessToken); got != key.Thumbprint() {
		t.Errorf("cnf.jkt = %q; want the key's thumbprint %q", got, key.Thumbprint())
	}
}

func TestPeerDPoPClientCredentials(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	env := Environment{TokenURL: issuer + "/token", Scopes: []string{"api:read"}, Resources: []string{"urn:sdk-test:api"}}
	var proofs []string
	client := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		proofs = append(proofs, r.Header.Get("DPoP"))
		return http.DefaultTransport.RoundTrip(r)
	})}
	a, err := NewServiceAccountAuthorizer(peerDPoP, env, WithDPoP(nil), WithHTTPClient(client))
	must(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := range 2 { // the second request uses the remembered nonce and a new proof (jti)
		tok, err := a.Authorize(ctx)
		must(t, err)
		checkBound(t, tok, a.opts.dpop.key)
		if i == 0 && len(proofs) != 2 {
			t.Fatalf("first Authorize made %d requests; want 2 (use_dpop_nonce, then the nonce)", len(proofs))
		}
	}
	if _, c := splitProof(proofs[0]); c.Nonce != "" {
		t.Errorf("first proof carried nonce %q before the peer named one", c.Nonce)
	}
	if _, c := splitProof(proofs[2]); c.Nonce == "" {
		t.Error("the second Authorize's first proof carried no nonce: it was not remembered")
	}

	// Without a proof the peer refuses this client: the binding is required.
	plain, err := NewServiceAccountAuthorizer(peerDPoP, env)
	must(t, err)
	if _, err := plain.Authorize(ctx); err == nil {
		t.Error("the peer issued a token to sdk-dpop without a DPoP proof")
	}
}

// A device sign-in with sdk-dpop-native, a refresh, a refresh from a new
// authorizer reading the same file cache (the key restored from it), and
// the same refresh token with another key refused: the binding is real.
func TestPeerDPoPDeviceRefreshAcrossRuns(t *testing.T) {
	env := peerEnv(t, "openid", "offline_access", "api:read")
	env.Resources = []string{"urn:sdk-test:api"}
	dir := filepath.Join(t.TempDir(), "cache")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var prompts int
	newRun := func() (*DeviceAuthorizer, *filecache.Cache) {
		cache, err := filecache.New(filecache.WithDir(dir), filecache.WithEncryptionKey(make([]byte, 32)))
		must(t, err)
		a, err := NewDeviceAuthorizer(peerDPoPNative, env, WithDPoP(nil), WithTokenCache(cache),
			WithDevicePrompt(devicePrompter(t, env.Issuer, "erin", &prompts)), withPollInterval(200*time.Millisecond))
		must(t, err)
		return a, cache
	}

	first, cache := newRun()
	key := first.sessionKey()
	tok, err := first.Authorize(ctx)
	must(t, err)
	checkBound(t, tok, key)
	refreshed, err := first.Refresh(ctx, tok)
	must(t, err)
	checkBound(t, refreshed, key)
	if refreshed.RefreshToken == tok.RefreshToken || refreshed.AccessToken == tok.AccessToken {
		t.Fatal("the refresh gave no new tokens")
	}

	// The next run: a new authorizer with a new generated key finds the
	// session in the file, expired, and refreshes it with the cached key.
	stored, err := cache.Load(ctx, first.key)
	must(t, err)
	expired := *stored
	expired.Expiry = time.Now().Add(-time.Minute)
	must(t, cache.Store(ctx, first.key, &expired))
	second, _ := newRun()
	if second.sessionKey().Equal(key) {
		t.Fatal("the second run generated the same key")
	}
	next, err := second.Authorize(ctx)
	must(t, err)
	if prompts != 1 {
		t.Errorf("prompted %d times; want 1 (the second run refreshed)", prompts)
	}
	checkBound(t, next, key)
	if !second.sessionKey().Equal(key) {
		t.Error("the second run did not adopt the cached key")
	}

	// The newest refresh token with another key: refused by the peer
	// (failed jkt verification), and still good with its own key.
	ep, err := second.endpoints(ctx)
	must(t, err)
	_, err = second.tokenRequestKey(ctx, ep, refreshForm(next.RefreshToken), mustKey(t))
	var refused *authorizer.InvalidCredentialsError
	if !errors.As(err, &refused) || refused.Code != "invalid_grant" {
		t.Fatalf("refresh with another key: %v; want invalid_grant", err)
	}
	last, err := second.tokenRequestKey(ctx, ep, refreshForm(next.RefreshToken), key)
	must(t, err)
	checkBound(t, last, key)
}
