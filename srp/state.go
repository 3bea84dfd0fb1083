package srp

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"golang.org/x/oauth2"
)

// Keys of the values the Authorizer keeps in a token's Extra, besides
// "id_token" and "access_token", so that a token handed back to Refresh
// (possibly by another Authorizer sharing a cache) carries what
// REFRESH_TOKEN_AUTH needs.
const (
	extraUserName  = "cognito:username"
	extraDeviceKey = "device_key"
)

// remember keeps what later refreshes need after a successful sign-in, and
// drops the password when asked to. A new password set through
// NEW_PASSWORD_REQUIRED replaces the old one.
func (a *Authorizer) remember(state *signInState, res *types.AuthenticationResultType) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.canonical = state.canonical
	if state.newPassword != "" {
		a.password = state.newPassword
	}
	if a.opts.dropPassword {
		a.password = ""
	}
	if md := res.NewDeviceMetadata; md != nil && md.DeviceKey != nil && *md.DeviceKey != "" {
		a.deviceKey = *md.DeviceKey
	}
}

// refreshUser returns the user name for SECRET_HASH on refresh: the
// canonical name Cognito returned (kept in tok, or from the last sign-in,
// or the "username" claim of the access token), and the configured name
// only when none is known. An alias (e.g. an email) would be refused.
func (a *Authorizer) refreshUser(tok *oauth2.Token) string {
	if u, ok := tok.Extra(extraUserName).(string); ok && u != "" {
		return u
	}
	a.mu.Lock()
	u := a.canonical
	a.mu.Unlock()
	if u != "" {
		return u
	}
	access, _ := tok.Extra("access_token").(string)
	if access == "" {
		access = tok.AccessToken
	}
	if u := usernameClaim(access); u != "" {
		return u
	}
	return a.userName
}

// refreshDeviceKey returns the DEVICE_KEY to send on refresh, or "".
func (a *Authorizer) refreshDeviceKey(tok *oauth2.Token) string {
	if dk, ok := tok.Extra(extraDeviceKey).(string); ok && dk != "" {
		return dk
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.deviceKey
}

// maxJWTLen caps the token usernameClaim decodes.
const maxJWTLen = 16 << 10

// usernameClaim returns the "username" claim of a Cognito access token,
// without verifying it (it only picks the name for SECRET_HASH; Cognito
// checks the token itself), or "" when tok is not such a JWT.
func usernameClaim(tok string) string {
	if len(tok) > maxJWTLen {
		return ""
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var claims struct {
		Username string `json:"username"`
		TokenUse string `json:"token_use"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.TokenUse != "access" {
		return ""
	}
	return claims.Username
}
