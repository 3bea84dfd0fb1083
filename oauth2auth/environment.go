package oauth2auth

import "net/url"

// Environment says which identity provider a client talks to, and how. The
// user's deployments name theirs ("dev", "staging", "prod").
//
// Either Issuer or TokenURL is required. With Issuer alone, the endpoints
// are discovered (OpenID Connect Discovery / RFC 8414) on first use.
type Environment struct {
	// Name labels the environment in errors and logs. Optional.
	Name string `json:"name,omitempty"`
	// Issuer is the provider's issuer URL; discovery starts from it.
	Issuer string `json:"issuer,omitempty"`
	// TokenURL is the token endpoint (RFC 6749 §3.2).
	TokenURL string `json:"token_url,omitempty"`
	// AuthURL is the authorization endpoint (RFC 6749 §3.1), for browser
	// sign-in.
	AuthURL string `json:"auth_url,omitempty"`
	// DeviceAuthURL is the device authorization endpoint (RFC 8628 §3.1).
	DeviceAuthURL string `json:"device_auth_url,omitempty"`
	// RevocationURL is the revocation endpoint (RFC 7009), for sign-out.
	RevocationURL string `json:"revocation_url,omitempty"`
	// JWKSURL is where the provider's signing keys are published, for
	// verifying ID tokens.
	JWKSURL string `json:"jwks_url,omitempty"`
	// Scopes are requested with every grant. Optional.
	Scopes []string `json:"scopes,omitempty"`
	// Audience is sent as the "audience" parameter (Auth0, Okta). Optional.
	Audience string `json:"audience,omitempty"`
	// Resources are sent as RFC 8707 "resource" parameters. Optional.
	Resources []string `json:"resources,omitempty"`
	// Params are further token-request parameters. Optional.
	Params url.Values `json:"params,omitempty"`
}
