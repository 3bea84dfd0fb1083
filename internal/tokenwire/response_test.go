package tokenwire

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func jsonHeader() http.Header { return http.Header{"Content-Type": {"application/json"}} }

func TestParseResponseToken(t *testing.T) {
	tests := []struct {
		name        string
		header      http.Header
		body        string
		lifetime    time.Duration
		wantExpiry  time.Duration
		wantType    string
		wantRefresh string
	}{
		{name: "expires_in number", body: `{"access_token":"at","token_type":"Bearer","expires_in":3600}`,
			wantExpiry: time.Hour, wantType: "Bearer"},
		{name: "expires_in string", body: `{"access_token":"at","expires_in":"120"}`, wantExpiry: 2 * time.Minute},
		{name: "expires_in float", body: `{"access_token":"at","expires_in":59.9}`, wantExpiry: 59 * time.Second},
		{name: "no expires_in uses default", body: `{"access_token":"at"}`, lifetime: 7 * time.Minute, wantExpiry: 7 * time.Minute},
		{name: "no expires_in and no default", body: `{"access_token":"at"}`, wantExpiry: data.DefaultTokenLifetime},
		{name: "zero expires_in is not forever", body: `{"access_token":"at","expires_in":0}`, wantExpiry: data.DefaultTokenLifetime},
		{name: "negative expires_in", body: `{"access_token":"at","expires_in":-5}`, wantExpiry: data.DefaultTokenLifetime},
		{name: "garbage expires_in", body: `{"access_token":"at","expires_in":"soon"}`, wantExpiry: data.DefaultTokenLifetime},
		{name: "huge expires_in is capped", body: `{"access_token":"at","expires_in":1e300}`, wantExpiry: maxLifetime},
		{name: "refresh token", body: `{"access_token":"at","refresh_token":"rt","token_type":"bearer","expires_in":5}`,
			wantExpiry: 5 * time.Second, wantType: "Bearer", wantRefresh: "rt"},
		{name: "form encoded", header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
			body: "access_token=at&expires_in=60&token_type=bearer", wantExpiry: time.Minute, wantType: "Bearer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = jsonHeader()
			}
			tok, err := ParseResponse(http.StatusOK, h, []byte(tt.body), t0, tt.lifetime)
			require.NoError(t, err)
			assert.Equal(t, "at", tok.AccessToken)
			assert.Equal(t, t0.Add(tt.wantExpiry), tok.Expiry)
			assert.Equal(t, int64(tt.wantExpiry/time.Second), tok.ExpiresIn)
			if tt.wantType == "" {
				tt.wantType = "Bearer" // no token_type is taken as Bearer
			}
			assert.Equal(t, tt.wantType, tok.TokenType)
			assert.Equal(t, tt.wantRefresh, tok.RefreshToken)
		})
	}
}

func TestParseResponseExtra(t *testing.T) {
	body := `{"access_token":"at","expires_in":60,"id_token":"a.b.c","scope":"api:read api:write"}`
	tok, err := ParseResponse(200, jsonHeader(), []byte(body), t0, 0)
	require.NoError(t, err)
	assert.Equal(t, "a.b.c", tok.Extra("id_token"))
	assert.Equal(t, "api:read api:write", tok.Extra("scope"))
}

