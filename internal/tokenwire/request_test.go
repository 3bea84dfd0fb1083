package tokenwire

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	specialID     = "sdk:cc special"
	specialSecret = "s:e/c+r&e=t% x"
	tokenBody     = `{"access_token":"tok-SECRET-access","token_type":"Bearer","expires_in":300}`
)

// wire is what the fake token endpoint saw.
type wire struct {
	method, contentType, accept string
	basicOK                     bool
	basicID, basicSecret        string
	rawAuth                     string
	form                        url.Values
}

func recordingServer(t *testing.T, status int, body string, got *wire) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method = r.Method
		got.contentType = r.Header.Get("Content-Type")
		got.accept = r.Header.Get("Accept")
		got.rawAuth = r.Header.Get("Authorization")
		got.basicID, got.basicSecret, got.basicOK = r.BasicAuth()
		if err := r.ParseForm(); err != nil {
			t.Errorf("ParseForm: %v", err)
		}
		got.form = r.PostForm
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func unescape(t *testing.T, s string) string {
	t.Helper()
	u, err := url.QueryUnescape(s)
	require.NoError(t, err)
	return u
}

func TestDoClientAuthOnTheWire(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tests := []struct {
		name  string
		auth  ClientAuth
		check func(t *testing.T, got wire)
	}{
		{name: "basic", auth: AuthBasic, check: func(t *testing.T, got wire) {
			require.True(t, got.basicOK, "no Basic header")
			assert.Equal(t, specialID, unescape(t, got.basicID), "decoded basic id")
			assert.Equal(t, specialSecret, unescape(t, got.basicSecret), "decoded basic secret")
			assert.Equal(t, url.QueryEscape(specialSecret), got.basicSecret, "secret form-urlencoded before base64")
			assert.Empty(t, got.form["client_id"])
			assert.Empty(t, got.form["client_secret"])
		}},
		{name: "post", auth: AuthPost, check: func(t *testing.T, got wire) {
			assert.Empty(t, got.rawAuth, "Authorization header")
			assert.Equal(t, []string{specialID}, got.form["client_id"])
			assert.Equal(t, []string{specialSecret}, got.form["client_secret"])
		}},
		{name: "none", auth: AuthNone, check: func(t *testing.T, got wire) {
			assert.Empty(t, got.rawAuth, "Authorization header")
			assert.Equal(t, []string{specialID}, got.form["client_id"])
			assert.Empty(t, got.form["client_secret"])
		}},
		{name: "private_key_jwt", auth: AuthPrivateKeyJWT, check: func(t *testing.T, got wire) {
			assert.Empty(t, got.rawAuth, "Authorization header")
			assert.Empty(t, got.form["client_secret"])
			assert.Equal(t, []string{specialID}, got.form["client_id"])
			assert.Equal(t, clientAssertionType, got.form.Get("client_assertion_type"))
			claims := verifyJWT(t, got.form.Get("client_assertion"), key.Public())
			assert.Equal(t, specialID, claims["iss"])
			assert.Equal(t, specialID, claims["sub"])
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got wire
			srv := recordingServer(t, 200, tokenBody, &got)
			// A stray secret in the caller's form must not be sent a second way.
			form := url.Values{"grant_type": {"client_credentials"}, "scope": {"a b"}, "client_secret": {"stray"}}
			tok, err := Do(context.Background(), Request{URL: srv.URL, Auth: tt.auth, Form: form,
				Client:    data.ClientInfo{ClientID: specialID, ClientSecret: specialSecret},
				Assertion: KeySigner{Key: key, KeyID: "k1"}.Sign})
			require.NoError(t, err)
			assert.Equal(t, "tok-SECRET-access", tok.AccessToken)
			assert.Equal(t, http.MethodPost, got.method)
			assert.Equal(t, "application/x-www-form-urlencoded", got.contentType)
			assert.Equal(t, "application/json", got.accept)
			assert.Equal(t, "client_credentials", got.form.Get("grant_type"))
			assert.Equal(t, "a b", got.form.Get("scope"))
			assert.NotContains(t, got.form["client_secret"], "stray")
			assert.Equal(t, []string{"stray"}, form["client_secret"], "caller's form modified")
			tt.check(t, got)
		})
	}
}

