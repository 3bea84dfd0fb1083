package srp_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/srp"
	"github.com/seed-d44eba79/authorizer/srp/internal/srptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

var t0 = time.Date(2026, 11, 23, 15, 4, 5, 0, time.UTC)

func TestAuthorizeToken(t *testing.T) {
	f := pool("")
	a := newAuth(t, f, newClock(t0), "alice", alicePass)
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)

	assert.Equal(t, "Bearer", tok.TokenType)
	assert.Equal(t, int64(3600), tok.ExpiresIn)
	assert.Equal(t, t0.Add(time.Hour), tok.Expiry)
	assert.NotEmpty(t, tok.RefreshToken)
	assert.Equal(t, tok.AccessToken, tok.Extra("access_token"))
	assert.Equal(t, "access", srptest.ClaimsOf(tok.AccessToken)["token_use"])
	assert.Equal(t, "id", srptest.ClaimsOf(tok.Extra("id_token").(string))["token_use"])
	assert.False(t, a.Expired(tok))

	calls := f.Calls()
	require.Len(t, calls, 2)
	assert.Equal(t, "alice", calls[0].Params["USERNAME"])
	assert.NotEmpty(t, calls[0].Params["SRP_A"])
	assert.NotContains(t, calls[0].Params, "SECRET_HASH", "public client sends no SECRET_HASH")
	assert.Equal(t, testClientID, a.ClientInfo().ClientID)
}

func TestWithIDToken(t *testing.T) {
	a := newAuth(t, pool(""), newClock(t0), "alice", alicePass, srp.WithIDToken())
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "id", srptest.ClaimsOf(tok.AccessToken)["token_use"])
	assert.Equal(t, tok.AccessToken, tok.Extra("id_token"))
	assert.Equal(t, "access", srptest.ClaimsOf(tok.Extra("access_token").(string))["token_use"])
}

func TestExpiredFollowsClock(t *testing.T) {
	clk := newClock(t0)
	a := newAuth(t, pool(""), clk, "alice", alicePass)
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	clk.Add(time.Hour - data.ExpirationGap - time.Second)
	assert.False(t, a.Expired(tok))
	clk.Add(time.Second)
	assert.True(t, a.Expired(tok))
}

// TestSecretHashUsesCanonicalName: signed in with an alias, the
// InitiateAuth hash is over the alias (the name sent), the challenge answer
// and every refresh use the canonical USERNAME Cognito returned. The fake
// refuses any other hash.
func TestSecretHashUsesCanonicalName(t *testing.T) {
	f := pool(testSecret)
	a := newAuth(t, f, newClock(t0), "alice@example.test", alicePass)
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	_, err = a.Refresh(context.Background(), tok)
	require.NoError(t, err)

	calls := f.Calls()
	require.Len(t, calls, 3)
	assert.Equal(t, srptest.SecretHash(testSecret, "alice@example.test", testClientID), calls[0].Params["SECRET_HASH"])
	assert.Equal(t, "alice", calls[1].Params["USERNAME"])
	assert.Equal(t, srptest.SecretHash(testSecret, "alice", testClientID), calls[1].Params["SECRET_HASH"])
	assert.Equal(t, srptest.SecretHash(testSecret, "alice", testClientID), calls[2].Params["SECRET_HASH"])

	// A token from elsewhere (another Authorizer, a cache) still refreshes:
	// the canonical name travels in its Extra.
	b := newAuth(t, f, newClock(t0), "alice@example.test", alicePass)
	_, err = b.Refresh(context.Background(), tok)
	require.NoError(t, err)
	// And without the Extra, from the access token's username claim.
	bare := &oauth2.Token{AccessToken: tok.Extra("access_token").(string), RefreshToken: tok.RefreshToken}
	c := newAuth(t, f, newClock(t0), "alice@example.test", alicePass)
	_, err = c.Refresh(context.Background(), bare)
	require.NoError(t, err)
}

