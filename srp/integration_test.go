package srp_test

// Integration tests against moto_server (scripts/peers/moto). They read the
// seed JSON named by AUTHORIZER_COGNITO_SEED and are skipped without it.
//
// moto does not check the SRP proof (any PASSWORD_CLAIM_SIGNATURE gets
// tokens), so a wrong password is not tested here: the test-side verifier
// covers it (TestWrongPasswordFailsOnce, srptest). moto is run through
// srp_compat.py, which makes its SECRET_BLOCK base64 as real Cognito's is.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/internal/peertest"
	"github.com/seed-d44eba79/authorizer/srp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const seedVar = "AUTHORIZER_COGNITO_SEED"

// targetCounter counts Cognito calls by X-Amz-Target and AuthFlow as they
// go over the wire.
type targetCounter struct {
	mu     sync.Mutex
	counts map[string]int // "InitiateAuth USER_SRP_AUTH", "RespondToAuthChallenge PASSWORD_VERIFIER", ...
}

func (c *targetCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	var in struct{ AuthFlow, ChallengeName string }
	_ = json.Unmarshal(body, &in)
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSCognitoIdentityProviderService.")
	c.mu.Lock()
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	c.counts[strings.TrimSpace(op+" "+in.AuthFlow+in.ChallengeName)]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *targetCounter) get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[key]
}

func motoEnv(s peertest.CognitoSeed) srp.Environment {
	return srp.Environment{Name: "moto", Region: s.Region, UserPoolID: s.UserPoolID, Endpoint: s.Endpoint}
}

// motoAuth returns an Authorizer for user on the named client, counting
// its calls.
func motoAuth(t *testing.T, s peertest.CognitoSeed, client, user string, opts ...srp.Option) (*srp.Authorizer, *targetCounter) {
	t.Helper()
	c := s.Clients[client]
	counter := &targetCounter{}
	opts = append([]srp.Option{srp.WithHTTPClient(&http.Client{Transport: counter, Timeout: 10 * time.Second})}, opts...)
	a, err := srp.NewAuthorizer(data.ClientInfo{ClientID: c.ClientID, ClientSecret: c.ClientSecret},
		data.UserCredentials{UserName: user, Password: s.Users[user].Password}, motoEnv(s), opts...)
	require.NoError(t, err)
	return a, counter
}

func TestMotoSignInAndRefresh(t *testing.T) {
	s := peertest.Cognito(t, seedVar)
	for _, client := range []string{"sdk-public", "sdk-confidential"} {
		t.Run(client, func(t *testing.T) {
			ctx := context.Background()
			a, counter := motoAuth(t, s, client, "alice")
			tok, err := a.Authorize(ctx)
			require.NoError(t, err)
			claims := jwtClaims(t, tok.AccessToken)
			assert.Equal(t, "access", claims["token_use"])
			assert.Equal(t, "alice", claims["username"])
			assert.Equal(t, s.Clients[client].ClientID, claims["client_id"])
			assert.Equal(t, int64(3600), tok.ExpiresIn)
			require.NotEmpty(t, tok.RefreshToken)
			assert.Equal(t, 1, counter.get("InitiateAuth USER_SRP_AUTH"))
			assert.Equal(t, 1, counter.get("RespondToAuthChallenge PASSWORD_VERIFIER"))

			tok2, err := a.Refresh(ctx, tok)
			require.NoError(t, err)
			assert.Equal(t, 1, counter.get("InitiateAuth REFRESH_TOKEN_AUTH"), "refresh is one REFRESH_TOKEN_AUTH call")
			assert.Equal(t, 1, counter.get("InitiateAuth USER_SRP_AUTH"), "and no SRP")
			assert.Equal(t, tok.RefreshToken, tok2.RefreshToken, "moto returns no new refresh token: the old one is kept")
			assert.NotEqual(t, tok.AccessToken, tok2.AccessToken)
			assert.Equal(t, "alice", jwtClaims(t, tok2.AccessToken)["username"])
		})
	}
}

func TestMotoIDToken(t *testing.T) {
	s := peertest.Cognito(t, seedVar)
	a, _ := motoAuth(t, s, "sdk-confidential", "bob", srp.WithIDToken())
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	claims := jwtClaims(t, tok.AccessToken)
	assert.Equal(t, "id", claims["token_use"])
	assert.Equal(t, "bob", claims["cognito:username"])
	assert.Equal(t, s.Clients["sdk-confidential"].ClientID, claims["aud"])
}

