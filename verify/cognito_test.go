package verify

import (
	"context"
	"errors"
	"testing"

	authorizer "github.com/seed-d44eba79/authorizer"
)

func TestCognitoRules(t *testing.T) {
	const region, pool = "eu-west-1", "eu-west-1_AbC123"
	iss := CognitoIssuer(region, pool)
	priv := rsaKey(0)
	keys := StaticKeys(&priv.PublicKey)
	access := func() map[string]any {
		return map[string]any{"iss": iss, "sub": "u", "client_id": "app-1", "token_use": "access",
			"scope": "aws.cognito.signin.user.admin", "exp": testEpoch.Unix() + 3600, "iat": testEpoch.Unix()}
	}
	id := func() map[string]any {
		return map[string]any{"iss": iss, "sub": "u", "aud": "app-1", "token_use": "id",
			"cognito:groups": []string{"admins"}, "exp": testEpoch.Unix() + 3600, "iat": testEpoch.Unix()}
	}
	newV := func(use string) *Verifier {
		v, err := New(keys, Expect{}, WithClock(newClock().Now), Cognito(region, pool, use, "app-1", "app-2"))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	av, iv := newV("access"), newV("id")
	for _, tc := range []struct {
		name   string
		v      *Verifier
		claims map[string]any
		want   error
	}{
		{"access token", av, access(), nil},
		{"access token, second client", av, with(access(), "client_id", "app-2"), nil},
		{"access token, other client", av, with(access(), "client_id", "app-3"), authorizer.ErrTokenAudience},
		{"access token, no client_id", av, with(access(), "client_id", nil), authorizer.ErrTokenAudience},
		{"id token to the access verifier", av, id(), authorizer.ErrTokenUse},
		{"access token without token_use", av, with(access(), "token_use", nil), authorizer.ErrTokenUse},
		{"access token of another pool", av, with(access(), "iss", CognitoIssuer(region, "eu-west-1_Other")), authorizer.ErrTokenIssuer},
		{"id token", iv, id(), nil},
		{"id token, other aud", iv, with(id(), "aud", "app-3"), authorizer.ErrTokenAudience},
		{"access token to the id verifier", iv, access(), authorizer.ErrTokenUse},
		{"id token without exp", iv, with(id(), "exp", nil), authorizer.ErrTokenExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.v.Verify(context.Background(), token(priv, "RS256", "", tc.claims))
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v; want %v", err, tc.want)
			}
			if tc.want == nil && c.TokenUse == "id" {
				var g struct {
					Groups []string `json:"cognito:groups"`
				}
				if err := c.Decode(&g); err != nil || len(g.Groups) != 1 {
					t.Errorf("groups: %v %v", g, err)
				}
			}
		})
	}
}

func TestCognitoOwnsItsKeySource(t *testing.T) {
	v, err := New(nil, Expect{}, Cognito("eu-west-1", "eu-west-1_AbC123", "id", "app"), WithFetchTimeout(1e9))
	if err != nil {
		t.Fatal(err)
	}
	if !v.owned {
		t.Fatal("the pool's JWKS source is not owned")
	}
	r := v.keys.(*remoteSource)
	if r.cfg.fetchTimeout != 1e9 {
		t.Errorf("source option not applied")
	}
	v.Close()
	if _, err := v.Verify(context.Background(), token(rsaKey(0), "RS256", "k", goodClaims())); !errors.Is(err, authorizer.ErrClosed) {
		t.Errorf("after Close: got %v; want ErrClosed", err)
	}
	if got := CognitoJWKSURL("eu-west-1", "eu-west-1_AbC123"); got != "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json" {
		t.Errorf("CognitoJWKSURL = %q", got)
	}
}