func TestRefresh(t *testing.T) {
	clk := newClock(t0)
	f := pool(testSecret)
	a := newAuth(t, f, clk, "alice", alicePass)
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	clk.Add(50 * time.Minute)

	tok2, err := a.Refresh(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, tok.RefreshToken, tok2.RefreshToken, "Cognito sends no new refresh token: keep the old one")
	assert.NotEqual(t, tok.AccessToken, tok2.AccessToken)
	assert.Equal(t, clk.Now().Add(time.Hour), tok2.Expiry)
	assert.Equal(t, 1, f.Count("InitiateAuth", "REFRESH_TOKEN_AUTH"))
	assert.Equal(t, 1, f.Count("InitiateAuth", "USER_SRP_AUTH"), "refresh does no SRP")
	assert.Equal(t, tok.RefreshToken, f.Calls()[2].Params["REFRESH_TOKEN"])
}

func TestRefreshRefused(t *testing.T) {
	f := pool("")
	a := newAuth(t, f, newClock(t0), "alice", alicePass)
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	f.Revoke()
	_, err = a.Refresh(context.Background(), tok)
	var ice *authorizer.InvalidCredentialsError
	require.ErrorAs(t, err, &ice)
	assert.Equal(t, 1, f.Count("InitiateAuth", "USER_SRP_AUTH"), "Refresh never signs in itself")

	_, err = a.Refresh(context.Background(), &oauth2.Token{AccessToken: "x"})
	require.ErrorAs(t, err, &ice, "no refresh token")
}

// TestTransportFallsBackToOneSignIn: through base.Transport, a refused
// refresh token leads to exactly one full SRP sign-in.
func TestTransportFallsBackToOneSignIn(t *testing.T) {
	f := pool("")
	f.ExpiresIn = 1 // expired (by TokenExpired's quarter-lifetime gap) after 750 ms
	a, err := srp.NewAuthorizer(data.ClientInfo{ClientID: testClientID}, data.UserCredentials{UserName: "alice", Password: alicePass},
		testEnv, srp.WithCognitoClient(f))
	require.NoError(t, err)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer api.Close()
	tr := base.NewTransport(a, base.WithRefreshAhead(0))
	defer tr.Close()
	hc := &http.Client{Transport: tr}
	get := func() {
		t.Helper()
		resp, err := hc.Get(api.URL)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	get()
	f.Revoke()
	time.Sleep(time.Second) // the token is expired: the Transport refreshes
	get()
	assert.Equal(t, 1, f.Count("InitiateAuth", "REFRESH_TOKEN_AUTH"))
	assert.Equal(t, 2, f.Count("InitiateAuth", "USER_SRP_AUTH"), "one sign-in at start, one after the refused refresh")
	assert.Equal(t, 2, f.Count("RespondToAuthChallenge", "PASSWORD_VERIFIER"))
}

func TestWithoutStoredPassword(t *testing.T) {
	f := pool("")
	a := newAuth(t, f, newClock(t0), "alice", alicePass, srp.WithoutStoredPassword())
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	_, err = a.Refresh(context.Background(), tok)
	require.NoError(t, err, "refresh works without the password")
	n := len(f.Calls())
	_, err = a.Authorize(context.Background())
	var ice *authorizer.InvalidCredentialsError
	require.ErrorAs(t, err, &ice)
	assert.Len(t, f.Calls(), n, "no call without a password")
}

func TestDeviceKey(t *testing.T) {
	f := pool("")
	a := newAuth(t, f, newClock(t0), "dora", "Dora-Passw0rd!")
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	_, err = a.Refresh(context.Background(), tok)
	require.NoError(t, err, "the fake refuses a refresh without the device key")
	assert.Equal(t, "eu-west-1_device-1", f.Calls()[2].Params["DEVICE_KEY"])

	// WithDeviceKey: a known key is sent for a bare token.
	b := newAuth(t, f, newClock(t0), "dora", "Dora-Passw0rd!", srp.WithDeviceKey("eu-west-1_device-1"))
	_, err = b.Refresh(context.Background(), &oauth2.Token{AccessToken: "x", RefreshToken: tok.RefreshToken})
	require.NoError(t, err)

	// A user without a device sends none.
	c := newAuth(t, f, newClock(t0), "alice", alicePass)
	tok, err = c.Authorize(context.Background())
	require.NoError(t, err)
	_, err = c.Refresh(context.Background(), tok)
	require.NoError(t, err)
	assert.NotContains(t, f.Calls()[len(f.Calls())-1].Params, "DEVICE_KEY")
}

func TestNewPasswordRequired(t *testing.T) {
	f := pool(testSecret)
	asked := 0
	a := newAuth(t, f, newClock(t0), "frank", "Frank-Temp0rary!", srp.WithNewPasswordHandler(func(ctx context.Context) (string, error) {
		asked++
		return "Frank-N3w-Passw0rd!", nil
	}))
	_, err := a.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, asked)
	assert.Equal(t, "Frank-N3w-Passw0rd!", f.Password("frank"))
	last := f.Calls()[2]
	assert.Equal(t, "NEW_PASSWORD_REQUIRED", last.Flow)
	assert.Equal(t, "frank", last.Params["USERNAME"])

	// The next full sign-in uses the new password.
	_, err = a.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, asked)
}