// verifyJWT checks an ES256 compact JWT's signature and returns its claims.
func verifyJWT(t *testing.T, jwt string, pub crypto.PublicKey) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	require.Len(t, parts, 3)
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	require.Len(t, sig, 64)
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	require.True(t, ecdsa.Verify(pub.(*ecdsa.PublicKey), sum[:], r, s), "signature does not verify")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(raw, &claims))
	return claims
}

func TestKeySignerAlgorithms(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	tests := []struct {
		name    string
		key     crypto.Signer
		alg     string
		wantErr bool
	}{
		{name: "rsa", key: rsaKey, alg: "RS256"},
		{name: "ed25519", key: edKey, alg: "EdDSA"},
		{name: "p384 unsupported", key: p384, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jwt, err := KeySigner{Key: tt.key}.Sign("id", "https://idp/token", t0)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			parts := strings.Split(jwt, ".")
			require.Len(t, parts, 3)
			input := []byte(parts[0] + "." + parts[1])
			sig, err := base64.RawURLEncoding.DecodeString(parts[2])
			require.NoError(t, err)
			switch k := tt.key.(type) {
			case *rsa.PrivateKey:
				sum := sha256.Sum256(input)
				require.NoError(t, rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, sum[:], sig))
			case ed25519.PrivateKey:
				require.True(t, ed25519.Verify(k.Public().(ed25519.PublicKey), input, sig))
			}
			hdr, _ := base64.RawURLEncoding.DecodeString(parts[0])
			assert.Contains(t, string(hdr), `"alg":"`+tt.alg+`"`)
			body, _ := base64.RawURLEncoding.DecodeString(parts[1])
			var claims map[string]any
			require.NoError(t, json.Unmarshal(body, &claims))
			assert.Equal(t, "https://idp/token", claims["aud"])
			assert.EqualValues(t, t0.Add(AssertionLifetime).Unix(), claims["exp"])
		})
	}
}

func TestDoFillsErrorIdentity(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		check      func(t *testing.T, err error)
	}{
		{name: "client id", status: 401, body: `{"error":"invalid_client"}`, check: func(t *testing.T, err error) {
			var e *authorizer.InvalidClientError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, specialID, e.ClientID)
		}},
		{name: "user name", status: 400, body: `{"error":"invalid_grant"}`, check: func(t *testing.T, err error) {
			var e *authorizer.InvalidCredentialsError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "alice", e.UserName)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got wire
			srv := recordingServer(t, tt.status, tt.body, &got)
			_, err := Do(context.Background(), Request{URL: srv.URL, UserName: "alice",
				Client: data.ClientInfo{ClientID: specialID, ClientSecret: specialSecret}})
			tt.check(t, err)
		})
	}
}

// TestDoErrorsHideSecrets renders every error a server can provoke (even by
// echoing the credentials) and checks no secret or token shows.
func TestDoErrorsHideSecrets(t *testing.T) {
	const token = "tok-SECRET-access"
	echo := `{"error":"%s","error_description":"bad","access_token":"` + token + `","client_secret":"` + specialSecret + `"}`
	tests := []struct {
		name, ct, body string
		status         int
	}{
		{name: "invalid_client", status: 401, ct: "application/json", body: strings.Replace(echo, "%s", "invalid_client", 1)},
		{name: "invalid_grant", status: 400, ct: "application/json", body: strings.Replace(echo, "%s", "invalid_grant", 1)},
		{name: "invalid_scope", status: 400, ct: "application/json", body: strings.Replace(echo, "%s", "invalid_scope", 1)},
		{name: "server error", status: 500, ct: "application/json", body: strings.Replace(echo, "%s", "server_error", 1)},
		{name: "200 with error", status: 200, ct: "application/json", body: strings.Replace(echo, "%s", "access_denied", 1)},
		{name: "html", status: 200, ct: "text/html", body: "<html>" + token + specialSecret + "</html>"},
		{name: "malformed", status: 200, ct: "application/json", body: `{"access_token":"` + token + `", "x": }`},
		{name: "no access token", status: 200, ct: "application/json", body: `{"refresh_token":"` + token + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.ct)
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			for _, auth := range []ClientAuth{AuthBasic, AuthPost} {
				_, err := Do(context.Background(), Request{URL: srv.URL, Auth: auth,
					Client: data.ClientInfo{ClientID: specialID, ClientSecret: specialSecret}})
				require.Error(t, err)
				for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
					assert.NotContains(t, s, specialSecret)
					assert.NotContains(t, s, url.QueryEscape(specialSecret))
					assert.NotContains(t, s, token)
				}
			}
		})
	}
}

