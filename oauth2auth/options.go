package oauth2auth

import (
	"crypto"
	"log/slog"
	"net/http"
	"time"

	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
)

// Option configures an authorizer of this package.
type Option func(*options)

// DefaultHTTPTimeout bounds each request to the identity provider (token,
// discovery) made with the default HTTP client.
const DefaultHTTPTimeout = tokenwire.DefaultTimeout

// ClientAuth is how a client authenticates at the token endpoint
// (RFC 6749 §2.3). Exactly one method is used for every request: nothing is
// probed, credentials are never sent twice.
type ClientAuth = tokenwire.ClientAuth

// Client authentication methods, for WithClientAuth.
const (
	// ClientSecretBasic sends the client id and secret with HTTP Basic
	// authentication, each form-urlencoded first (RFC 6749 §2.3.1). The
	// default for a client with a secret.
	ClientSecretBasic = tokenwire.AuthBasic
	// ClientSecretPost sends client_id and client_secret in the form body.
	ClientSecretPost = tokenwire.AuthPost
	// ClientAuthNone is a public client: client_id in the form, no secret.
	// The default for a client without a secret (user flows only).
	ClientAuthNone = tokenwire.AuthNone
	// PrivateKeyJWT signs an RFC 7523 client assertion; set it with
	// WithPrivateKeyJWT.
	PrivateKeyJWT = tokenwire.AuthPrivateKeyJWT
)

// options holds what the Options set. Fields shared by every authorizer live
// here; those of the user sign-in flows live in userOptions (useroptions.go).
type options struct {
	user userOptions

	httpClient      *http.Client                                              // nil: a client with DefaultHTTPTimeout
	auth            ClientAuth                                                // valid when authSet
	authSet         bool                                                      // WithClientAuth or WithPrivateKeyJWT was given
	assertion       func(clientID, aud string, now time.Time) (string, error) // private_key_jwt signer
	insecureHTTP    bool                                                      // plain http to non-loopback endpoints allowed
	defaultLifetime time.Duration                                             // 0: data.DefaultTokenLifetime
	now             func() time.Time                                          // nil: time.Now
	logger          *slog.Logger                                              // nil: discard
}

// newOptions applies opts (nil ones are skipped) and fills in the defaults.
func newOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.httpClient == nil {
		o.httpClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.defaultLifetime <= 0 {
		o.defaultLifetime = data.DefaultTokenLifetime
	}
	return o
}

// clientAuth is the method for info: the one chosen with an option, else
// ClientSecretBasic when info has a secret and ClientAuthNone when not.
func (o *options) clientAuth(info data.ClientInfo) ClientAuth {
	switch {
	case o.authSet:
		return o.auth
	case info.ClientSecret == "":
		return ClientAuthNone
	}
	return ClientSecretBasic
}

// tokenRequest is a token request to tokenURL with o's client, clock and
// settings; the caller sets Form (and UserName).
func (o *options) tokenRequest(info data.ClientInfo, tokenURL string) tokenwire.Request {
	return tokenwire.Request{
		HTTPClient:      o.httpClient,
		URL:             tokenURL,
		Client:          info,
		Auth:            o.clientAuth(info),
		Assertion:       o.assertion,
		DefaultLifetime: o.defaultLifetime,
		Now:             o.now,
	}
}

// WithHTTPClient sets the client for every request to the identity provider
// (token, discovery, device authorization, revocation). Optional; default a
// client with a DefaultHTTPTimeout timeout. Redirects are never followed at
// the token endpoint, whatever the client's policy.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) { o.httpClient = c }
}

// WithClientAuth sets how the client authenticates at the token endpoint:
// ClientSecretBasic (the default for a client with a secret),
// ClientSecretPost, or ClientAuthNone. Use WithPrivateKeyJWT for
// PrivateKeyJWT.
func WithClientAuth(method ClientAuth) Option {
	return func(o *options) { o.auth, o.authSet = method, true }
}

// WithPrivateKeyJWT makes the client authenticate with an RFC 7523 client
// assertion signed by key (RSA: RS256, ECDSA P-256: ES256, Ed25519: EdDSA),
// with keyID as its "kid" (optional). The assertion is valid for two
// minutes and has the token URL as its audience. The client needs no
// secret. key must be safe for concurrent use (the standard library's keys
// are).
func WithPrivateKeyJWT(key crypto.Signer, keyID string) Option {
	signer := tokenwire.KeySigner{Key: key, KeyID: keyID}
	return func(o *options) {
		o.auth, o.authSet, o.assertion = PrivateKeyJWT, true, signer.Sign
	}
}

// InsecureAllowHTTP lets endpoints (token, issuer, and the others) use plain
// http on any host. By default plain http is accepted only for loopback
// hosts (127.0.0.0/8, ::1, localhost) and everything else must be https.
// Over plain http anyone on the network path can read the client secret and
// the tokens.
func InsecureAllowHTTP() Option {
	return func(o *options) { o.insecureHTTP = true }
}

// WithDefaultLifetime sets the lifetime assumed for a token whose response
// has no expires_in. Optional; default data.DefaultTokenLifetime. Such a
// token is never treated as valid forever.
func WithDefaultLifetime(d time.Duration) Option {
	return func(o *options) { o.defaultLifetime = d }
}

// WithClock replaces time.Now for expiry decisions and token timestamps.
// Optional; for tests.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithLogger sets a logger for token requests and discovery. Optional;
// nothing is logged by default. Records carry the client id, timings and
// token fingerprints (data.Fingerprint), never a secret or a token.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}