func TestMFA(t *testing.T) {
	for _, tc := range []struct {
		name    string
		code    string
		wantErr string // the Code of the AuthorizationError, "" for success
	}{
		{"right code", "123456", ""},
		{"wrong code", "000000", "CodeMismatchException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := pool(testSecret)
			var got string
			a := newAuth(t, f, newClock(t0), "mallory", "Mallory-Passw0rd!", srp.WithMFAHandler(func(ctx context.Context, challenge string) (string, error) {
				got = challenge
				return tc.code, nil
			}))
			_, err := a.Authorize(context.Background())
			assert.Equal(t, "SOFTWARE_TOKEN_MFA", got)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			var ae *authorizer.AuthorizationError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.wantErr, ae.Code)
			assert.False(t, ae.Temporary())
		})
	}
}

func TestChallengeWithoutHandler(t *testing.T) {
	for _, tc := range []struct{ user, password, challenge string }{
		{"frank", "Frank-Temp0rary!", "NEW_PASSWORD_REQUIRED"},
		{"mallory", "Mallory-Passw0rd!", "SOFTWARE_TOKEN_MFA"},
		{"carol", "Carol-Passw0rd!", "CUSTOM_CHALLENGE"},
	} {
		t.Run(tc.challenge, func(t *testing.T) {
			a := newAuth(t, pool(""), newClock(t0), tc.user, tc.password)
			_, err := a.Authorize(context.Background())
			var ce *srp.ChallengeError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.challenge, ce.Name)
			var ae *authorizer.AuthorizationError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.challenge, ae.Code)
			assert.False(t, ae.Temporary())
			assert.Contains(t, err.Error(), tc.challenge)
		})
	}
}

func TestGenericChallengeHandler(t *testing.T) {
	a := newAuth(t, pool(testSecret), newClock(t0), "carol", "Carol-Passw0rd!",
		srp.WithChallengeHandler(func(ctx context.Context, c srp.Challenge) (map[string]string, error) {
			if c.Name != "CUSTOM_CHALLENGE" || c.Parameters["USERNAME"] != "carol" {
				return nil, fmt.Errorf("unexpected %+v", c)
			}
			return map[string]string{"ANSWER": "CUSTOM_CHALLENGE"}, nil
		}))
	_, err := a.Authorize(context.Background())
	require.NoError(t, err, "USERNAME and SECRET_HASH are added to the handler's answer")
}

func TestHandlerError(t *testing.T) {
	cause := errors.New("user went away")
	a := newAuth(t, pool(""), newClock(t0), "mallory", "Mallory-Passw0rd!", srp.WithMFAHandler(func(ctx context.Context, _ string) (string, error) {
		return "", fmt.Errorf("prompt: %w", cause)
	}))
	_, err := a.Authorize(context.Background())
	require.ErrorIs(t, err, cause)
	var ce *srp.ChallengeError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "SOFTWARE_TOKEN_MFA", ce.Name)
}

func TestContextCanceled(t *testing.T) {
	a := newAuth(t, pool(""), newClock(t0), "alice", alicePass)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := a.Authorize(ctx)
	require.ErrorIs(t, err, context.Canceled)
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
}

func TestConcurrentUse(t *testing.T) {
	f := pool(testSecret)
	a := newAuth(t, f, newClock(t0), "alice@example.test", alicePass)
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	errs := make(chan error, 20)
	for i := range 20 {
		go func() {
			var err error
			if i%2 == 0 {
				_, err = a.Authorize(context.Background())
			} else {
				_, err = a.Refresh(context.Background(), tok)
			}
			errs <- err
		}()
	}
	for range 20 {
		require.NoError(t, <-errs)
	}
}
