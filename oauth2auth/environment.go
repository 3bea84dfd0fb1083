package oauth2auth

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/internal/endpoint"
)

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

	// ClientAuth names how the client authenticates, so that it can be
	// switched by configuration: "client_secret_basic" (or "basic"),
	// "client_secret_post" (or "post"), "private_key_jwt" (with
	// ClientKeyFile) or "none". Optional; the default is decided by the
	// client (basic with a secret, none without). It must not be combined
	// with [WithClientAuth] or [WithPrivateKeyJWT].
	ClientAuth string `json:"client_auth,omitempty"`
	// ClientKeyFile is a PEM file holding the private key (PKCS #8, or
	// PKCS #1 / SEC 1) that signs private_key_jwt assertions. It is read by
	// the constructor. Required with ClientAuth "private_key_jwt" only.
	ClientKeyFile string `json:"client_key_file,omitempty"`
	// ClientKeyID is the key's "kid" for private_key_jwt. Optional.
	ClientKeyID string `json:"client_key_id,omitempty"`

	invalid error // set by CognitoEnvironment for a malformed domain or region; Validate returns it
}

// Clone returns a deep copy of e (slices and Params are not shared).
func (e Environment) Clone() Environment {
	e.Scopes = slices.Clone(e.Scopes)
	e.Resources = slices.Clone(e.Resources)
	if e.Params != nil {
		p := make(url.Values, len(e.Params))
		for k, v := range e.Params {
			p[k] = slices.Clone(v)
		}
		e.Params = p
	}
	return e
}

// TokenParams returns the parameters e adds to a token request: e.Params,
// then "scope" (the Scopes joined by spaces), "audience" and one "resource"
// per Resources entry (RFC 8707). The result is a new map.
func (e Environment) TokenParams() url.Values {
	q := url.Values{}
	for k, v := range e.Params {
		q[k] = slices.Clone(v)
	}
	if len(e.Scopes) > 0 {
		q.Set("scope", strings.Join(e.Scopes, " "))
	}
	if e.Audience != "" {
		q.Set("audience", e.Audience)
	}
	for _, r := range e.Resources {
		q.Add("resource", r)
	}
	return q
}

// label names e in errors: "oauth2auth: Environment" or
// `oauth2auth: Environment "prod"`.
func (e Environment) label() string {
	if e.Name == "" {
		return "oauth2auth: Environment"
	}
	return fmt.Sprintf("oauth2auth: Environment %q", e.Name)
}

// Validate checks e before any request: an Issuer or a TokenURL is set, and
// every URL that is set is absolute https (or http to a loopback host, or to
// any host when allowHTTP is true). It returns an
// *[authorizer.InvalidConfigError] naming the field.
func (e Environment) Validate(allowHTTP bool) error {
	if e.invalid != nil {
		return e.invalid
	}
	if e.Issuer == "" && e.TokenURL == "" {
		return &authorizer.InvalidConfigError{Setting: e.label(), Problem: "needs an Issuer or a TokenURL"}
	}
	for _, f := range e.urlFields() {
		if f.value == "" {
			continue
		}
		if err := CheckEndpoint(e.label()+"."+f.name, f.value, allowHTTP); err != nil {
			return err
		}
	}
	return nil
}

type urlField struct{ name, value string }

func (e Environment) urlFields() []urlField {
	return []urlField{{"Issuer", e.Issuer}, {"TokenURL", e.TokenURL}, {"AuthURL", e.AuthURL},
		{"DeviceAuthURL", e.DeviceAuthURL}, {"RevocationURL", e.RevocationURL}, {"JWKSURL", e.JWKSURL}}
}

// CheckEndpoint checks that raw is an absolute https URL, or an http URL to a
// loopback host (127.0.0.0/8, ::1, localhost), or any http URL when
// allowHTTP is true; and that it carries no user info or fragment. It
// returns an *[authorizer.InvalidConfigError] for setting, never quoting raw
// (it could hold a secret). The rule is the SDK's one endpoint rule, shared
// with packages base and srp.
func CheckEndpoint(setting, raw string, allowHTTP bool) error {
	return checkEndpoint(setting, raw, endpoint.Rule{AllowHTTP: allowHTTP})
}

func checkEndpoint(setting, raw string, rule endpoint.Rule) error {
	if p := endpoint.Check(raw, rule); p != endpoint.OK {
		return &authorizer.InvalidConfigError{Setting: setting, Problem: p.Explain("oauth2auth.InsecureAllowHTTP")}
	}
	return nil
}
