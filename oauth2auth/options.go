package oauth2auth

import (
	"crypto"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
)

// Option configures an authorizer of this package. Each option's doc says
// which flows take it (service account, device, browser), what values are
// valid, and the default. A constructor given an invalid value, or an
// option of another flow (e.g. [WithTokenCache] to
// [NewServiceAccountAuthorizer]), returns an *[authorizer.InvalidConfigError]
// naming the option: nothing is silently dropped or replaced. A nil Option
// is skipped.
type Option func(*options)

// DefaultHTTPTimeout bounds each request to the identity provider (token,
// discovery, device authorization, revocation) made with the default HTTP
// client.
const DefaultHTTPTimeout = tokenwire.DefaultTimeout

// ClientAuth is how a client authenticates at the authorization server
// (RFC 6749 §2.3): at the token endpoint and, the same way, at the device
// authorization and revocation endpoints. Exactly one method is used for
// every request: nothing is probed, credentials are never sent twice.
type ClientAuth = tokenwire.ClientAuth

// Client authentication methods, for [WithClientAuth].
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
	// [WithPrivateKeyJWT].
	PrivateKeyJWT = tokenwire.AuthPrivateKeyJWT
)

// flow is one of the package's authorizers, for options that apply to some
// only.
type flow string

const (
	flowServiceAccount flow = "service-account"
	flowDevice         flow = "device"
	flowBrowser        flow = "browser"
	flowTokenExchange  flow = "token-exchange"
)

// constructors names each flow's constructor in errors.
var constructors = map[flow]string{flowServiceAccount: "NewServiceAccountAuthorizer",
	flowDevice: "NewDeviceAuthorizer", flowBrowser: "NewBrowserAuthorizer",
	flowTokenExchange: "NewTokenExchangeAuthorizer"}

// options holds what the Options set. Fields shared by every authorizer live
// here; those of the user sign-in flows live in userOptions (useroptions.go).
type options struct {
	flow flow  // the constructor applying the options
	err  error // the first invalid option, an *authorizer.InvalidConfigError
	user userOptions
	exch exchangeOptions // the token exchange's (tokenexchange_options.go)
	dpop dpopOptions     // WithDPoP's (dpop.go)

	httpClient      *http.Client                                              // nil: a client with DefaultHTTPTimeout
	auth            ClientAuth                                                // valid when authSet
	authSet         bool                                                      // WithClientAuth or WithPrivateKeyJWT was given
	assertion       func(clientID, aud string, now time.Time) (string, error) // private_key_jwt signer
	assertionFile   string                                                    // WithClientAssertionFile's path, "" if not given
	insecureHTTP    bool                                                      // plain http to non-loopback endpoints allowed
	defaultLifetime time.Duration                                             // 0: data.DefaultTokenLifetime
	now             func() time.Time                                          // nil: time.Now
	logger          *slog.Logger                                              // nil: discard
}

// newOptions applies opts for flow f (nil ones are skipped) and fills in
// the defaults. It returns the first invalid option's error.
func newOptions(f flow, opts []Option) (options, error) {
	o := options{flow: f}
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
	if o.defaultLifetime == 0 {
		o.defaultLifetime = data.DefaultTokenLifetime
	}
	o.setupDPoP()
	return o, o.err
}

// fail records that option has an invalid value (the first failure wins).
func (o *options) fail(option, problem string) {
	if o.err == nil {
		o.err = &authorizer.InvalidConfigError{Setting: "oauth2auth: " + option, Problem: problem}
	}
}

// only reports whether the constructor's flow is among flows, and records
// an error naming option when it is not.
func (o *options) only(option string, flows ...flow) bool {
	if slices.Contains(flows, o.flow) {
		return true
	}
	o.fail(option, "does not apply to "+constructors[o.flow])
	return false
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

// request is a request to one of the authorization server's endpoints
// (endpoint names it: "token", "device authorization", "revocation") with
// o's client authentication, HTTP client, clock and settings; the caller
// sets Form. Every request of this package that carries client credentials
// is built here and sent by tokenwire: there is no second wire.
//
// With [WithDPoP], a token endpoint request carries a proof signed by the
// authorizer's key (a user session's refresh replaces the key with the one
// its refresh token is bound to).
func (o *options) request(info data.ClientInfo, endpoint, url string) tokenwire.Request {
	req := tokenwire.Request{
		HTTPClient:      o.httpClient,
		URL:             url,
		Endpoint:        endpoint,
		Client:          info,
		Auth:            o.clientAuth(info),
		Assertion:       o.assertion,
		DefaultLifetime: o.defaultLifetime,
		Now:             o.now,
		// an assertion read from a file may have been rotated since: the
		// answer invalid_client re-reads it and sends once more
		RetryInvalidClient: o.assertionFile != "",
	}
	if endpoint == "token" {
		o.withProof(&req, nil)
	}
	return req
}

// WithHTTPClient sets the client for every request to the identity provider
// (token, discovery, device authorization, revocation, ID-token keys). All
// flows. nil means the default: a client with a [DefaultHTTPTimeout]
// timeout. Redirects are never followed, whatever the client's policy.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) { o.httpClient = c }
}

