package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"golang.org/x/oauth2"
)

// maxTokenBody caps how much of a token endpoint's answer is read.
const maxTokenBody = 1 << 20

// ccAuthorizer is a client-credentials base.Authorizer written the way a
// user of this SDK would write one: Authorize POSTs to the token endpoint
// with ctx, Expired is base.TokenExpired, Refresh authorizes again, and
// failures are the typed errors of package authorizer (with the status,
// the RFC 6749 fields and Retry-After) so the Transport can back off.
type ccAuthorizer struct {
	tokenURL string
	client   *http.Client
}

var _ base.Authorizer = (*ccAuthorizer)(nil)

func (a *ccAuthorizer) Authorize(ctx context.Context) (*oauth2.Token, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &authorizer.AuthorizationError{Message: "bench: bad token request", Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, &authorizer.AuthorizationError{Message: "bench: token request failed", Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	if err != nil {
		return nil, &authorizer.AuthorizationError{StatusCode: resp.StatusCode, Message: "bench: reading the token answer", Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, tokenError(resp, body)
	}
	return parseToken(body, time.Now())
}

func (a *ccAuthorizer) Expired(tok *oauth2.Token) bool { return base.TokenExpired(tok, time.Now()) }

func (a *ccAuthorizer) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return a.Authorize(ctx)
}

// tokenError turns an error answer into a typed error: a refused client,
// or an AuthorizationError carrying the status, the RFC 6749 §5.2 fields
// and Retry-After.
func tokenError(resp *http.Response, body []byte) error {
	var e struct {
		Code string `json:"error"`
		Desc string `json:"error_description"`
		URI  string `json:"error_uri"`
	}
	json.Unmarshal(body, &e) // a non-JSON body leaves the fields empty
	if e.Code == "invalid_client" || e.Code == "unauthorized_client" {
		return &authorizer.InvalidClientError{ClientID: clientID, StatusCode: resp.StatusCode, Code: e.Code, Description: e.Desc}
	}
	return &authorizer.AuthorizationError{
		StatusCode:  resp.StatusCode,
		Message:     "bench: token request refused",
		Code:        e.Code,
		Description: e.Desc,
		URI:         e.URI,
		RetryAfter:  retryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
}

// retryAfter parses a Retry-After value (delay-seconds or an HTTP date);
// 0 when absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// parseToken reads a successful token answer (RFC 6749 §5.1).
func parseToken(body []byte, now time.Time) (*oauth2.Token, error) {
	var t struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &t); err != nil || t.AccessToken == "" {
		return nil, &authorizer.AuthorizationError{StatusCode: http.StatusOK, Message: "bench: unreadable token answer", Err: err}
	}
	if t.ExpiresIn <= 0 {
		return nil, &authorizer.AuthorizationError{StatusCode: http.StatusOK, Message: fmt.Sprintf("bench: expires_in %d", t.ExpiresIn)}
	}
	return &oauth2.Token{
		AccessToken: t.AccessToken,
		TokenType:   t.TokenType,
		ExpiresIn:   t.ExpiresIn,
		Expiry:      now.Add(time.Duration(t.ExpiresIn) * time.Second),
	}, nil
}
