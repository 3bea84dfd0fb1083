package srp

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
	"github.com/seed-d44eba79/authorizer/data"
	"golang.org/x/oauth2"
)

// newToken turns Cognito's AuthenticationResult into the token the
// Transport sends: the access token (or the ID token with WithIDToken) as
// a Bearer token, the refresh token (oldRefresh when Cognito sent none),
// an Expiry from ExpiresIn at the Authorizer's clock (DefaultTokenLifetime
// when absent), and in Extra the "id_token", the "access_token", the
// canonical user name and the device key.
func (a *Authorizer) newToken(res *types.AuthenticationResultType, oldRefresh, user, deviceKey string) (*oauth2.Token, error) {
	access, id := deref(res.AccessToken), deref(res.IdToken)
	sent := access
	if a.opts.idToken {
		sent = id
	}
	if sent == "" {
		return nil, unexpected("no access or ID token in the result", "")
	}
	refresh := deref(res.RefreshToken)
	if refresh == "" {
		refresh = oldRefresh
	}
	lifetime := time.Duration(res.ExpiresIn) * time.Second
	if lifetime <= 0 {
		lifetime = data.DefaultTokenLifetime
	}
	tok := &oauth2.Token{
		AccessToken:  sent,
		TokenType:    "Bearer",
		RefreshToken: refresh,
		Expiry:       a.opts.now().Add(lifetime),
		ExpiresIn:    int64(lifetime / time.Second),
	}
	extra := map[string]any{"id_token": id, "access_token": access, extraUserName: user}
	if deviceKey != "" {
		extra[extraDeviceKey] = deviceKey
	}
	return tok.WithExtra(extra), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
