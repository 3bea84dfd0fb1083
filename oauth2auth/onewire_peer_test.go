package oauth2auth

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/internal/peertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// peerDeviceJWTKey is the Ed25519 test key of the peer's sdk-cc-jwt and
// sdk-device-jwt clients (its seed is documented in server.mjs).
func peerDeviceJWTKey() ed25519.PrivateKey {
	seed := sha256.Sum256([]byte("authorizer sdk-cc-jwt test key; not a secret"))
	return ed25519.NewKeyFromSeed(seed[:])
}

// Issue 18 item 11: with WithPrivateKeyJWT, the device authorization
// request, the token requests and the revocation requests all carry the
// client's assertion: oidc-provider's sdk-device-jwt client accepts nothing
// else. Before, the device authorization request went out without it.
func TestPeerPrivateKeyJWTDeviceFlowAndRevocation(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prompts := 0
	a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: "sdk-device-jwt"},
		Environment{Issuer: issuer, Scopes: []string{"openid", "offline_access"}},
		WithPrivateKeyJWT(peerDeviceJWTKey(), "sdk-cc-jwt-1"),
		WithDevicePrompt(devicePrompter(t, issuer, "jwt-user", &prompts)), withPollInterval(200*time.Millisecond))
	require.NoError(t, err)
	tok, err := a.Authorize(ctx)
	require.NoError(t, err, "device authorization and token requests authenticate with the assertion")
	require.NotEmpty(t, tok.RefreshToken)
	assert.Equal(t, 1, prompts)

	refreshed, err := a.Refresh(ctx, withExpiry(tok, time.Unix(2, 0)))
	require.NoError(t, err, "the refresh authenticates with the assertion")

	require.NoError(t, a.SignOut(ctx), "revocation authenticates with the assertion")
	env, err := a.endpoints(ctx)
	require.NoError(t, err)
	_, err = a.tokenRequest(ctx, env, refreshForm(refreshed.RefreshToken))
	var refused *authorizer.InvalidCredentialsError
	assert.ErrorAs(t, err, &refused, "the refresh token was revoked at the provider")
}

func withExpiry(tok *oauth2.Token, at time.Time) *oauth2.Token {
	cp := *tok
	cp.Expiry = at
	return &cp
}

// Issue 17 item 2: asking for a scope the client is not granted (the
// peer's resource server knows api:read and api:write, not api:admin) logs
// a warning naming the missing scope; the token is still used.
func TestPeerMissingScopesAreLogged(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	env := Environment{TokenURL: issuer + "/token", Scopes: []string{"api:read", "api:admin"},
		Resources: []string{"urn:sdk-test:api"}}
	a, err := NewServiceAccountAuthorizer(data.ClientInfo{ClientID: "sdk-cc-basic", ClientSecret: "sdk-cc-basic-secret"},
		env, WithLogger(logger))
	require.NoError(t, err)
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"api:read"}, GrantedScopes(tok))
	out := logs.String()
	assert.Contains(t, out, "level=WARN")
	assert.Contains(t, out, "granted fewer scopes than asked for")
	assert.Contains(t, out, "missing_scopes=[api:admin]")
	assert.NotContains(t, out, tok.AccessToken)
}

// Issue 17 item 4: the client-authentication method and its key come from
// configuration (environment variables or the environments file), so
// switching to private_key_jwt needs no code.
func TestPeerClientAuthFromEnvironmentVariables(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	der, err := x509.MarshalPKCS8PrivateKey(peerDeviceJWTKey())
	require.NoError(t, err)
	keyFile := filepath.Join(t.TempDir(), "client.pem")
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600))
	t.Setenv("PEERJWT_TOKEN_URL", issuer+"/token")
	t.Setenv("PEERJWT_SCOPES", "api:read")
	t.Setenv("PEERJWT_RESOURCES", "urn:sdk-test:api")
	t.Setenv("PEERJWT_CLIENT_AUTH", "private_key_jwt")
	t.Setenv("PEERJWT_CLIENT_KEY_FILE", keyFile)
	t.Setenv("PEERJWT_CLIENT_KEY_ID", "sdk-cc-jwt-1")
	t.Setenv("PEERJWT_CLIENT_ID", "sdk-cc-jwt")
	env, err := EnvironmentFromEnv("PEERJWT")
	require.NoError(t, err)
	info, err := ClientInfoFromEnv("PEERJWT")
	require.NoError(t, err)
	a, err := NewServiceAccountAuthorizer(info, env)
	require.NoError(t, err, "no secret needed: the key file authenticates")
	_, err = a.Authorize(context.Background())
	require.NoError(t, err)

	// The same settings from a JSON environments file, here client_secret_post.
	file := filepath.Join(t.TempDir(), "envs.json")
	require.NoError(t, os.WriteFile(file, []byte(`{"peer":{"token_url":"`+issuer+`/token","client_auth":"post"}}`), 0o600))
	envs, err := LoadEnvironments(file)
	require.NoError(t, err)
	post, err := NewServiceAccountAuthorizer(data.ClientInfo{ClientID: "sdk-cc-post", ClientSecret: "sdk-cc-post-secret"}, envs["peer"])
	require.NoError(t, err)
	_, err = post.Authorize(context.Background())
	require.NoError(t, err, "sdk-cc-post accepts client_secret_post only")
}
