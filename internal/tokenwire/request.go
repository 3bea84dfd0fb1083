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
	// UserName names the user for *authorizer.InvalidCredentialsError.
	// Optional.
	UserName string
	// DefaultLifetime is the lifetime of a token whose answer has no
	// expires_in. Optional; default data.DefaultTokenLifetime.
	DefaultLifetime time.Duration
	// Now is the clock. Optional; default time.Now.
	Now func() time.Time
}

func (r *Request) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Do sends the token request r and returns the token, or a typed error of
// package authorizer (see the package documentation). The token's Expiry is
// counted from the moment the request was sent. Do is safe for concurrent
// use and honours ctx.
func Do(ctx context.Context, r Request) (*oauth2.Token, error) {
	if r.URL == "" {
		return nil, configError("token URL", "is empty")
	}
	if r.Client.ClientID == "" {
		return nil, configError("client id", "is empty")
	}
	sent := r.now()
	status, header, body, err := send(ctx, &r)
	if err != nil {
		return nil, err
	}
	tok, err := ParseResponse(status, header, body, sent, r.DefaultLifetime)
	return tok, r.annotate(err)
}

// send posts the form and returns the answer, its body read and closed.
func send(ctx context.Context, r *Request) (int, http.Header, []byte, error) {
	form := cloneForm(r.Form)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, nil)
	if err != nil {
		return 0, nil, nil, configError("token URL", "is not a valid URL")
	}
	if err := authenticate(r, req, form); err != nil {
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
		return 0, nil, nil, networkError(ctx, "token request failed", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodySize+1))
	if err != nil {
		return 0, nil, nil, networkError(ctx, "reading the token response failed", err)
	}
	if len(body) > MaxBodySize {
		return 0, nil, nil, &authorizer.AuthorizationError{StatusCode: resp.StatusCode,
			Message: prefix + "token response is larger than 1 MiB"}
	}
	return resp.StatusCode, resp.Header, body, nil
}

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
// error also wraps ctx.Err(), so errors.Is(err, context.Canceled) holds even
// if the transport reported the failure differently.
func networkError(ctx context.Context, msg string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
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
