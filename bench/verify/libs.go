package main

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	gjwt "github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwa"
	xjwt "github.com/lestrrat-go/jwx/v3/jwt"
)

// verifyFunc does the whole job for one token: parse, pin RS256, verify,
// decode the claims, check iss/aud/exp. nil means the token is good.
type verifyFunc func(tok string) error

// errBadClaims is a decoded token whose permission claims are not the
// fixture's (proves each case really decodes them).
var errBadClaims = errors.New("permission claims not decoded")

func checkPerms(c permClaims) error {
	if c.UserID != "u-1042" || len(c.Permissions) != 3 {
		return errBadClaims
	}
	return nil
}

func golangJWT(pub *rsa.PublicKey) verifyFunc {
	type claims struct {
		gjwt.RegisteredClaims
		permClaims
	}
	p := gjwt.NewParser(gjwt.WithValidMethods([]string{"RS256"}), gjwt.WithIssuer(benchIssuer),
		gjwt.WithAudience(benchAudience), gjwt.WithExpirationRequired(), gjwt.WithLeeway(time.Minute))
	keyFunc := func(*gjwt.Token) (any, error) { return pub, nil }
	return func(tok string) error {
		var c claims
		if _, err := p.ParseWithClaims(tok, &c, keyFunc); err != nil {
			return err
		}
		return checkPerms(c.permClaims)
	}
}

func goJose(pub *rsa.PublicKey) verifyFunc {
	algs := []jose.SignatureAlgorithm{jose.RS256}
	return func(tok string) error {
		t, err := josejwt.ParseSigned(tok, algs)
		if err != nil {
			return err
		}
		var std josejwt.Claims
		var c permClaims
		if err := t.Claims(pub, &std, &c); err != nil {
			return err
		}
		if std.Expiry == nil {
			return errors.New("go-jose: no exp")
		}
		want := josejwt.Expected{Issuer: benchIssuer, AnyAudience: josejwt.Audience{benchAudience}, Time: time.Now()}
		if err := std.ValidateWithLeeway(want, time.Minute); err != nil {
			return err
		}
		return checkPerms(c)
	}
}

func jwx(pub *rsa.PublicKey) verifyFunc {
	opts := []xjwt.ParseOption{xjwt.WithKey(jwa.RS256(), pub), xjwt.WithValidate(true),
		xjwt.WithIssuer(benchIssuer), xjwt.WithAudience(benchAudience), xjwt.WithRequiredClaim("exp"),
		xjwt.WithAcceptableSkew(time.Minute)}
	return func(tok string) error {
		t, err := xjwt.ParseString(tok, opts...)
		if err != nil {
			return err
		}
		var c permClaims
		if err := t.Get("userid", &c.UserID); err != nil {
			return err
		}
		var perms []any
		if err := t.Get("permissions", &perms); err != nil {
			return err
		}
		for _, p := range perms {
			s, ok := p.(string)
			if !ok {
				return errBadClaims
			}
			c.Permissions = append(c.Permissions, s)
		}
		return checkPerms(c)
	}
}

func goOIDC(pub *rsa.PublicKey) verifyFunc {
	keys := &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{pub}}
	v := oidc.NewVerifier(benchIssuer, keys, &oidc.Config{ClientID: benchAudience, SupportedSigningAlgs: []string{oidc.RS256}})
	ctx := context.Background()
	return func(tok string) error {
		idt, err := v.Verify(ctx, tok)
		if err != nil {
			return err
		}
		var c permClaims
		if err := idt.Claims(&c); err != nil {
			return err
		}
		return checkPerms(c)
	}
}
