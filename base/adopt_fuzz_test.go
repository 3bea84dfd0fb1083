package base

import (
	"errors"
	"strings"
	"testing"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/dpop"
	"golang.org/x/oauth2"
)

// FuzzCheckToken: a token from an identity provider is untrusted input.
// checkToken never panics, and what it accepts is a Bearer token, or a
// DPoP token carrying its key (bound), whose header value has no byte a
// header must not carry.
func FuzzCheckToken(f *testing.F) {
	for _, seed := range [][2]string{{"Bearer", "eyJ0.eyJz.c2ln"}, {"DPoP", "abc"}, {"", "a=="}, {"bearer", "a\r\nb"}, {"Bearer", "=="}} {
		f.Add(seed[0], seed[1], false)
		f.Add(seed[0], seed[1], true)
	}
	key, err := dpop.GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, typ, access string, bound bool) {
		tok := &oauth2.Token{TokenType: typ, AccessToken: access}
		if bound {
			tok = dpop.Bind(tok, key)
		}
		err := checkToken(tok)
		if err != nil {
			var ae *authorizer.AuthorizationError
			if !errors.As(err, &ae) {
				t.Fatalf("untyped error %T", err)
			}
			return
		}
		if !strings.EqualFold(typ, "bearer") && typ != "" && !(bound && strings.EqualFold(typ, "dpop")) {
			t.Fatalf("accepted token type %q (bound %v)", typ, bound)
		}
		for i := 0; i < len(access); i++ {
			if c := access[i]; c <= ' ' || c >= 0x7f || c == ',' || c == '"' || c == '\\' {
				t.Fatalf("accepted byte %q in %q", c, access)
			}
		}
	})
}