func TestParseResponseErrors(t *testing.T) {
	type want int
	const (
		wantClient want = iota
		wantCreds
		wantAuthz
	)
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		want       want
		code       string
		temporary  bool
		retryAfter time.Duration
		msg        string
	}{
		{name: "invalid_client", status: 401, body: `{"error":"invalid_client","error_description":"client authentication failed"}`,
			want: wantClient, code: "invalid_client"},
		{name: "unauthorized_client", status: 400, body: `{"error":"unauthorized_client"}`, want: wantClient, code: "unauthorized_client"},
		{name: "401 without code", status: 401, body: `{}`, want: wantClient},
		{name: "invalid_grant", status: 400, body: `{"error":"invalid_grant","error_description":"grant request is invalid"}`,
			want: wantCreds, code: "invalid_grant"},
		{name: "invalid_request", status: 400, body: `{"error":"invalid_request","error_description":"requested grant type is not allowed for this client"}`,
			want: wantAuthz, code: "invalid_request"},
		{name: "invalid_scope", status: 400, body: `{"error":"invalid_scope"}`, want: wantAuthz, code: "invalid_scope"},
		{name: "invalid_target", status: 400, body: `{"error":"invalid_target"}`, want: wantAuthz, code: "invalid_target"},
		{name: "authorization_pending", status: 400, body: `{"error":"authorization_pending"}`, want: wantAuthz, code: "authorization_pending"},
		{name: "slow_down", status: 400, body: `{"error":"slow_down"}`, want: wantAuthz, code: "slow_down"},
		{name: "expired_token", status: 400, body: `{"error":"expired_token"}`, want: wantAuthz, code: "expired_token"},
		{name: "access_denied", status: 400, body: `{"error":"access_denied"}`, want: wantAuthz, code: "access_denied"},
		{name: "400 without code", status: 400, body: `{"message":"nope"}`, want: wantAuthz, msg: "without an error code"},
		{name: "429 retry seconds", status: 429, header: http.Header{"Retry-After": {"7"}}, body: `{"error":"slow_down"}`,
			want: wantAuthz, code: "slow_down", temporary: true, retryAfter: 7 * time.Second},
		{name: "503 retry date", status: 503, header: http.Header{"Retry-After": {t0.Add(90 * time.Second).Format(http.TimeFormat)}},
			body: `{"error":"temporarily_unavailable"}`, want: wantAuthz, code: "temporarily_unavailable", temporary: true, retryAfter: 90 * time.Second},
		{name: "500 invalid_client is still temporary", status: 500, body: `{"error":"invalid_client"}`,
			want: wantAuthz, code: "invalid_client", temporary: true},
		{name: "502 html", status: 502, header: http.Header{"Content-Type": {"text/html"}, "Retry-After": {"3"}},
			body: `<html>bad gateway</html>`, want: wantAuthz, temporary: true, retryAfter: 3 * time.Second, msg: "HTML page"},
		{name: "200 html", status: 200, header: http.Header{"Content-Type": {"text/html; charset=utf-8"}},
			body: `<!doctype html><p>sign in</p>`, want: wantAuthz, msg: "HTML page"},
		{name: "200 html without content type", status: 200, header: http.Header{}, body: "  <html>", want: wantAuthz, msg: "HTML page"},
		{name: "200 malformed json", status: 200, body: `{"access_token":`, want: wantAuthz, msg: "not a JSON object"},
		{name: "200 json array", status: 200, body: `["access_token"]`, want: wantAuthz, msg: "not a JSON object"},
		{name: "200 two objects", status: 200, body: `{"access_token":"a"}{"x":1}`, want: wantAuthz, msg: "not a JSON object"},
		{name: "200 empty", status: 200, body: ``, want: wantAuthz, msg: "empty body"},
		{name: "200 with error", status: 200, body: `{"error":"authorization_pending"}`, want: wantAuthz,
			code: "authorization_pending", msg: "answered success with an error"},
		{name: "200 with error and token", status: 200, body: `{"error":"server_error","access_token":"at"}`, want: wantAuthz, code: "server_error"},
		{name: "200 without access_token", status: 200, body: `{"token_type":"Bearer","expires_in":60}`, want: wantAuthz, msg: "without an access_token"},
		{name: "200 access_token not a string", status: 200, body: `{"access_token":42}`, want: wantAuthz, msg: "without an access_token"},
		{name: "redirect", status: 302, header: http.Header{"Location": {"https://elsewhere/"}}, body: ``, want: wantAuthz, msg: "redirect, which is not followed"},
		{name: "400 empty", status: 400, body: ``, want: wantAuthz, msg: "empty body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header
			if h == nil {
				h = jsonHeader()
			}
			tok, err := ParseResponse(tt.status, h, []byte(tt.body), t0, 0)
			require.Error(t, err)
			assert.Nil(t, tok)
			var tmp interface{ Temporary() bool }
			require.True(t, errors.As(err, &tmp), "error %T has no Temporary method", err)
			assert.Equal(t, tt.temporary, tmp.Temporary(), "Temporary()")
			switch tt.want {
			case wantClient:
				var e *authorizer.InvalidClientError
				require.ErrorAs(t, err, &e)
				assert.Equal(t, tt.status, e.StatusCode)
				assert.Equal(t, tt.code, e.Code)
			case wantCreds:
				var e *authorizer.InvalidCredentialsError
				require.ErrorAs(t, err, &e)
				assert.Equal(t, tt.code, e.Code)
			case wantAuthz:
				var e *authorizer.AuthorizationError
				require.ErrorAs(t, err, &e)
				assert.Equal(t, tt.status, e.StatusCode)
				assert.Equal(t, tt.code, e.Code)
				assert.Equal(t, tt.retryAfter, e.RetryAfter)
				assert.Contains(t, e.Error(), tt.msg)
				assert.Contains(t, e.Error(), "oauth2auth: ")
			}
		})
	}
}

