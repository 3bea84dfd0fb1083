package main

import (
	"context"

	"github.com/seed-d44eba79/authorizer/verify"
)

// newSDKVerifier is this SDK's verify.Verifier over the fixture's JWKS.
func newSDKVerifier(fx *fixture, opts ...verify.Option) (*verify.Verifier, error) {
	keys, err := verify.ParseJWKS(fx.jwksJSON())
	if err != nil {
		return nil, err
	}
	return verify.New(keys, verify.Expect{Issuer: benchIssuer, Audience: []string{benchAudience}}, opts...)
}

// sdkVerify does the whole job with verify; cached false turns its
// verified-token cache off, so every call pays the full cost, as for a
// fresh token.
func sdkVerify(fx *fixture, cached bool) (verifyFunc, error) {
	var opts []verify.Option
	if !cached {
		opts = append(opts, verify.WithCacheSize(0))
	}
	v, err := newSDKVerifier(fx, opts...)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	return func(tok string) error {
		c, err := v.Verify(ctx, tok)
		if err != nil {
			return err
		}
		var p permClaims
		if err := c.Decode(&p); err != nil {
			return err
		}
		return checkPerms(p)
	}, nil
}

// sdkVerifyOnly is Verify without Claims.Decode: what a service pays
// when it needs only the registered claims and scopes, and the cost of
// verify's own work. Not the whole job of the other rows (it decodes no
// permission claims).
func sdkVerifyOnly(fx *fixture, opts ...verify.Option) (verifyFunc, error) {
	v, err := newSDKVerifier(fx, opts...)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	return func(tok string) error {
		_, err := v.Verify(ctx, tok)
		return err
	}, nil
}
