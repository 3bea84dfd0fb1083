package peertest_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/internal/peertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// postForm posts form to issuer+path and decodes the JSON answer.
func postForm(t *testing.T, ctx context.Context, target string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
	return resp.StatusCode, m
}

func TestApproveDevice(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	status, da := postForm(t, ctx, issuer+"/device/auth", url.Values{
		"client_id": {"sdk-native"}, "scope": {"openid offline_access"}})
	require.Equal(t, http.StatusOK, status, "%v", da)
	deviceCode, userCode := da["device_code"].(string), da["user_code"].(string)
	require.NotEmpty(t, userCode)

	poll := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:device_code"},
		"client_id": {"sdk-native"}, "device_code": {deviceCode}}
	status, tok := postForm(t, ctx, issuer+"/token", poll)
	require.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "authorization_pending", tok["error"], "not approved yet")

	require.NoError(t, peertest.NewUser("alice").ApproveDevice(ctx, issuer, userCode))
	status, tok = postForm(t, ctx, issuer+"/token", poll)
	require.Equal(t, http.StatusOK, status, "%v", tok)
	assert.NotEmpty(t, tok["access_token"])
	assert.NotEmpty(t, tok["refresh_token"], "offline_access kept in the device flow")

	err := peertest.NewUser("alice").ApproveDevice(ctx, issuer, "NOPE-NOPE")
	require.Error(t, err, "an unknown user code is not approved")
	assert.Contains(t, err.Error(), "The code you entered is incorrect")
}

func TestSignIn(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const redirect = "http://127.0.0.1:1/callback" // never reached: StopAt stops there
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	authURL := issuer + "/auth?" + url.Values{
		"client_id": {"sdk-native"}, "response_type": {"code"}, "redirect_uri": {redirect},
		"scope": {"openid"}, "state": {"st-1"}, "code_challenge_method": {"S256"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])},
	}.Encode()

	u := peertest.NewUser("bob")
	u.StopAt = func(target *url.URL) bool { return target.Path == "/callback" }
	p, err := u.SignIn(ctx, authURL)
	require.NoError(t, err)
	require.Equal(t, http.StatusSeeOther, p.Status, "stopped at the redirect to the callback: %.300s", p.Body)
	loc, err := url.Parse(p.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "st-1", loc.Query().Get("state"))
	code := loc.Query().Get("code")
	require.NotEmpty(t, code)

	status, tok := postForm(t, ctx, issuer+"/token", url.Values{"grant_type": {"authorization_code"},
		"client_id": {"sdk-native"}, "code": {code}, "redirect_uri": {redirect}, "code_verifier": {verifier}})
	require.Equal(t, http.StatusOK, status, "%v", tok)
	assert.NotEmpty(t, tok["id_token"])
}
