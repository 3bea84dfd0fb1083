// Package permsvc is a permission service in the style of dgp-oauth2, for
// tests and examples: it signs in users, hands out RS256 "permission
// tokens" (RFC 7519 JWTs with userid, service and permissions claims) and
// publishes its public key as a PEM document at /auth/public-key, which
// verify.PEMURL reads.
//
// Endpoints of the [http.Handler] that [New] returns:
//
//	GET /auth/public-key            the RSA public key, PEM "PUBLIC KEY" (PKIX)
//	GET /auth/authorize?service=S   a permission token for S; the caller signs
//	                                in with HTTP Basic (user, password) or
//	                                Authorization: Bearer <session token>
//
// A token's aud is the service it was issued for, its iss the service's
// issuer; exp is set unless the service runs in the legacy form
// ([WithoutExpiry]), which is what dgp's tokens look like.
//
// It is test code: users and passwords live in memory, and no sign-in is
// rate-limited. Never run it outside tests and demos.
package permsvc