func TestDoContextCanceled(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-entered; cancel() }()
	start := time.Now()
	_, err := Do(ctx, Request{URL: srv.URL, Client: data.ClientInfo{ClientID: "id", ClientSecret: specialSecret}})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	var e *authorizer.AuthorizationError
	require.ErrorAs(t, err, &e)
	assert.Zero(t, e.StatusCode)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.NotContains(t, err.Error(), specialSecret)
}

func TestDoNetworkErrorIsTemporary(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	_, err := Do(context.Background(), Request{URL: u, Client: data.ClientInfo{ClientID: "id"}})
	var e *authorizer.AuthorizationError
	require.ErrorAs(t, err, &e)
	assert.Zero(t, e.StatusCode)
	assert.True(t, e.Temporary(), "network failure should be temporary: %v", err)
}

func TestDoCapsBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"`+strings.Repeat("a", MaxBodySize)+`"}`)
	}))
	defer srv.Close()
	_, err := Do(context.Background(), Request{URL: srv.URL, Client: data.ClientInfo{ClientID: "id"}})
	var e *authorizer.AuthorizationError
	require.ErrorAs(t, err, &e)
	assert.Contains(t, e.Error(), "larger than 1 MiB")
}

func TestDoDoesNotFollowRedirects(t *testing.T) {
	var followed atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		followed.Store(true)
		fmt.Fprint(w, tokenBody)
	}))
	defer elsewhere.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	_, err := Do(context.Background(), Request{URL: srv.URL, HTTPClient: srv.Client(),
		Client: data.ClientInfo{ClientID: "id", ClientSecret: "s"}})
	var e *authorizer.AuthorizationError
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusTemporaryRedirect, e.StatusCode)
	assert.False(t, followed.Load(), "credentials followed the redirect")
}

func TestDoInvalidRequest(t *testing.T) {
	tests := []struct {
		name    string
		req     Request
		setting string
	}{
		{name: "no URL", req: Request{Client: data.ClientInfo{ClientID: "id"}}, setting: "token URL"},
		{name: "bad URL", req: Request{URL: "http://[::1", Client: data.ClientInfo{ClientID: "id"}}, setting: "token URL"},
		{name: "no client id", req: Request{URL: "http://127.0.0.1:1/token"}, setting: "client id"},
		{name: "unknown auth", req: Request{URL: "http://127.0.0.1:1/token", Auth: 99, Client: data.ClientInfo{ClientID: "id"}},
			setting: "client authentication"},
		{name: "jwt without signer", req: Request{URL: "http://127.0.0.1:1/token", Auth: AuthPrivateKeyJWT,
			Client: data.ClientInfo{ClientID: "id"}}, setting: "client authentication private_key_jwt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Do(context.Background(), tt.req)
			var e *authorizer.InvalidConfigError
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "oauth2auth: "+tt.setting, e.Setting)
		})
	}
}

func TestDoExpiryCountsFromSend(t *testing.T) {
	var got wire
	srv := recordingServer(t, 200, `{"access_token":"a","expires_in":60}`, &got)
	tok, err := Do(context.Background(), Request{URL: srv.URL, Client: data.ClientInfo{ClientID: "id"},
		Now: func() time.Time { return t0 }})
	require.NoError(t, err)
	assert.Equal(t, t0.Add(time.Minute), tok.Expiry)
}

func TestClientAuthNames(t *testing.T) {
	for _, a := range []ClientAuth{AuthBasic, AuthPost, AuthNone, AuthPrivateKeyJWT} {
		got, ok := ParseClientAuth(a.String())
		if !ok || got != a {
			t.Errorf("ParseClientAuth(%q) = %v, %v; want %v", a.String(), got, ok, a)
		}
	}
	if _, ok := ParseClientAuth("tls_client_auth"); ok {
		t.Error("ParseClientAuth accepted an unsupported method")
	}
	assert.Equal(t, "unknown", ClientAuth(42).String())
}
