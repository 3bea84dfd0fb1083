package base

import (
	"errors"
	"strings"
	"testing"

	"github.com/seed-d44eba79/authorizer"
	"golang.org/x/oauth2"
)

// FuzzCheckToken: a token from an identity provider is untrusted input.
// checkToken never panics, and what it accepts is a Bearer token whose
// header value has no byte a header must not carry.
func FuzzCheckToken(f *testing.F) {
	for _, seed := range [][2]string{{"Bearer", "eyJ0.eyJz.c2ln"}, {"DPoP", "abc"}, {"", "a=="}, {"bearer", "a\r\nb"}, {"Bearer", "=="}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, typ, access string) {
		err := checkToken(&oauth2.Token{TokenType: typ, AccessToken: access})
		if err != nil {
			var ae *authorizer.AuthorizationError
			if !errors.As(err, &ae) {
				t.Fatalf("untyped error %T", err)
			}
			return
		}
		if !strings.EqualFold(typ, "bearer") && typ != "" {
			t.Fatalf("accepted token type %q", typ)
		}
		for i := 0; i < len(access); i++ {
			if c := access[i]; c <= ' ' || c >= 0x7f || c == ',' || c == '"' || c == '\\' {
				t.Fatalf("accepted byte %q in %q", c, access)
			}
		}
	})
}