// WithClientAuth sets how the client authenticates at every endpoint:
// [ClientSecretBasic] (the default for a client with a secret),
// [ClientSecretPost], or [ClientAuthNone] (user flows only). All flows.
// [PrivateKeyJWT] or an unknown value is an error: use [WithPrivateKeyJWT].
func WithClientAuth(method ClientAuth) Option {
	return func(o *options) {
		if o.assertionFile != "" {
			o.fail("WithClientAuth", "is given with WithClientAssertionFile: choose one")
			return
		}
		switch method {
		case ClientSecretBasic, ClientSecretPost, ClientAuthNone:
			o.auth, o.authSet = method, true
		case PrivateKeyJWT:
			o.fail("WithClientAuth", "cannot set PrivateKeyJWT without a key: use WithPrivateKeyJWT")
		default:
			o.fail("WithClientAuth", "is not a known client authentication method")
		}
	}
}

// WithPrivateKeyJWT makes the client authenticate at every endpoint with an
// RFC 7523 client assertion signed by key (RSA: RS256, ECDSA P-256: ES256,
// Ed25519: EdDSA), with keyID as its "kid" (optional, "" for none). All
// flows. The assertion is valid for two minutes and has the endpoint's URL
// as its audience. The client needs no secret. key must be safe for
// concurrent use (the standard library's keys are); a nil key or another
// key type is an error.
func WithPrivateKeyJWT(key crypto.Signer, keyID string) Option {
	signer := tokenwire.KeySigner{Key: key, KeyID: keyID}
	return func(o *options) {
		if o.assertionFile != "" {
			o.fail("WithPrivateKeyJWT", "is given with WithClientAssertionFile: choose one")
			return
		}
		if err := signer.Check(); err != nil {
			o.fail("WithPrivateKeyJWT", err.Error())
			return
		}
		o.auth, o.authSet, o.assertion = PrivateKeyJWT, true, signer.Sign
	}
}

// InsecureAllowHTTP lets endpoints (token, issuer, and the others) use plain
// http on any host. All flows. By default plain http is accepted only for
// loopback hosts (127.0.0.0/8, ::1, localhost) and everything else must be
// https. Over plain http anyone on the network path can read the client
// secret and the tokens.
func InsecureAllowHTTP() Option {
	return func(o *options) { o.insecureHTTP = true }
}

// WithDefaultLifetime sets the lifetime assumed for a token whose response
// has no expires_in. All flows. d must be positive; the default is
// [data.DefaultTokenLifetime]. Such a token is never treated as valid
// forever.
func WithDefaultLifetime(d time.Duration) Option {
	return func(o *options) {
		if d <= 0 {
			o.fail("WithDefaultLifetime", "must be positive")
			return
		}
		o.defaultLifetime = d
	}
}

// WithClock replaces time.Now for expiry decisions, token timestamps and
// the discovery TTL. All flows; for tests. nil means time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithLogger sets a logger for token requests, discovery and sign-in. All
// flows. nil means the default: nothing is logged. Records carry the
// client id, timings and token fingerprints ([data.Fingerprint]), never a
// secret or a token.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// UnsupportedTokenTypeError is returned when the token endpoint issues a
// token whose token_type is not Bearer (in any case), or, with
// [WithDPoP], not DPoP: RFC 6749 §7.1 forbids using a token type the
// client does not understand (a DPoP token without WithDPoP has no key to
// prove). Temporary() is false.
type UnsupportedTokenTypeError = tokenwire.UnsupportedTokenTypeError
