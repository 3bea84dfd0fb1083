package verify_test

// Proofs against a dgp-style permission service (internal/permsvc, in
// process): its RS256 permission tokens verify through verify.PEMURL
// reading /auth/public-key, and Decode reads their permission claims.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/internal/permsvc"
	"github.com/seed-d44eba79/authorizer/verify"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const permIssuer = "https://permissions.test"

var permUser = permsvc.User{ID: "u-1042", Password: "pw-1042",
	Permissions: map[string][]string{"orders": {"orders:read", "orders:write"}, "billing": {"billing:read"}}}

// permissionClaims are dgp's claims, as a service decodes them.
type permissionClaims struct {
	UserID      string   `json:"userid"`
	Service     string   `json:"service"`
	Permissions []string `json:"permissions"`
}

// permKey is the services' first key, shared: RSA key generation is slow
// under -race.
var permKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func startPermsvc(t *testing.T, opts ...permsvc.Option) (*permsvc.Service, *httptest.Server) {
	t.Helper()
	s, err := permsvc.New(append([]permsvc.Option{permsvc.WithKey(permKey()), permsvc.WithIssuer(permIssuer),
		permsvc.WithUser(permUser)}, opts...)...)
	require.NoError(t, err)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

// permToken signs in at /auth/authorize and returns the token for service.
func permToken(t *testing.T, srv *httptest.Server, service string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/auth/authorize?service="+service, nil)
	require.NoError(t, err)
	req.SetBasicAuth(permUser.ID, permUser.Password)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out struct{ Token string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out.Token
}

func TestIntegrationPermsvcPEMURL(t *testing.T) {
	_, srv := startPermsvc(t)
	counter := newPeerCounter()
	defer counter.CloseIdleConnections()
	keys := verify.PEMURL(srv.URL+"/auth/public-key", verify.WithHTTPClient(counter.client()))
	defer keys.Close()
	v, err := verify.New(keys, verify.Expect{Issuer: permIssuer, Audience: []string{"orders"}})
	require.NoError(t, err)

	c, err := v.Verify(context.Background(), permToken(t, srv, "orders"))
	require.NoError(t, err)
	assert.Equal(t, []string{"orders"}, c.Audience)
	var pc permissionClaims
	require.NoError(t, c.Decode(&pc))
	assert.Equal(t, permissionClaims{UserID: "u-1042", Service: "orders", Permissions: []string{"orders:read", "orders:write"}}, pc)

	_, err = v.Verify(context.Background(), permToken(t, srv, "billing"))
	assert.ErrorIs(t, err, authorizer.ErrTokenAudience, "a token for billing passes the orders service")
	assert.Equal(t, 1, counter.count("/auth/public-key"))
}

// dgp's legacy permission tokens have no exp: refused by default, accepted
// only with InsecureAllowNoExpiry.
func TestIntegrationPermsvcLegacyToken(t *testing.T) {
	_, srv := startPermsvc(t, permsvc.WithoutExpiry())
	keys := verify.PEMURL(srv.URL + "/auth/public-key")
	defer keys.Close()
	want := verify.Expect{Issuer: permIssuer, Audience: []string{"orders"}}
	strict, err := verify.New(keys, want)
	require.NoError(t, err)
	legacy, err := verify.New(keys, want, verify.InsecureAllowNoExpiry())
	require.NoError(t, err)
	tok := permToken(t, srv, "orders")

	_, err = strict.Verify(context.Background(), tok)
	assert.ErrorIs(t, err, authorizer.ErrTokenExpired, "a token without exp passes by default")
	c, err := legacy.Verify(context.Background(), tok)
	require.NoError(t, err)
	assert.True(t, c.Expiry.IsZero())
	var pc permissionClaims
	require.NoError(t, c.Decode(&pc))
	assert.Equal(t, []string{"orders:read", "orders:write"}, pc.Permissions)
}

// The service replaces its key: the next token verifies after one fetch of
// /auth/public-key (PEM keys have no kid), and a token of the old key is
// refused, cached or not.
func TestIntegrationPermsvcRotatedKey(t *testing.T) {
	svc, srv := startPermsvc(t)
	clock := newPeerClock()
	counter := newPeerCounter()
	defer counter.CloseIdleConnections()
	keys := verify.PEMURL(srv.URL+"/auth/public-key", verify.WithHTTPClient(counter.client()), verify.WithClock(clock.Now))
	defer keys.Close()
	v, err := verify.New(keys, verify.Expect{Issuer: permIssuer, Audience: []string{"orders"}}, verify.WithClock(clock.Now))
	require.NoError(t, err)
	old := permToken(t, srv, "orders")
	_, err = v.Verify(context.Background(), old)
	require.NoError(t, err)

	require.NoError(t, svc.Rotate())
	clock.Advance(verify.DefaultMinRefreshInterval + time.Second)
	_, err = v.Verify(context.Background(), permToken(t, srv, "orders"))
	require.NoError(t, err, "a token of the replaced key is refused")
	assert.Equal(t, 2, counter.count("/auth/public-key"), "accepted after one refresh")
	_, err = v.Verify(context.Background(), old)
	assert.ErrorIs(t, err, authorizer.ErrTokenSignature, "a token of the removed key still passes")
	assert.Equal(t, 2, counter.count("/auth/public-key"), "no further fetch inside the interval")
}
