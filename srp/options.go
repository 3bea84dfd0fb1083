package srp

import (
	"context"
	"io"
	"net/http"
	"time"
)

// Option configures an [Authorizer]; pass it to [NewAuthorizer]. Every
// option is optional. nil for a dependency (a client, a clock, a handler)
// means its documented default; a combination that cannot work is an
// [*authorizer.InvalidConfigError] naming the option, never silently
// ignored.
type Option func(*options)

// options holds what the Options set; see the With… functions.
type options struct {
	cognito      CognitoClient
	httpClient   *http.Client
	now          func() time.Time
	random       io.Reader
	idToken      bool
	dropPassword bool
	insecureHTTP bool
	deviceKey    string
	newPassword  func(ctx context.Context) (string, error)
	mfa          func(ctx context.Context, challenge string) (string, error)
	challenge    func(ctx context.Context, c Challenge) (map[string]string, error)
	clientMeta   map[string]string
}

// WithCognitoClient sets the Cognito client (a [CognitoClient]; tests pass
// a fake). Default, and what nil means: an aws-sdk-go-v2 client for the
// Environment (anonymous credentials, no SDK retries but one for a lost
// connection, the HTTP client of [WithHTTPClient]). Combined with a
// non-nil WithHTTPClient it is an [*authorizer.InvalidConfigError]: the HTTP
// client belongs to the default Cognito client.
func WithCognitoClient(c CognitoClient) Option {
	return func(o *options) { o.cognito = c }
}

// WithHTTPClient sets the HTTP client of the default Cognito client.
// Default, and what nil means: an http.Client with [DefaultHTTPTimeout].
// It cannot be combined with [WithCognitoClient] (an
// [*authorizer.InvalidConfigError]), whose client makes its own calls.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) { o.httpClient = hc }
}

// WithClock replaces time.Now for token expiry and for the TIMESTAMP of the
// password claim; for tests. Default, and what nil means: time.Now.
func WithClock(now func() time.Time) Option {
	return func(o *options) { o.now = now }
}

// WithIDToken makes the Authorizer send the ID token instead of the access
// token (API Gateway's Cognito authorizers often expect it). Default: the
// access token. Both stay in
// the token's Extra ("id_token", "access_token"). The Expiry is still
// Cognito's ExpiresIn, which is the access token's lifetime: keep the app
// client's IdTokenValidity at least as long as its AccessTokenValidity.
func WithIDToken() Option {
	return func(o *options) { o.idToken = true }
}

// WithoutStoredPassword makes the Authorizer forget the password after the
// first successful sign-in (default: it keeps it, in memory only, for a
// new sign-in when the refresh token is refused). From then on only the refresh token renews the
// session; once Cognito refuses it, Authorize fails with an
// [*authorizer.InvalidCredentialsError] instead of signing in again.
func WithoutStoredPassword() Option {
	return func(o *options) { o.dropPassword = true }
}

// WithDeviceKey sets a remembered device's key, sent as DEVICE_KEY when
// refreshing. Default, and what "" means: none, unless Cognito returns one
// in NewDeviceMetadata at sign-in, which is then used.
func WithDeviceKey(key string) Option {
	return func(o *options) { o.deviceKey = key }
}

// WithNewPasswordHandler answers NEW_PASSWORD_REQUIRED (a user created by
// an administrator, or whose password was reset) with the password h
// returns; the new password then replaces the configured one for later
// sign-ins. h returning "" or an error stops the sign-in with a
// [ChallengeError] wrapping it. Default, and what nil means: no handler;
// that challenge fails with a ChallengeError that names this option.
func WithNewPasswordHandler(h func(ctx context.Context) (string, error)) Option {
	return func(o *options) { o.newPassword = h }
}

// WithMFAHandler answers SOFTWARE_TOKEN_MFA, SMS_MFA and EMAIL_OTP with the
// code h returns; challenge is the challenge's name. h returning "" or an
// error stops the sign-in with a [ChallengeError]. Default, and what nil
// means: no handler; those challenges go to [WithChallengeHandler], or
// fail with a ChallengeError that names this option.
func WithMFAHandler(h func(ctx context.Context, challenge string) (code string, err error)) Option {
	return func(o *options) { o.mfa = h }
}

// WithChallengeHandler answers any other challenge (and those above when
// their own handler is not set). h returns the ChallengeResponses;
// USERNAME and SECRET_HASH are added when missing; a nil map or an error
// stops the sign-in with a [ChallengeError]. Default, and what nil means:
// no handler; such challenges fail with a ChallengeError.
func WithChallengeHandler(h func(ctx context.Context, c Challenge) (map[string]string, error)) Option {
	return func(o *options) { o.challenge = h }
}

// WithClientMetadata sets the ClientMetadata sent with every call (passed
// to the pool's Lambda triggers). Default, and what nil means: none.
func WithClientMetadata(m map[string]string) Option {
	return func(o *options) { o.clientMeta = m }
}

// InsecureAllowHTTP accepts an Environment.Endpoint with plain http to a
// host that is not loopback. The password proof and the tokens then cross
// the network in the clear. Only for test networks. Default: plain http is
// accepted for loopback hosts only; otherwise NewAuthorizer returns an
// [*authorizer.InvalidConfigError] naming srp.InsecureAllowHTTP.
func InsecureAllowHTTP() Option {
	return func(o *options) { o.insecureHTTP = true }
}

// withRandom replaces crypto/rand, for tests; nil means crypto/rand.
func withRandom(r io.Reader) Option {
	return func(o *options) { o.random = r }
}
