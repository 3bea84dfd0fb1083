package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/internal/peertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func deviceAuth(t *testing.T, ctx context.Context, issuer string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, issuer+"/device/auth",
		strings.NewReader(url.Values{"client_id": {"sdk-native"}, "scope": {"openid"}}.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return m
}

func TestRun(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	da := deviceAuth(t, ctx, issuer)
	msg, err := run(ctx, issuer, "alice", da["user_code"].(string))
	require.NoError(t, err)
	assert.Contains(t, msg, "approved")

	da = deviceAuth(t, ctx, issuer)
	msg, err = run(ctx, "http://127.0.0.1:1", "bob", da["verification_uri_complete"].(string))
	require.NoError(t, err, "the URL names the issuer")
	assert.Contains(t, msg, "as bob")

	_, err = run(ctx, issuer, "alice", "NOPE-NOPE")
	require.ErrorContains(t, err, "incorrect")

	// A browser sign-in reaches the program's loopback callback with a code.
	got := make(chan url.Values, 1)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.Query()
		_, _ = w.Write([]byte("signed in"))
	}))
	defer cb.Close()
	authURL := issuer + "/auth?" + url.Values{"client_id": {"sdk-native"}, "response_type": {"code"},
		"redirect_uri": {cb.URL + "/callback"}, "scope": {"openid"}, "state": {"s"},
		"code_challenge_method": {"S256"}, "code_challenge": {strings.Repeat("A", 43)}}.Encode()
	msg, err = run(ctx, issuer, "carol", authURL)
	require.NoError(t, err)
	assert.Contains(t, msg, "/callback answered 200")
	q := <-got
	assert.NotEmpty(t, q.Get("code"))
	assert.Equal(t, "s", q.Get("state"))
}
