package dpop

import (
	"strings"

	"golang.org/x/oauth2"
)

// extraKey is where Bind keeps the key in a token's Extra: a name no
// server's token response can set (Extra values from JSON are never a *Key).
const extraKey = "github.com/seed-d44eba79/authorizer/dpop.Key"

// Bind returns a copy of tok that carries k, the key tok is bound to, for
// the [base.Transport] that sends it and the token caches that keep it. The
// copy's Extra holds tok's id_token, scope and issued_token_type (an
// oauth2.Token's other Extra values cannot be listed); code that builds a
// token from a response's fields uses [SetKey] on them instead. Bind does
// not modify tok.
//
// [base.Transport]: https://pkg.go.dev/github.com/seed-d44eba79/authorizer/base#Transport
func Bind(tok *oauth2.Token, k *Key) *oauth2.Token {
	if tok == nil {
		return nil
	}
	extra := map[string]any{}
	for _, name := range extraNames {
		if v := tok.Extra(name); v != nil {
			extra[name] = v
		}
	}
	SetKey(extra, k)
	return tok.WithExtra(extra)
}

// SetKey records k in extra, the map a token's Extra is set from
// (oauth2.Token.WithExtra), so that [KeyOf] finds it.
func SetKey(extra map[string]any, k *Key) { extra[extraKey] = k }

// extraNames are the Extra values Bind keeps.
var extraNames = []string{"id_token", "scope", "issued_token_type"}

// KeyOf returns the key tok is bound to ([Bind]), or nil.
func KeyOf(tok *oauth2.Token) *Key {
	if tok == nil {
		return nil
	}
	k, _ := tok.Extra(extraKey).(*Key)
	return k
}

// IsDPoP reports whether tok's type is DPoP (in any case).
func IsDPoP(tok *oauth2.Token) bool {
	return tok != nil && strings.EqualFold(tok.TokenType, TokenType)
}
