package oauth2auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
)

// maxEndpointBody caps what is read of a device authorization or
// revocation answer.
const maxEndpointBody = 1 << 20

// postForm posts form to endpoint with the client's credentials (as the
// token endpoint gets them) and returns the answer, its body read (capped)
// and closed. It does not follow redirects. It is used for the endpoints
// that are not token endpoints: device authorization and revocation.
func (s *userSession) postForm(ctx context.Context, endpoint string, form url.Values) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, nil)
	if err != nil {
		return 0, nil, nil, &authorizer.InvalidConfigError{Setting: "oauth2auth: endpoint", Problem: "is not a valid URL"}
	}
	if err := s.authenticate(req, form); err != nil {
		return 0, nil, nil, err
	}
	body := form.Encode()
	req.Body = io.NopCloser(strings.NewReader(body))
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := noRedirectClient(s.deps.httpClient).Do(req)
	if err != nil {
		return 0, nil, nil, wireError(ctx, "request to "+endpointName(endpoint)+" failed", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxEndpointBody+1))
	if err != nil {
		return 0, nil, nil, wireError(ctx, "reading the answer of "+endpointName(endpoint)+" failed", err)
	}
	if len(b) > maxEndpointBody {
		return 0, nil, nil, &authorizer.AuthorizationError{StatusCode: resp.StatusCode,
			Message: "oauth2auth: answer larger than 1 MiB"}
	}
	return resp.StatusCode, resp.Header, b, nil
}

// authenticate adds the client's credentials: Basic for a confidential
// client using client_secret_basic, the form otherwise.
func (s *userSession) authenticate(req *http.Request, form url.Values) error {
	form.Del("client_secret")
	form.Set("client_id", s.info.ClientID)
	if s.info.ClientSecret == "" || s.deps.auth == tokenwire.AuthNone {
		return nil
	}
	switch s.deps.auth {
	case tokenwire.AuthBasic:
		form.Del("client_id")
		req.SetBasicAuth(s.info.BasicAuth())
	case tokenwire.AuthPost:
		form.Set("client_secret", s.info.ClientSecret)
	default:
		return &authorizer.InvalidConfigError{Setting: "oauth2auth: client authentication",
			Problem: fmt.Sprintf("%s is not supported by the user sign-in flows", s.deps.auth)}
	}
	return nil
}

// noRedirectClient returns a copy of c that does not follow redirects:
// client credentials must not follow them.
func noRedirectClient(c *http.Client) *http.Client {
	if c == nil {
		c = http.DefaultClient
	}
	cp := *c
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}

// endpointName is the endpoint's host and path, for messages (never its
// query).
func endpointName(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "the endpoint"
	}
	return u.Host + u.Path
}

// wireError wraps a network failure; when ctx is done it wraps ctx.Err()
// too, so errors.Is(err, context.Canceled) holds.
func wireError(ctx context.Context, msg string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w: %w", cerr, err)
	}
	return &authorizer.AuthorizationError{Message: "oauth2auth: " + msg, Err: err}
}
