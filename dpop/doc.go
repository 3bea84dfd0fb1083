// Package dpop holds the sender-constraining keys of RFC 9449 (OAuth 2.0
// Demonstrating Proof of Possession): a [Key] that signs a fresh proof JWT
// for each request, its RFC 7638 thumbprint (the "jkt" a bound token names),
// the per-server nonces a client must echo ([Nonces]), and the way a token
// carries the key it is bound to inside the process ([Bind], [KeyOf]).
//
// Most programs never call this package: [oauth2auth.WithDPoP] makes an
// authorizer ask for DPoP-bound tokens, [base.Transport] sends them with a
// proof per request, and [verify.Middleware] checks them on the receiving
// side. Use it directly to give those a key of your own, or to sign proofs
// for a protocol of your own.
//
// Secrets: a Key's private half never leaves the process through this
// package except by [Key.MarshalBinary], which token caches use to keep a
// key beside the refresh token bound to it. Printing a Key (fmt, slog,
// encoding/json) shows its algorithm, thumbprint and (JSON) public key
// only, also as a value inside another struct.
//
// [oauth2auth.WithDPoP]: https://pkg.go.dev/github.com/seed-d44eba79/authorizer/oauth2auth#WithDPoP
// [base.Transport]: https://pkg.go.dev/github.com/seed-d44eba79/authorizer/base#Transport
// [verify.Middleware]: https://pkg.go.dev/github.com/seed-d44eba79/authorizer/verify#Middleware
package dpop

// Names of RFC 9449.
const (
	// TokenType is the token_type of a DPoP-bound token, and the
	// Authorization scheme it is sent with.
	TokenType = "DPoP"
	// Header carries the proof (RFC 9449 §4.1).
	Header = "DPoP"
	// NonceHeader carries a server's nonce (RFC 9449 §8, §9).
	NonceHeader = "DPoP-Nonce"
	// ProofType is the "typ" of a proof's JOSE header.
	ProofType = "dpop+jwt"
	// ErrorUseNonce is the error code of a server that wants a nonce.
	ErrorUseNonce = "use_dpop_nonce"
)
