// Package authorizer provides the typed errors of the authorizer SDK, which
// makes outgoing HTTP calls carry a valid token.
//
// The SDK's parts live in sub-packages: data (shared values), base (the
// Authorizer interface and the http.RoundTripper that applies it),
// oauth2auth (OAuth 2.0, RFC 6749) and srp (AWS Cognito sign-in with SRP).
// Every failure they report is, or wraps, one of the error types declared
// here ([AuthorizationError], [InvalidClientError],
// [InvalidCredentialsError], [InvalidConfigError]) or a sentinel
// ([ErrClosed], [ErrBackoff], [ErrInsecureTransport], [ErrTimeout]), so
// callers branch with errors.As and errors.Is, also through the *url.Error
// that http.Client wraps around a transport error:
//
//	var ice *authorizer.InvalidClientError
//	if errors.As(err, &ice) { ... }
//
// Retrying is decided with [AuthorizationError.Temporary] (a provider's
// failure that may pass; never the end of the caller's own context).
// [ParseRetryAfter] reads a Retry-After header for custom Authorizers.
//
// Error strings never contain a secret, a password or a token. This package
// imports none of its sub-packages.
package authorizer
