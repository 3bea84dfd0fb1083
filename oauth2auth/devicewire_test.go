package oauth2auth

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDeviceAuth(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	for _, tc := range []struct {
		name         string
		status       int
		body         string
		wantInterval time.Duration
		wantExpiry   time.Duration
		wantComplete string
		wantErr      string // substring; "" = success
		wantCode     string // AuthorizationError.Code
	}{
		{name: "full", status: 200,
			body:         `{"device_code":"dc","user_code":"AB-CD","verification_uri":"https://idp/device","verification_uri_complete":"https://idp/device?c=AB-CD","expires_in":900,"interval":7}`,
			wantInterval: 7 * time.Second, wantExpiry: 900 * time.Second, wantComplete: "https://idp/device?c=AB-CD"},
		{name: "no interval, no expires_in", status: 200,
			body:       `{"device_code":"dc","user_code":"AB-CD","verification_uri":"https://idp/device"}`,
			wantExpiry: defaultDeviceExpiry},
		{name: "Google verification_url", status: 200,
			body:       `{"device_code":"dc","user_code":"AB","verification_url":"https://idp/d","expires_in":"60","interval":"5"}`,
			wantExpiry: time.Minute, wantInterval: 5 * time.Second},
		{name: "huge values capped", status: 200,
			body:       `{"device_code":"dc","user_code":"AB","verification_uri":"https://idp/d","expires_in":1e30,"interval":1e30}`,
			wantExpiry: maxDeviceExpiry, wantInterval: maxDeviceInterval},
		{name: "no device_code", status: 200, body: `{"user_code":"AB","verification_uri":"https://idp/d"}`, wantErr: "device_code"},
		{name: "no user_code", status: 200, body: `{"device_code":"dc","verification_uri":"https://idp/d"}`, wantErr: "user_code"},
		{name: "control characters in user_code", status: 200,
			body: `{"device_code":"dc","user_code":"AB\u001b[2J","verification_uri":"https://idp/d"}`, wantErr: "user_code"},
		{name: "javascript: URI", status: 200,
			body: `{"device_code":"dc","user_code":"AB","verification_uri":"javascript:alert(1)"}`, wantErr: "verification_uri"},
		{name: "bad complete URI", status: 200,
			body: `{"device_code":"dc","user_code":"AB","verification_uri":"https://idp/d","verification_uri_complete":"file:///etc/passwd"}`, wantErr: "verification_uri_complete"},
		{name: "negative expires_in", status: 200,
			body: `{"device_code":"dc","user_code":"AB","verification_uri":"https://idp/d","expires_in":-1}`, wantErr: "expires_in"},
		{name: "zero expires_in", status: 200,
			body: `{"device_code":"dc","user_code":"AB","verification_uri":"https://idp/d","expires_in":0}`, wantErr: "expires_in"},
		{name: "bad interval", status: 200,
			body: `{"device_code":"dc","user_code":"AB","verification_uri":"https://idp/d","interval":"soon"}`, wantErr: "JSON"},
		{name: "not JSON", status: 200, body: `<html>`, wantErr: "JSON"},
		{name: "error answer", status: 400, body: `{"error":"invalid_scope"}`, wantErr: "invalid_scope", wantCode: "invalid_scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			da, err := parseDeviceAuth(tc.status, jsonHeader, []byte(tc.body), now)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Nil(t, da)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.NotContains(t, err.Error(), `"dc"`)
				var ae *authorizer.AuthorizationError
				require.True(t, errors.As(err, &ae), "typed: %T", err)
				assert.Equal(t, tc.wantCode, ae.Code)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "dc", da.deviceCode)
			assert.Equal(t, tc.wantInterval, da.interval)
			assert.Equal(t, now.Add(tc.wantExpiry), da.prompt.ExpiresAt)
			assert.Equal(t, tc.wantComplete, da.prompt.VerificationURIComplete)
			assert.NotEmpty(t, da.prompt.UserCode)
		})
	}
}

func TestParseDeviceAuthInvalidClient(t *testing.T) {
	_, err := parseDeviceAuth(401, http.Header{"Content-Type": {"application/json"}}, []byte(`{"error":"invalid_client"}`), time.Now())
	var ic *authorizer.InvalidClientError
	require.ErrorAs(t, err, &ic)
}

// FuzzParseDeviceAuth checks that untrusted device authorization answers
// never panic, and that an accepted one is safe to show.
func FuzzParseDeviceAuth(f *testing.F) {
	f.Add(200, []byte(`{"device_code":"dc","user_code":"AB-CD","verification_uri":"https://idp/device","verification_uri_complete":"https://idp/device?c=1","expires_in":900,"interval":7}`))
	f.Add(200, []byte(`{"device_code":"dc","user_code":"AB","verification_url":"http://x/d","expires_in":"1.5","interval":0}`))
	f.Add(400, []byte(`{"error":"slow_down","error_description":"x"}`))
	f.Add(200, []byte(`null`))
	f.Add(500, []byte(`<html>`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		now := time.Unix(1_800_000_000, 0)
		da, err := parseDeviceAuth(status, http.Header{"Content-Type": {"application/json"}}, body, now)
		if err != nil {
			if da != nil {
				t.Fatal("result with error")
			}
			return
		}
		if da.deviceCode == "" || !printable(da.prompt.UserCode) || !webURL(da.prompt.VerificationURI) {
			t.Fatalf("accepted an unusable answer: %+v", da.prompt)
		}
		if !da.prompt.ExpiresAt.After(now) || da.interval < 0 || da.interval > maxDeviceInterval {
			t.Fatalf("bad times: %v %v", da.prompt.ExpiresAt, da.interval)
		}
	})
}
