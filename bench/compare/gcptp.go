package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"cloud.google.com/go/auth"
)

// ccProvider is a client-credentials auth.TokenProvider for
// cloud.google.com/go/auth, written as its users write one: it passes ctx
// to the request (as the TokenProvider contract asks) and reports error
// answers as *auth.Error, like the library's own providers.
type ccProvider struct {
	tokenURL string
	client   *http.Client
}

var _ auth.TokenProvider = (*ccProvider)(nil)

func (p *ccProvider) Token(ctx context.Context) (*auth.Token, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(clientSecret))
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &auth.Error{Response: resp, Body: body}
	}
	tok, err := parseToken(body, time.Now())
	if err != nil {
		return nil, err
	}
	return &auth.Token{Value: tok.AccessToken, Type: tok.TokenType, Expiry: tok.Expiry}, nil
}
