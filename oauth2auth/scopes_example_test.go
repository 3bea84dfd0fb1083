package oauth2auth_test

import (
	"fmt"

	"github.com/seed-d44eba79/authorizer/oauth2auth"
	"golang.org/x/oauth2"
)

// The scopes a provider granted are in the token response's "scope" field;
// without one, the provider granted what was asked for (RFC 6749 §5.1).
func ExampleGrantedScopes() {
	tok := (&oauth2.Token{AccessToken: "…"}).WithExtra(map[string]any{"scope": "api:read openid"})
	fmt.Println(oauth2auth.GrantedScopes(tok))
	fmt.Println(oauth2auth.GrantedScopes(&oauth2.Token{AccessToken: "…"}) == nil)
	// Output:
	// [api:read openid]
	// true
}
