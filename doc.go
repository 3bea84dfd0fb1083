// Package authorizer provides the typed errors of the authorizer SDK, which
// makes outgoing HTTP calls carry a valid token.
//
// The SDK's parts live in sub-packages: data (shared values), base (the
// Authorizer interface and the http.RoundTripper that applies it),
// oauth2auth (OAuth 2.0, RFC 6749) and srp (AWS Cognito sign-in with SRP).
// Every failure they report is, or wraps, one of the error types declared
// here, so callers branch with errors.As and errors.Is, also through the
// *url.Error that http.Client wraps around a transport error:
//
//	var ice *authorizer.InvalidClientError
//	if errors.As(err, &ice) { ... }
//
// Error strings never contain a secret, a password or a token. This package
// imports none of its sub-packages.
package authorizer
