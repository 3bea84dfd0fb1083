package main

import "github.com/seed-d44eba79/authorizer/verify"

// benchCase is one library doing the full job on the fixture's token.
type benchCase struct {
	name string
	make func(*fixture) (verifyFunc, error)
}

func wrap(f func(*fixture) verifyFunc) func(*fixture) (verifyFunc, error) {
	return func(fx *fixture) (verifyFunc, error) { return f(fx), nil }
}

// cases lists what the benchmark compares, the floor first (the ratios'
// denominator).
var cases = []benchCase{
	{"crypto/rsa floor", wrap(func(fx *fixture) verifyFunc { return floorVerify(&fx.key.PublicKey) })},
	{"verify (fresh: cache off)", func(fx *fixture) (verifyFunc, error) { return sdkVerify(fx, false) }},
	{"verify (cached)", func(fx *fixture) (verifyFunc, error) { return sdkVerify(fx, true) }},
	{"verify (fresh, no Decode)", func(fx *fixture) (verifyFunc, error) { return sdkVerifyOnly(fx, verify.WithCacheSize(0)) }},
	{"verify (cached, no Decode)", func(fx *fixture) (verifyFunc, error) { return sdkVerifyOnly(fx) }},
	{"golang-jwt v5", wrap(func(fx *fixture) verifyFunc { return golangJWT(&fx.key.PublicKey) })},
	{"go-jose v4", wrap(func(fx *fixture) verifyFunc { return goJose(&fx.key.PublicKey) })},
	{"jwx v3", wrap(func(fx *fixture) verifyFunc { return jwx(&fx.key.PublicKey) })},
	{"go-oidc v3 (static keys)", wrap(func(fx *fixture) verifyFunc { return goOIDC(&fx.key.PublicKey) })},
}
