package authorizer_test

// End-to-end tests of the whole SDK against the real peers that
// scripts/test.sh starts: oidc-provider (OAuth 2.0) and moto_server
// (Cognito). Each sends real requests through http.Client and
// base.Transport to a local API.

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/internal/peertest"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
	"github.com/seed-d44eba79/authorizer/srp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bearerAPI records the Authorization headers it receives; /hop redirects
// to another host (localhost instead of 127.0.0.1).
type bearerAPI struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string][]string // path -> Authorization values
}

func newBearerAPI(t *testing.T) *bearerAPI {
	a := &bearerAPI{seen: map[string][]string{}}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.seen[r.URL.Path] = append(a.seen[r.URL.Path], r.Header.Get("Authorization"))
		a.mu.Unlock()
		if r.URL.Path == "/hop" {
			http.Redirect(w, r, strings.Replace(a.URL, "127.0.0.1", "localhost", 1)+"/landed", http.StatusFound)
		}
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *bearerAPI) headers(path string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen[path]...)
}

// countingTransport counts the token requests an authorizer makes.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func TestPeerServiceAccountThroughHTTPClient(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	api := newBearerAPI(t)
	counter := &countingTransport{}
	env := oauth2auth.Environment{Name: "e2e", Issuer: issuer, Resources: []string{"urn:sdk-test:api"}, Scopes: []string{"api:read"}}
	authz, err := oauth2auth.NewServiceAccountAuthorizer(
		data.ClientInfo{ClientID: "sdk-cc-basic", ClientSecret: "sdk-cc-basic-secret", APIKey: "e2e-key"}, env,
		oauth2auth.WithHTTPClient(&http.Client{Transport: counter}))
	require.NoError(t, err)
	tr := base.NewTransport(authz)
	t.Cleanup(func() { tr.Close() })
	client := &http.Client{Transport: tr}

	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			resp, err := client.Get(api.URL + "/orders")
			if assert.NoError(t, err) {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	got := api.headers("/orders")
	require.Len(t, got, 50)
	for _, h := range got {
		assert.Equal(t, got[0], h, "one token for every request")
		assert.True(t, strings.HasPrefix(h, "Bearer ey"), "a JWT access token")
	}
	assert.EqualValues(t, 2, counter.n.Load(), "discovery + one token request for 50 concurrent requests")

	resp, err := client.Get(api.URL + "/hop")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, []string{""}, api.headers("/landed"), "no token after a redirect to another host")
}

func TestPeerRefusedClientIsTypedThroughHTTPClient(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	authz, err := oauth2auth.NewServiceAccountAuthorizer(
		data.ClientInfo{ClientID: "sdk-cc-basic", ClientSecret: "wrong-secret-value"}, oauth2auth.Environment{Issuer: issuer})
	require.NoError(t, err)
	client := base.NewClient(authz)
	t.Cleanup(func() { client.Transport.(*base.Transport).Close() })
	_, err = client.Get("https://api.example.test/orders")
	var ice *authorizer.InvalidClientError
	require.ErrorAs(t, err, &ice)
	assert.Equal(t, "sdk-cc-basic", ice.ClientID)
	assert.False(t, ice.Temporary())
	assert.NotContains(t, err.Error(), "wrong-secret-value")
	_, err = client.Get("https://api.example.test/orders")
	assert.True(t, errors.Is(err, authorizer.ErrBackoff), "the next request backs off instead of asking again")
}

func TestPeerCognitoSRPThroughHTTPClient(t *testing.T) {
	seed := peertest.Cognito(t, "AUTHORIZER_COGNITO_SEED")
	api := newBearerAPI(t)
	client := seed.Clients["sdk-confidential"]
	alice := seed.Users["alice"]
	env := srp.Environment{Name: "e2e", Region: seed.Region, UserPoolID: seed.UserPoolID, Endpoint: seed.Endpoint}
	authz, err := srp.NewAuthorizer(data.ClientInfo{ClientID: client.ClientID, ClientSecret: client.ClientSecret},
		data.UserCredentials{UserName: "alice", Password: alice.Password}, env)
	require.NoError(t, err)
	tr := base.NewTransport(authz)
	t.Cleanup(func() { tr.Close() })
	for range 3 {
		resp, err := (&http.Client{Transport: tr}).Get(api.URL + "/me")
		require.NoError(t, err)
		resp.Body.Close()
	}
	got := api.headers("/me")
	require.Len(t, got, 3)
	assert.True(t, strings.HasPrefix(got[0], "Bearer ey"))
	assert.Equal(t, got[0], got[2], "the signed-in user's token is reused")

	tok, err := tr.Token(context.Background())
	require.NoError(t, err)
	assert.NotEmpty(t, tok.RefreshToken, "kept for refresh")

	dave := seed.Users["dave"]
	disabled, err := srp.NewAuthorizer(data.ClientInfo{ClientID: client.ClientID, ClientSecret: client.ClientSecret},
		data.UserCredentials{UserName: "dave", Password: dave.Password}, env)
	require.NoError(t, err)
	_, err = base.NewClient(disabled).Get(api.URL + "/me")
	var icr *authorizer.InvalidCredentialsError
	require.ErrorAs(t, err, &icr)
	assert.NotContains(t, err.Error(), dave.Password)
}