func TestMotoRefusals(t *testing.T) {
	s := peertest.Cognito(t, seedVar)
	t.Run("disabled user", func(t *testing.T) {
		a, counter := motoAuth(t, s, "sdk-public", "dave")
		_, err := a.Authorize(context.Background())
		var ice *authorizer.InvalidCredentialsError
		require.ErrorAs(t, err, &ice)
		assert.Equal(t, "dave", ice.UserName)
		assert.NotContains(t, err.Error(), s.Users["dave"].Password)
		assert.NotContains(t, err.Error(), "disabled", "no account-state enumeration")
		assert.Equal(t, 1, counter.get("InitiateAuth USER_SRP_AUTH"), "never retried")
	})
	t.Run("unknown user", func(t *testing.T) {
		c := s.Clients["sdk-public"]
		a, err := srp.NewAuthorizer(data.ClientInfo{ClientID: c.ClientID}, data.UserCredentials{UserName: "nobody", Password: "Nobody-Passw0rd!"}, motoEnv(s))
		require.NoError(t, err)
		_, err = a.Authorize(context.Background())
		var ice *authorizer.InvalidCredentialsError
		require.ErrorAs(t, err, &ice)
	})
	t.Run("unknown client", func(t *testing.T) {
		a, err := srp.NewAuthorizer(data.ClientInfo{ClientID: "no-such-client"}, data.UserCredentials{UserName: "alice", Password: s.Users["alice"].Password}, motoEnv(s))
		require.NoError(t, err)
		_, err = a.Authorize(context.Background())
		var ice *authorizer.InvalidClientError
		require.ErrorAs(t, err, &ice)
		assert.Equal(t, "no-such-client", ice.ClientID)
		assert.False(t, ice.Temporary())
	})
	t.Run("wrong client secret", func(t *testing.T) {
		c := s.Clients["sdk-confidential"]
		a, err := srp.NewAuthorizer(data.ClientInfo{ClientID: c.ClientID, ClientSecret: "not-the-secret"}, data.UserCredentials{UserName: "alice", Password: s.Users["alice"].Password}, motoEnv(s))
		require.NoError(t, err)
		_, err = a.Authorize(context.Background())
		var ice *authorizer.InvalidCredentialsError
		require.ErrorAs(t, err, &ice)
		assert.NotContains(t, err.Error(), "=", "moto echoes the SECRET_HASH it got; it must not reach the error")
	})
}

// TestMotoNewPassword: frank must change his password; the handler's
// answer completes the sign-in. frank is put back afterwards.
func TestMotoNewPassword(t *testing.T) {
	s := peertest.Cognito(t, seedVar)
	t.Cleanup(func() { resetFrank(t, s) })
	const newPassword = "Frank-N3w-Passw0rd!"
	asked := 0
	a, counter := motoAuth(t, s, "sdk-confidential", "frank", srp.WithNewPasswordHandler(func(ctx context.Context) (string, error) {
		asked++
		return newPassword, nil
	}))
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, asked)
	assert.Equal(t, 1, counter.get("RespondToAuthChallenge NEW_PASSWORD_REQUIRED"))
	assert.Equal(t, "frank", jwtClaims(t, tok.AccessToken)["username"])

	// Without a handler the challenge is a typed error naming it.
	resetFrank(t, s)
	b, _ := motoAuth(t, s, "sdk-public", "frank")
	_, err = b.Authorize(context.Background())
	var ce *srp.ChallengeError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "NEW_PASSWORD_REQUIRED", ce.Name)
}

// resetFrank makes frank FORCE_CHANGE_PASSWORD again, with a signed admin
// call (moto accepts any keys; these are dummies, in test code only).
func resetFrank(t *testing.T, s peertest.CognitoSeed) {
	t.Helper()
	_, err := adminClient(s).AdminSetUserPassword(context.Background(), &cip.AdminSetUserPasswordInput{
		UserPoolId: aws.String(s.UserPoolID), Username: aws.String("frank"),
		Password: aws.String(s.Users["frank"].Password), Permanent: false,
	})
	require.NoError(t, err)
}