// A success status with an error is an AuthorizationError (the answer is
// malformed) that still tells what the code means.
func TestParseResponseSuccessWithErrorCode(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		inner any
	}{
		{name: "invalid_client", body: `{"error":"invalid_client"}`, inner: new(*authorizer.InvalidClientError)},
		{name: "invalid_grant", body: `{"error":"invalid_grant"}`, inner: new(*authorizer.InvalidCredentialsError)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseResponse(200, jsonHeader(), []byte(tt.body), t0, 0)
			var ae *authorizer.AuthorizationError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, 200, ae.StatusCode)
			assert.Equal(t, tt.name, ae.Code)
			assert.Contains(t, ae.Error(), "answered success with an error")
			require.ErrorAs(t, err, tt.inner)
		})
	}
}

func TestParseResponseErrorFields(t *testing.T) {
	body := `{"error":"invalid_scope","error_description":"scope x\nis unknown","error_uri":"https://idp/errors#scope"}`
	_, err := ParseResponse(400, jsonHeader(), []byte(body), t0, 0)
	var e *authorizer.AuthorizationError
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "scope x is unknown", e.Description, "control characters are replaced")
	assert.Equal(t, "https://idp/errors#scope", e.URI)
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name, value string
		want        time.Duration
	}{
		{name: "absent", value: "", want: 0},
		{name: "seconds", value: "120", want: 2 * time.Minute},
		{name: "zero", value: "0", want: 0},
		{name: "negative", value: "-3", want: 0},
		{name: "huge", value: "99999999999999999", want: maxRetryAfter},
		{name: "date", value: t0.Add(time.Minute).Format(http.TimeFormat), want: time.Minute},
		{name: "date in the past", value: t0.Add(-time.Minute).Format(http.TimeFormat), want: 0},
		{name: "garbage", value: "later", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.value != "" {
				h.Set("Retry-After", tt.value)
			}
			if got := retryAfter(h, t0); got != tt.want {
				t.Errorf("retryAfter(%q) = %v; want %v", tt.value, got, tt.want)
			}
		})
	}
}

func FuzzParseResponse(f *testing.F) {
	seeds := []struct {
		status int
		ct     string
		body   string
	}{
		{200, "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":3600,"refresh_token":"rt"}`},
		{200, "application/json", `{"access_token":"at","expires_in":"3600"}`},
		{200, "application/x-www-form-urlencoded", "access_token=at&expires_in=60"},
		{400, "application/json", `{"error":"invalid_grant","error_description":"bad"}`},
		{401, "application/json", `{"error":"invalid_client"}`},
		{429, "application/json", `{"error":"slow_down"}`},
		{503, "text/html", `<html></html>`},
		{200, "text/plain", `{"access_token":1e999}`},
	}
	for _, s := range seeds {
		f.Add(s.status, s.ct, "5", []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, ct, retry string, body []byte) {
		h := http.Header{"Content-Type": {ct}, "Retry-After": {retry}}
		tok, err := ParseResponse(status, h, body, t0, 0)
		if err == nil {
			if tok == nil || tok.AccessToken == "" {
				t.Fatalf("no error and no access token")
			}
			if !tok.Expiry.After(t0) {
				t.Fatalf("expiry %v not after %v", tok.Expiry, t0)
			}
			return
		}
		if tok != nil {
			t.Fatalf("token with error %v", err)
		}
		var ae *authorizer.AuthorizationError
		var ic *authorizer.InvalidClientError
		var cr *authorizer.InvalidCredentialsError
		var tt *UnsupportedTokenTypeError
		if !errors.As(err, &ae) && !errors.As(err, &ic) && !errors.As(err, &cr) && !errors.As(err, &tt) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		if ae != nil && (ae.RetryAfter < 0 || ae.RetryAfter > maxRetryAfter) {
			t.Fatalf("RetryAfter %v out of range", ae.RetryAfter)
		}
		_ = err.Error()
	})
}
