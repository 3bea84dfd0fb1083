// Package oauth2auth provides OAuth 2.0 (RFC 6749) authorizers for
// base.Transport.
package oauth2auth