func adminClient(s peertest.CognitoSeed) *cip.Client {
	return cip.New(cip.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test", Source: "test"}, nil
		}),
	})
}

// TestMotoRevokedRefreshToken: after a global sign-out the refresh token is
// refused (InvalidCredentialsError), and base.Transport falls back to one
// full sign-in.
func TestMotoRevokedRefreshToken(t *testing.T) {
	s := peertest.Cognito(t, seedVar)
	a, counter := motoAuth(t, s, "sdk-confidential", "bob")
	ctx := context.Background()
	tok, err := a.Authorize(ctx)
	require.NoError(t, err)
	_, err = adminClient(s).AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(s.UserPoolID), Username: aws.String("bob")})
	require.NoError(t, err)

	_, err = a.Refresh(ctx, tok)
	var ice *authorizer.InvalidCredentialsError
	require.ErrorAs(t, err, &ice)
	assert.NotContains(t, err.Error(), tok.RefreshToken)
	assert.Equal(t, 1, counter.get("InitiateAuth USER_SRP_AUTH"), "Refresh does not sign in itself")

	// Through base.Transport: the API refuses the revoked session's token
	// (401); the Transport refreshes, the refresh is refused, and it falls
	// back to exactly one full sign-in, then replays the request.
	var mu sync.Mutex
	refused := ""
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Authorization") == "Bearer "+refused {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer api.Close()
	b, counter := motoAuth(t, s, "sdk-confidential", "bob")
	hc := base.NewClient(b)
	resp, err := hc.Get(api.URL)
	require.NoError(t, err)
	resp.Body.Close()
	old := resp.Request.Header.Get("Authorization")
	_, err = adminClient(s).AdminUserGlobalSignOut(ctx, &cip.AdminUserGlobalSignOutInput{UserPoolId: aws.String(s.UserPoolID), Username: aws.String("bob")})
	require.NoError(t, err)
	mu.Lock()
	refused = strings.TrimPrefix(old, "Bearer ")
	mu.Unlock()

	resp, err = hc.Get(api.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, 1, counter.get("InitiateAuth REFRESH_TOKEN_AUTH"))
	assert.Equal(t, 2, counter.get("InitiateAuth USER_SRP_AUTH"), "one sign-in, then one after the refused refresh")
}

// TestMotoProtectedAPI: through base.NewClient a protected API receives
// the user's access token, whose RS256 signature verifies against moto's
// JWKS (the seed's jwksUrl).
func TestMotoProtectedAPI(t *testing.T) {
	s := peertest.Cognito(t, seedVar)
	keys := fetchJWKS(t, s.JWKSURL)
	var seen sync.Map
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		claims, err := verifyRS256(raw, keys)
		if !ok || err != nil || claims["iss"] != s.Issuer || claims["token_use"] != "access" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		seen.Store(claims["username"], true)
		io.WriteString(w, "hello "+claims["username"].(string))
	}))
	defer api.Close()

	a, counter := motoAuth(t, s, "sdk-confidential", "alice")
	hc := base.NewClient(a)
	defer hc.CloseIdleConnections()
	for range 3 {
		resp, err := hc.Get(api.URL)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		assert.Equal(t, "hello alice", string(body))
	}
	_, ok := seen.Load("alice")
	assert.True(t, ok)
	assert.Equal(t, 1, counter.get("InitiateAuth USER_SRP_AUTH"), "three requests, one sign-in")
}

func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func fetchJWKS(t *testing.T, url string) map[string]*rsa.PublicKey {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	var set struct {
		Keys []struct{ Kid, Kty, N, E string } `json:"keys"`
	}
	require.NoError(t, json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set))
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		require.NoError(t, errors.Join(err1, err2))
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	require.NotEmpty(t, keys)
	return keys
}

// verifyRS256 checks a JWT's RS256 signature with the key its kid names
// and returns its claims.
func verifyRS256(tok string, keys map[string]*rsa.PublicKey) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errors.New("not a JWT")
	}
	var hdr struct{ Alg, Kid string }
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(h, &hdr) != nil || hdr.Alg != "RS256" || keys[hdr.Kid] == nil {
		return nil, errors.New("bad header")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(keys[hdr.Kid], crypto.SHA256, sum[:], sig); err != nil {
		return nil, err
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	return claims, json.Unmarshal(b, &claims)
}
