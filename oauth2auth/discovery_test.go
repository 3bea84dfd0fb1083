package oauth2auth_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// discoveryServer serves metadata documents by path; "{issuer}" in a
// document is replaced by the server's URL (+ issuerPath).
type discoveryServer struct {
	*httptest.Server
	hits atomic.Int32
}

func newDiscoveryServer(t *testing.T, tlsServer bool, issuerPath string, docs map[string]string) *discoveryServer {
	t.Helper()
	d := &discoveryServer{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.hits.Add(1)
		doc, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, strings.ReplaceAll(doc, "{issuer}", d.URL+issuerPath))
	})
	if tlsServer {
		d.Server = httptest.NewTLSServer(h)
	} else {
		d.Server = httptest.NewServer(h)
	}
	t.Cleanup(d.Close)
	return d
}

const fullMetadata = `{"issuer":"{issuer}","token_endpoint":"{issuer}/token","authorization_endpoint":"{issuer}/auth",
"device_authorization_endpoint":"{issuer}/device/auth","revocation_endpoint":"{issuer}/token/revocation","jwks_uri":"{issuer}/jwks"}`

func TestDiscoverOpenID(t *testing.T) {
	d := newDiscoveryServer(t, false, "", map[string]string{"/.well-known/openid-configuration": fullMetadata})
	env := oauth2auth.Environment{Name: "dev", Issuer: d.URL, RevocationURL: "https://revoke.example/r", Scopes: []string{"a"}}
	got, err := env.Discover(context.Background(), nil)
	require.NoError(t, err)
	assert.Equal(t, d.URL+"/token", got.TokenURL)
	assert.Equal(t, d.URL+"/auth", got.AuthURL)
	assert.Equal(t, d.URL+"/device/auth", got.DeviceAuthURL)
	assert.Equal(t, "https://revoke.example/r", got.RevocationURL, "configured endpoints win")
	assert.Equal(t, d.URL+"/jwks", got.JWKSURL)
	assert.Equal(t, []string{"a"}, got.Scopes)
	assert.Empty(t, env.TokenURL, "the receiver is not modified")

	_, err = env.Discover(context.Background(), nil)
	require.NoError(t, err)
	assert.EqualValues(t, 2, d.hits.Load(), "Discover keeps nothing: no process-wide cache (authorizers keep theirs)")
}

func TestDiscoverRFC8414WithPath(t *testing.T) {
	d := newDiscoveryServer(t, false, "/tenant1", map[string]string{
		"/.well-known/oauth-authorization-server/tenant1": `{"issuer":"{issuer}","token_endpoint":"{issuer}/oauth/token"}`,
	})
	got, err := oauth2auth.Environment{Issuer: d.URL + "/tenant1"}.Discover(context.Background(), d.Client())
	require.NoError(t, err)
	assert.Equal(t, d.URL+"/tenant1/oauth/token", got.TokenURL)
	assert.EqualValues(t, 2, d.hits.Load(), "OpenID discovery first, then RFC 8414")
}

func TestDiscoverErrors(t *testing.T) {
	tests := []struct {
		name      string
		tls       bool
		docs      map[string]string
		status    int // the server answers every path with this status when set
		wantCfg   bool
		temporary bool
	}{
		{name: "issuer mismatch", docs: map[string]string{"/.well-known/openid-configuration": `{"issuer":"https://evil.example","token_endpoint":"https://evil.example/token"}`},
			wantCfg: true},
		{name: "https downgraded to http", tls: true,
			docs:    map[string]string{"/.well-known/openid-configuration": `{"issuer":"{issuer}","token_endpoint":"http://idp.example/token"}`},
			wantCfg: true},
		{name: "relative endpoint", docs: map[string]string{"/.well-known/openid-configuration": `{"issuer":"{issuer}","token_endpoint":"/token"}`},
			wantCfg: true},
		{name: "not found anywhere", docs: map[string]string{}},
		{name: "not json", docs: map[string]string{"/.well-known/openid-configuration": `<html>`}},
		{name: "server error", status: 503, temporary: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDiscoveryServer(t, tt.tls, "", tt.docs)
			if tt.status != 0 {
				d.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					d.hits.Add(1)
					w.WriteHeader(tt.status)
				})
			}
			_, err := oauth2auth.Environment{Issuer: d.URL}.Discover(context.Background(), d.Client())
			require.Error(t, err)
			if tt.wantCfg {
				var ce *authorizer.InvalidConfigError
				require.ErrorAs(t, err, &ce)
				return
			}
			var ae *authorizer.AuthorizationError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.temporary, ae.Temporary())
			if tt.temporary {
				assert.EqualValues(t, 1, d.hits.Load(), "a temporary failure does not try the second document")
			}
		})
	}
}

func TestDiscoverNeedsIssuer(t *testing.T) {
	_, err := oauth2auth.Environment{TokenURL: "https://idp.example/token"}.Discover(context.Background(), nil)
	var ce *authorizer.InvalidConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "oauth2auth: Environment.Issuer", ce.Setting)
}

func TestDiscoverCanceled(t *testing.T) {
	d := newDiscoveryServer(t, false, "", map[string]string{"/.well-known/openid-configuration": fullMetadata})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := oauth2auth.Environment{Issuer: d.URL}.Discover(ctx, nil)
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, d.hits.Load())
}
