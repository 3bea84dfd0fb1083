package oauth2auth

import (
	"context"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/filecache"
	"github.com/seed-d44eba79/authorizer/internal/peertest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const nativeClient = "sdk-native"

func peerEnv(t *testing.T, scopes ...string) Environment {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	return Environment{Issuer: issuer, Scopes: scopes}
}

// devicePrompter approves every device sign-in as login, over HTTP, and
// counts the prompts.
func devicePrompter(t *testing.T, issuer, login string, prompts *int) DevicePrompter {
	return func(ctx context.Context, p DevicePrompt) error {
		*prompts++
		assert.NotEmpty(t, p.VerificationURIComplete)
		return newPeerUser(t, login).approveDevice(ctx, issuer, p.UserCode)
	}
}

func TestPeerDeviceFlow(t *testing.T) {
	env := peerEnv(t, "openid", "offline_access", "api:read")
	env.Resources = []string{"urn:sdk-test:api"}
	var prompts int
	a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: nativeClient}, env,
		WithDevicePrompt(devicePrompter(t, env.Issuer, "alice", &prompts)), withPollInterval(200*time.Millisecond))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := a.Authorize(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, prompts)
	assert.NotEmpty(t, tok.AccessToken)
	assert.NotEmpty(t, tok.RefreshToken)
	assert.NotEmpty(t, tok.Extra("id_token"))
	assert.False(t, a.Expired(tok))

	again, err := a.Authorize(ctx)
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, again.AccessToken, "cached: no second prompt")
	assert.Equal(t, 1, prompts)

	next, err := a.Refresh(ctx, tok)
	require.NoError(t, err)
	assert.NotEqual(t, tok.RefreshToken, next.RefreshToken, "rotated")
	require.NoError(t, a.SignOut(ctx))
	_ = filecache.Key
}
