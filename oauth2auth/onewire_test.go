package oauth2auth

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/data"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// authServer is an authorization server that records how the client
// authenticated at each endpoint.
type authServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen map[string][]string // path -> "basic:<id>:<secret>", "post:<id>:<secret>", "jwt:<id>:<aud>"
}

func newAuthServer(t *testing.T) *authServer {
	s := &authServer{seen: map[string][]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		s.mu.Lock()
		s.seen[r.URL.Path] = append(s.seen[r.URL.Path], how(r))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/device":
			fmt.Fprintf(w, `{"device_code":"dc","user_code":"UC","verification_uri":"%s/verify","expires_in":60}`, s.URL)
		case "/token":
			fmt.Fprint(w, `{"access_token":"at","refresh_token":"rt","token_type":"Bearer","expires_in":60}`)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// how describes the client authentication of r.
func how(r *http.Request) string {
	if id, secret, ok := r.BasicAuth(); ok {
		return "basic:" + id + ":" + secret
	}
	if a := r.PostForm.Get("client_assertion"); a != "" {
		return "jwt:" + r.PostForm.Get("client_id") + ":" + fmt.Sprint(strings.Count(a, ".")) // a JWS has 2 dots
	}
	if s := r.PostForm.Get("client_secret"); s != "" {
		return "post:" + r.PostForm.Get("client_id") + ":" + s
	}
	return "none:" + r.PostForm.Get("client_id")
}

// Issue 18 item 11: every request to the authorization server, device
// authorization and revocation included, authenticates the client the one
// configured way (before, private_key_jwt was dropped at the device and
// revocation endpoints).
func TestEveryEndpointAuthenticatesTheClient(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	tests := []struct {
		name string
		info data.ClientInfo
		opt  Option
		want string
	}{
		{"basic", data.ClientInfo{ClientID: "c", ClientSecret: "s"}, nil, "basic:c:s"},
		{"post", data.ClientInfo{ClientID: "c", ClientSecret: "s"}, WithClientAuth(ClientSecretPost), "post:c:s"},
		{"private_key_jwt", data.ClientInfo{ClientID: "c"}, WithPrivateKeyJWT(key, "k"), "jwt:c:2"},
		{"public", data.ClientInfo{ClientID: "c"}, nil, "none:c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newAuthServer(t)
			env := Environment{TokenURL: s.URL + "/token", DeviceAuthURL: s.URL + "/device", RevocationURL: s.URL + "/revoke"}
			a, err := NewDeviceAuthorizer(tt.info, env, tt.opt, withPollInterval(time.Millisecond),
				WithDevicePrompt(func(context.Context, DevicePrompt) error { return nil }))
			require.NoError(t, err)
			_, err = a.Authorize(context.Background())
			require.NoError(t, err)
			require.NoError(t, a.SignOut(context.Background()))
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, path := range []string{"/device", "/token", "/revoke"} {
				require.NotEmpty(t, s.seen[path], path)
				for _, got := range s.seen[path] {
					assert.Equal(t, tt.want, got, "%s", path)
				}
			}
			assert.Len(t, s.seen["/revoke"], 2, "refresh and access token revoked")
		})
	}
}
