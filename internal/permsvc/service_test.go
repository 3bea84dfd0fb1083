package permsvc_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/internal/permsvc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var alice = permsvc.User{ID: "alice", Password: "alice-pw",
	Permissions: map[string][]string{"orders": {"orders:read", "orders:write"}, "empty": nil}}

// testKey is shared by the tests: RSA key generation is slow under -race.
var testKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func newServer(t *testing.T, opts ...permsvc.Option) (*permsvc.Service, *httptest.Server) {
	t.Helper()
	s, err := permsvc.New(append([]permsvc.Option{permsvc.WithKey(testKey()), permsvc.WithUser(alice),
		permsvc.WithSession("alice-session", "alice")}, opts...)...)
	require.NoError(t, err)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

// get sends GET path with the Authorization header auth.
func get(t *testing.T, srv *httptest.Server, path, auth string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	require.NoError(t, err)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// checkToken verifies tok's RS256 signature with key and returns its
// header and claims.
func checkToken(t *testing.T, tok string, key *rsa.PublicKey) (map[string]any, permsvc.Claims) {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	require.NoError(t, rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig), "signature")
	var header map[string]any
	var claims permsvc.Claims
	for i, v := range []any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, v))
	}
	return header, claims
}

func servedKey(t *testing.T, srv *httptest.Server) *rsa.PublicKey {
	t.Helper()
	resp, body := get(t, srv, "/auth/public-key", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/x-pem-file", resp.Header.Get("Content-Type"))
	block, rest := pem.Decode(body)
	require.NotNil(t, block)
	assert.Empty(t, rest)
	assert.Equal(t, "PUBLIC KEY", block.Type)
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	require.NoError(t, err)
	require.IsType(t, &rsa.PublicKey{}, k)
	assert.Equal(t, 2048, k.(*rsa.PublicKey).N.BitLen())
	return k.(*rsa.PublicKey)
}

func authorize(t *testing.T, srv *httptest.Server, auth string) string {
	t.Helper()
	resp, body := get(t, srv, "/auth/authorize?service=orders", auth)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	var out struct{ Token string }
	require.NoError(t, json.Unmarshal(body, &out))
	return out.Token
}

func TestAuthorizeIssuesVerifiableToken(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	_, srv := newServer(t, permsvc.WithIssuer("https://perms.test"), permsvc.WithClock(func() time.Time { return now }),
		permsvc.WithLifetime(10*time.Minute))
	key := servedKey(t, srv)
	for _, auth := range []string{basic("alice", "alice-pw"), "Bearer alice-session"} {
		header, c := checkToken(t, authorize(t, srv, auth), key)
		assert.Equal(t, map[string]any{"alg": "RS256", "typ": "JWT"}, header, "no kid by default")
		assert.Equal(t, permsvc.Claims{UserID: "alice", Service: "orders", Permissions: []string{"orders:read", "orders:write"},
			Issuer: "https://perms.test", Audience: "orders", IssuedAt: now.Unix(), Expiry: now.Add(10 * time.Minute).Unix()}, c)
	}
}

func TestLegacyTokenHasNoExp(t *testing.T) {
	s, srv := newServer(t, permsvc.WithoutExpiry(), permsvc.WithKeyID("k1"))
	tok := authorize(t, srv, basic("alice", "alice-pw"))
	header, c := checkToken(t, tok, s.PublicKey())
	assert.Equal(t, "k1", header["kid"])
	assert.Zero(t, c.Expiry)
	b, _ := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	assert.NotContains(t, string(b), `"exp"`)
	assert.Equal(t, 1, s.Issued())
}

func TestAuthorizeRefuses(t *testing.T) {
	_, srv := newServer(t)
	tests := []struct {
		name, path, auth string
		want             int
	}{
		{name: "no credentials", path: "/auth/authorize?service=orders", want: http.StatusUnauthorized},
		{name: "wrong password", path: "/auth/authorize?service=orders", auth: basic("alice", "nope"), want: http.StatusUnauthorized},
		{name: "empty password", path: "/auth/authorize?service=orders", auth: basic("alice", ""), want: http.StatusUnauthorized},
		{name: "unknown user", path: "/auth/authorize?service=orders", auth: basic("mallory", "alice-pw"), want: http.StatusUnauthorized},
		{name: "unknown session", path: "/auth/authorize?service=orders", auth: "Bearer other", want: http.StatusUnauthorized},
		{name: "no service", path: "/auth/authorize", auth: basic("alice", "alice-pw"), want: http.StatusBadRequest},
		{name: "service without permissions", path: "/auth/authorize?service=billing", auth: basic("alice", "alice-pw"), want: http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, srv, tt.path, tt.auth)
			assert.Equal(t, tt.want, resp.StatusCode)
			assert.NotContains(t, string(body), "token\"")
		})
	}
}

func TestEmptyPermissionsAreAList(t *testing.T) {
	s, srv := newServer(t)
	resp, body := get(t, srv, "/auth/authorize?service=empty", basic("alice", "alice-pw"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out struct{ Token string }
	require.NoError(t, json.Unmarshal(body, &out))
	b, _ := base64.RawURLEncoding.DecodeString(strings.Split(out.Token, ".")[1])
	assert.Contains(t, string(b), `"permissions":[]`)
	_, c := checkToken(t, out.Token, s.PublicKey())
	assert.Empty(t, c.Permissions)
}

func TestRotateChangesServedKey(t *testing.T) {
	s, srv := newServer(t)
	old := authorize(t, srv, basic("alice", "alice-pw"))
	before := servedKey(t, srv)
	require.NoError(t, s.Rotate())
	after := servedKey(t, srv)
	assert.False(t, before.Equal(after))
	sum := sha256.Sum256([]byte(old[:strings.LastIndexByte(old, '.')]))
	sig, _ := base64.RawURLEncoding.DecodeString(old[strings.LastIndexByte(old, '.')+1:])
	assert.Error(t, rsa.VerifyPKCS1v15(after, crypto.SHA256, sum[:], sig), "old token verifies against the new key")
	checkToken(t, authorize(t, srv, basic("alice", "alice-pw")), after)
}

func TestIssueUnknownUser(t *testing.T) {
	s, _ := newServer(t)
	_, err := s.Issue("mallory", "orders")
	assert.Error(t, err)
}

func TestOptionsRefuseBadValues(t *testing.T) {
	tests := []struct {
		name string
		opt  permsvc.Option
	}{
		{"empty issuer", permsvc.WithIssuer("")},
		{"zero lifetime", permsvc.WithLifetime(0)},
		{"nil key", permsvc.WithKey(nil)},
		{"user without id", permsvc.WithUser(permsvc.User{})},
		{"session without user", permsvc.WithSession("t", "")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := permsvc.New(tt.opt)
			var ice *authorizer.InvalidConfigError
			assert.ErrorAs(t, err, &ice)
		})
	}
	_, err := permsvc.New(permsvc.WithUser(alice), permsvc.WithUser(alice))
	assert.Error(t, err, "duplicate user")
}
