package tokenwire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/dpop"
	"golang.org/x/oauth2"
)

// MaxBodySize caps how much of a token endpoint's answer is read (1 MiB).
const MaxBodySize = 1 << 20

// DefaultTimeout bounds a token request made with the default HTTP client.
const DefaultTimeout = 30 * time.Second

// prefix starts every error message: the errors reach users through
// package oauth2auth.
const prefix = "oauth2auth: "

// defaultClient is used when Request.HTTPClient is nil.
var defaultClient = &http.Client{Timeout: DefaultTimeout}

// Request is one token request.
type Request struct {
	// HTTPClient sends the request. Optional; the default has a
	// DefaultTimeout timeout. Its redirect policy is ignored: redirects are
	// never followed.
	HTTPClient *http.Client
	// URL is the token endpoint. Required.
	URL string
	// Client is the client that authenticates. Required (ClientID).
	Client data.ClientInfo
	// Auth is how the client authenticates. Optional; default AuthBasic.
	Auth ClientAuth
	// Assertion signs an RFC 7523 client assertion for AuthPrivateKeyJWT,
	// given the client id, the audience (the token URL) and the time.
	// Required for AuthPrivateKeyJWT only; see KeySigner.
	Assertion func(clientID, audience string, now time.Time) (string, error)
	// Form holds grant_type and the grant's parameters. It is not
	// modified; client_id, client_secret and client_assertion in it are
	// replaced according to Auth.
	Form url.Values
	// Endpoint names the endpoint in messages ("token", "device
	// authorization", "revocation"). Optional; default "token".
	Endpoint string
	// UserName names the user for *authorizer.InvalidCredentialsError.
	// Optional.
	UserName string
	// DefaultLifetime is the lifetime of a token whose answer has no
	// expires_in. Optional; default data.DefaultTokenLifetime.
	DefaultLifetime time.Duration
	// Now is the clock. Optional; default time.Now.
	Now func() time.Time
	// RetryInvalidClient sends the request once more, with a new assertion
	// from Assertion, when the answer is invalid_client: for assertions read
	// from a file that the platform rewrites (a file read just before it
	// was rotated holds an expired assertion). Optional; default false.
	RetryInvalidClient bool
	// DPoP, when set, makes this a DPoP token request (RFC 9449 §5): every
	// request sent carries a proof signed by DPoP (htm POST, htu URL, no
	// ath, the newest nonce Nonces holds for URL's origin), an answer 400
	// use_dpop_nonce with a new DPoP-Nonce is sent once more with that
	// nonce (a new proof and, for AuthPrivateKeyJWT, a new assertion), and
	// Do accepts only a token of type DPoP, bound to DPoP
	// (dpop.KeyOf(tok) == DPoP); a Bearer answer is a *DowngradeError.
	// Optional; only for the token endpoint (device authorization and
	// revocation requests carry no proof).
	DPoP *dpop.Key
	// Nonces remembers the DPoP-Nonce of every answer to a DPoP request,
	// per origin; the authorizer owns one for all its requests. Optional;
	// nil with DPoP set means a store for this request only.
	Nonces *dpop.Nonces

	assertion  string // the client assertion send made, scrubbed from answers
	proof      string // the DPoP proof send made, scrubbed from answers
	proofNonce string // the nonce that proof carried
}

func (r *Request) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Answer is an authorization server's answer to a request made by Send or
// Fetch: the status, the header and the body, read (at most MaxBodySize
// bytes) and closed.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
	// Sent is when the request was sent (by Request.Now for Send).
	Sent time.Time

	secrets []string // what the request sent that the answer must not quote
}

// Do sends the token request r and returns the token, or a typed error of
// package authorizer (see the package documentation). The token's Expiry is
// counted from the moment the request was sent. Do is safe for concurrent
// use and honours ctx.
func Do(ctx context.Context, r Request) (*oauth2.Token, error) {
	a, err := Send(ctx, r)
	if err != nil {
		return nil, err
	}
	tok, err := parse(a.Status, a.Header, a.Body, a.Sent, r.DefaultLifetime, a.secrets, r.DPoP)
	return tok, r.annotate(err)
}

// Send posts r.Form to r.URL, authenticated as r.Auth says, and returns the
// answer without interpreting it. It is the one way the SDK sends anything
// to an authorization server's endpoints that take client authentication:
// token (RFC 6749 §3.2), device authorization (RFC 8628 §3.1) and
// revocation (RFC 7009 §2.1). It follows no redirect and honours ctx; use
// Refusal to turn an error answer into a typed error.
func Send(ctx context.Context, r Request) (Answer, error) {
	if r.URL == "" {
		return Answer{}, configError(r.endpoint()+" URL", "is empty")
	}
	if r.Client.ClientID == "" {
		return Answer{}, configError("client id", "is empty")
	}
	if r.DPoP != nil && r.Nonces == nil {
		r.Nonces = new(dpop.Nonces)
	}
	var status int
	var header http.Header
	var body []byte
	var err error
	sent, secrets := time.Time{}, r.secrets()
	post := func() { // each send makes a new assertion and proof: both are scrubbed
		sent = r.now()
		status, header, body, err = send(ctx, &r)
		secrets = append(secrets, r.assertion, r.proof)
	}
	post()
	if err == nil && wantsNonce(&r, status, header, body) { // once: the retry's answer is final
		post()
	}
	if err == nil && r.RetryInvalidClient && invalidClient(header, body) {
		post()
	}
	return Answer{Status: status, Header: header, Body: body, Sent: sent, secrets: secrets}, err
}

