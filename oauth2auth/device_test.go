package oauth2auth

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestDevice(t *testing.T, f *fakeIdP, prompts *[]DevicePrompt, opts ...Option) *DeviceAuthorizer {
	t.Helper()
	prompt := func(_ context.Context, p DevicePrompt) error {
		*prompts = append(*prompts, p)
		return nil
	}
	opts = append([]Option{WithDevicePrompt(prompt), withPollInterval(10 * time.Millisecond)}, opts...)
	a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: "cli"}, f.env("openid", "offline_access"), opts...)
	require.NoError(t, err)
	return a
}

func TestDevicePollsUntilApproved(t *testing.T) {
	f := newFakeIdP(t)
	f.pending = 3
	var prompts []DevicePrompt
	a := newTestDevice(t, f, &prompts)
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "ACCESS-SECRET-1", tok.AccessToken)
	require.Len(t, prompts, 1)
	assert.Equal(t, "ABCD-EFGH", prompts[0].UserCode)
	assert.Equal(t, f.srv.URL+"/device?user_code=ABCD-EFGH", prompts[0].VerificationURIComplete)

	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Len(t, f.requests, 4, "3 pending answers, then the token")
	require.Len(t, f.deviceForms, 1)
	assert.Equal(t, "cli", f.deviceForms[0].Get("client_id"), "public client sends client_id")
	assert.Equal(t, "openid offline_access", f.deviceForms[0].Get("scope"))
	for _, form := range f.requests {
		assert.Equal(t, deviceGrantType, form.Get("grant_type"))
		assert.Equal(t, "DEVICE-CODE-SECRET", form.Get("device_code"))
		assert.Equal(t, "cli", form.Get("client_id"))
	}
}

func TestDeviceStopsOnTerminalErrors(t *testing.T) {
	for _, code := range []string{"expired_token", "access_denied"} {
		t.Run(code, func(t *testing.T) {
			f := newFakeIdP(t)
			f.pending = 1
			f.deviceError = code
			var prompts []DevicePrompt
			_, err := newTestDevice(t, f, &prompts).Authorize(context.Background())
			var ae *authorizer.AuthorizationError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, code, ae.Code)
			assert.False(t, ae.Temporary())
			assert.NotContains(t, err.Error(), "DEVICE-CODE-SECRET")
			f.mu.Lock()
			assert.Len(t, f.requests, 2, "no poll after a terminal answer")
			f.mu.Unlock()
		})
	}
}

func TestDeviceHonoursContext(t *testing.T) {
	f := newFakeIdP(t)
	f.pending = 1 << 20
	var prompts []DevicePrompt
	a := newTestDevice(t, f, &prompts)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := a.Authorize(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestDevicePromptErrorEndsSignIn(t *testing.T) {
	f := newFakeIdP(t)
	boom := errors.New("no terminal")
	a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: "cli"}, f.env(),
		WithDevicePrompt(func(context.Context, DevicePrompt) error { return boom }))
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	require.ErrorIs(t, err, boom)
}

func TestDeviceCodeExpiresWhilePolling(t *testing.T) {
	f := newFakeIdP(t)
	f.pending = 1 << 20
	a := newTestDevice(t, f, new([]DevicePrompt))
	da := &deviceAuth{deviceCode: "dc", prompt: DevicePrompt{ExpiresAt: time.Now().Add(50 * time.Millisecond)}}
	env, err := a.endpoints(context.Background())
	require.NoError(t, err)
	_, err = a.poll(context.Background(), env, da, nil)
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "expired_token", ae.Code)
}

func TestNextInterval(t *testing.T) {
	const base = 5 * time.Second
	for _, tc := range []struct {
		name  string
		err   error
		want  time.Duration
		retry bool
	}{
		{name: "pending", err: &authorizer.AuthorizationError{Code: "authorization_pending"}, want: base, retry: true},
		{name: "slow_down adds 5 s", err: &authorizer.AuthorizationError{Code: "slow_down"}, want: base + 5*time.Second, retry: true},
		{name: "5xx backs off", err: &authorizer.AuthorizationError{StatusCode: 503}, want: 2 * base, retry: true},
		{name: "expired", err: &authorizer.AuthorizationError{Code: "expired_token"}},
		{name: "denied", err: &authorizer.AuthorizationError{Code: "access_denied"}},
		{name: "bad client", err: &authorizer.InvalidClientError{}},
		{name: "other", err: errors.New("x")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, retry := nextInterval(tc.err, base)
			assert.Equal(t, tc.retry, retry)
			if tc.retry {
				assert.Equal(t, tc.want, got)
			}
		})
	}
}

func TestPollInterval(t *testing.T) {
	a := &DeviceAuthorizer{&userSession{}}
	assert.Equal(t, defaultDeviceInterval, a.pollInterval(0), "RFC 8628 default")
	assert.Equal(t, minDeviceInterval, a.pollInterval(time.Millisecond), "floor")
	assert.Equal(t, 2*time.Second, a.pollInterval(2*time.Second), "short server interval")
	assert.Equal(t, 9*time.Second, a.pollInterval(9*time.Second), "server's interval")
}

func TestDevicePromptWriter(t *testing.T) {
	var b bytes.Buffer
	err := DevicePromptWriter(&b)(context.Background(), DevicePrompt{UserCode: "WDJB-MJHT",
		VerificationURI: "https://idp/device", VerificationURIComplete: "https://idp/device?user_code=WDJB-MJHT",
		ExpiresAt: time.Now().Add(time.Minute)})
	require.NoError(t, err)
	out := b.String()
	assert.Contains(t, out, "open https://idp/device and enter the code WDJB-MJHT")
	assert.Contains(t, out, "https://idp/device?user_code=WDJB-MJHT")

	b.Reset()
	require.NoError(t, DevicePromptWriter(&b)(context.Background(), DevicePrompt{UserCode: "X", VerificationURI: "https://idp/d"}))
	assert.Equal(t, 1, strings.Count(b.String(), "open "), "no direct link when the server sent none")
}
