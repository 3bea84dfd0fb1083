package tokenwire

import (
	"net/http"
	"net/url"

	"github.com/seed-d44eba79/authorizer"
)

// ClientAuth is how a client authenticates at the token endpoint
// (RFC 6749 §2.3, OpenID Connect Core §9). Exactly one method is used per
// request; there is no auto-detection.
type ClientAuth int

// Client authentication methods. The zero value is AuthBasic.
const (
	// AuthBasic is client_secret_basic: HTTP Basic authentication with the
	// client id and secret each form-urlencoded first (RFC 6749 §2.3.1).
	AuthBasic ClientAuth = iota
	// AuthPost is client_secret_post: client_id and client_secret in the
	// form body.
	AuthPost
	// AuthNone is a public client (token_endpoint_auth_method "none"):
	// client_id in the form body, no secret.
	AuthNone
	// AuthPrivateKeyJWT is private_key_jwt (RFC 7523 §2.2): client_id and a
	// signed client_assertion in the form body; see Request.Assertion.
	AuthPrivateKeyJWT
)

var clientAuthNames = [...]string{"client_secret_basic", "client_secret_post", "none", "private_key_jwt"}

// String returns the method's registered name (RFC 8414
// token_endpoint_auth_methods_supported), e.g. "client_secret_basic".
func (a ClientAuth) String() string {
	if a >= 0 && int(a) < len(clientAuthNames) {
		return clientAuthNames[a]
	}
	return "unknown"
}

// ParseClientAuth returns the method with the given registered name.
func ParseClientAuth(name string) (ClientAuth, bool) {
	for i, n := range clientAuthNames {
		if n == name {
			return ClientAuth(i), true
		}
	}
	return 0, false
}

// credentialKeys are the form fields that carry client credentials; they are
// removed from the caller's form so that only ClientAuth decides them.
var credentialKeys = []string{"client_id", "client_secret", "client_assertion", "client_assertion_type"}

// clientAssertionType is RFC 7523 §2.2's client_assertion_type.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// authenticate puts r's client credentials on req and form, one way only.
func authenticate(r *Request, req *http.Request, form url.Values) error {
	for _, k := range credentialKeys {
		form.Del(k)
	}
	switch r.Auth {
	case AuthBasic:
		req.SetBasicAuth(r.Client.BasicAuth())
	case AuthPost:
		form.Set("client_id", r.Client.ClientID)
		form.Set("client_secret", r.Client.ClientSecret)
	case AuthNone:
		form.Set("client_id", r.Client.ClientID)
	case AuthPrivateKeyJWT:
		return addAssertion(r, form)
	default:
		return configError("client authentication", "is not a known method")
	}
	return nil
}

// addAssertion adds an RFC 7523 client assertion to form.
func addAssertion(r *Request, form url.Values) error {
	if r.Assertion == nil {
		return configError("client authentication private_key_jwt", "needs an assertion signer")
	}
	jwt, err := r.Assertion(r.Client.ClientID, r.URL, r.now())
	if err != nil {
		return &authorizer.AuthorizationError{Message: prefix + "could not sign the client assertion", Err: err}
	}
	form.Set("client_id", r.Client.ClientID)
	form.Set("client_assertion_type", clientAssertionType)
	form.Set("client_assertion", jwt)
	r.assertion = jwt
	return nil
}