// Refusal returns the typed error for an error answer to r (RFC 6749 §5.2
// fields, status, Retry-After), as Do would: with the client id and user
// name filled in, and no secret that r sent quoted back.
func (r Request) Refusal(a Answer) error {
	err := classifyAt(r.endpoint()+" endpoint", a.Status, a.Header, a.fields(), a.Sent, append(r.secrets(), a.secrets...))
	return r.annotate(err)
}

// invalidClient reports whether an answer's error code is invalid_client.
func invalidClient(header http.Header, body []byte) bool {
	f, _ := decode(header, body)
	return stringField(f, "error") == "invalid_client"
}

// fields decodes the answer for Refusal; an undecodable body gives none.
func (a Answer) fields() map[string]any {
	f, _ := decode(a.Header, a.Body)
	return f
}

// Fetch gets a public document (provider metadata, a key set) from docURL
// with client: no credentials, no redirects followed (a redirect could move
// the fetch to plain http or to another host), the body read up to
// MaxBodySize. A network failure or an oversized body is an
// *authorizer.AuthorizationError; the status is the caller's to judge.
func Fetch(ctx context.Context, client *http.Client, docURL string) (Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, docURL, nil)
	if err != nil {
		return Answer{}, configError("metadata URL", "is not a valid URL")
	}
	req.Header.Set("Accept", "application/json")
	sent := time.Now()
	resp, err := noRedirects(client).Do(req)
	if err != nil {
		return Answer{}, networkError(ctx, "fetching "+Where(docURL)+" failed", err)
	}
	defer resp.Body.Close()
	body, err := readCapped(resp.Body)
	if err != nil {
		return Answer{}, networkError(ctx, "reading "+Where(docURL)+" failed", err)
	}
	if len(body) > MaxBodySize {
		return Answer{}, &authorizer.AuthorizationError{StatusCode: resp.StatusCode,
			Message: prefix + Where(docURL) + " is larger than 1 MiB"}
	}
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: body, Sent: sent}, nil
}

// Where is an endpoint's host and path, for messages: never its query,
// which could carry a secret.
func Where(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return "the endpoint"
	}
	return u.Host + u.Path
}

func readCapped(body io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(body, MaxBodySize+1))
}

// send posts the form and returns the answer, its body read and closed.
func send(ctx context.Context, r *Request) (int, http.Header, []byte, error) {
	form := cloneForm(r.Form)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, nil)
	if err != nil {
		return 0, nil, nil, configError(r.endpoint()+" URL", "is not a valid URL")
	}
	if err := authenticate(r, req, form); err != nil {
		return 0, nil, nil, err
	}
	if err := addProof(r, req); err != nil {
		return 0, nil, nil, err
	}
	encoded := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(encoded))
	req.ContentLength = int64(len(encoded))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(encoded)), nil }
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := noRedirects(r.HTTPClient).Do(req)
	if err != nil {
		return 0, nil, nil, networkError(ctx, r.endpoint()+" request failed", err)
	}
	defer resp.Body.Close()
	observeNonce(r, req.URL, resp.Header)
	body, err := readCapped(resp.Body)
	if err != nil {
		return 0, nil, nil, networkError(ctx, "reading the "+r.endpoint()+" response failed", err)
	}
	if len(body) > MaxBodySize {
		return 0, nil, nil, &authorizer.AuthorizationError{StatusCode: resp.StatusCode,
			Message: prefix + r.endpoint() + " response is larger than 1 MiB"}
	}
	return resp.StatusCode, resp.Header, body, nil
}

// endpoint names the endpoint in messages: Request.Endpoint or "token".
func (r *Request) endpoint() string {
	if r.Endpoint != "" {
		return r.Endpoint
	}
	return "token"
}

// secrets are the values r sends that an answer must not quote back: the
// client secret, and every form value that is a credential or a grant.
func (r *Request) secrets() []string {
	out := []string{r.Client.ClientSecret}
	for _, k := range secretKeys {
		out = append(out, r.Form[k]...)
	}
	return out
}

// secretKeys are form fields whose values are secrets.
var secretKeys = []string{"client_secret", "client_assertion", "refresh_token", "code", "code_verifier",
	"device_code", "password", "token", "assertion", "subject_token", "actor_token"}

// noRedirects returns a shallow copy of c (or of the default client) that
// hands a redirect back instead of following it: client credentials must not
// be replayed to wherever a token endpoint points.
func noRedirects(c *http.Client) *http.Client {
	if c == nil {
		c = defaultClient
	}
	cp := *c
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// networkError wraps a failure to talk to the endpoint. When ctx is done the
// error also wraps its cause (context.Cause: ctx.Err(), or
// [authorizer.ErrTimeout] when the SDK's own timeout ended it), so
// errors.Is(err, context.Canceled) holds even if the transport reported the
// failure differently, and an SDK timeout stays temporary.
func networkError(ctx context.Context, msg string, err error) error {
	if cerr := context.Cause(ctx); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w: %w", cerr, err)
	}
	return &authorizer.AuthorizationError{Message: prefix + msg, Err: err}
}

// annotate fills in the client id and user name that ParseResponse cannot
// know.
func (r *Request) annotate(err error) error {
	var ic *authorizer.InvalidClientError
	if errors.As(err, &ic) {
		ic.ClientID = r.Client.ClientID
	}
	var cred *authorizer.InvalidCredentialsError
	if errors.As(err, &cred) {
		cred.UserName = r.UserName
	}
	return err
}

func cloneForm(f url.Values) url.Values {
	out := make(url.Values, len(f)+3)
	for k, v := range f {
		out[k] = append([]string(nil), v...)
	}
	return out
}

func configError(setting, problem string) error {
	return &authorizer.InvalidConfigError{Setting: prefix + setting, Problem: problem}
}
