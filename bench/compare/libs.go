package main

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/httptransport"
	"github.com/seed-d44eba79/authorizer/base"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Library names, in table order.
const (
	libSDK    = "authorizer"
	libOAuth2 = "x/oauth2"
	libGoogle = "cloud.google.com/go/auth"
)

var libNames = []string{libSDK, libOAuth2, libGoogle}

// env is what a scenario gives a library: where tokens come from, what
// carries the API requests, and the token lifetime it should expect.
type env struct {
	tokenURL string
	// next sends the authorized API requests (a pool, a TLS-trusting pool,
	// or a no-op).
	next http.RoundTripper
	// apiKey, when set, is sent as X-Api-Key with each request.
	apiKey string
	// lifetime is the token lifetime the endpoint issues: the peers' early
	// expiry is shrunk for short tokens as the SDK shrinks its own.
	lifetime time.Duration
}

// client is one library set up for a scenario.
type client struct {
	name string
	rt   http.RoundTripper // the library's authorizing RoundTripper
	http *http.Client
	tok  *countRT // every token request the library made
	// backoffs counts the SDK's backoff events (nil for the peers).
	backoffs *atomic.Int64
	close    func()
}

// newClient sets up library name over e, with its own connection pools.
func newClient(name string, e env) (*client, error) {
	tok := &countRT{next: newHTTPTransport(10)}
	tokClient := &http.Client{Transport: tok, Timeout: 30 * time.Second}
	c := &client{name: name, tok: tok, close: func() {}}
	switch name {
	case libSDK:
		c.backoffs = new(atomic.Int64)
		tr := base.NewTransport(&ccAuthorizer{tokenURL: e.tokenURL, client: tokClient},
			base.WithBase(e.next), base.WithAPIKey(e.apiKey),
			base.WithHook(func(ev base.Event) {
				if ev.Kind == base.EventBackoff {
					c.backoffs.Add(1)
				}
			}))
		c.rt, c.close = tr, func() { tr.Close() }
	case libOAuth2:
		c.rt = newOAuth2(e, tokClient)
	case libGoogle:
		rt, err := newGoogle(e, tokClient)
		if err != nil {
			return nil, err
		}
		c.rt = rt
	}
	c.http = &http.Client{Transport: c.rt}
	return c, nil
}

// newOAuth2 is x/oauth2's recommended setup: clientcredentials'
// TokenSource (ReuseTokenSource over the endpoint) in oauth2.Transport. Its
// early expiry is min(10 s default, lifetime/4); it has no API-key option,
// so a user adds X-Api-Key with a small RoundTripper.
func newOAuth2(e env, tokClient *http.Client) http.RoundTripper {
	cfg := &clientcredentials.Config{ClientID: clientID, ClientSecret: clientSecret,
		TokenURL: e.tokenURL, AuthStyle: oauth2.AuthStyleInHeader}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, tokClient)
	ts := oauth2.ReuseTokenSourceWithExpiry(nil, cfg.TokenSource(ctx), min(10*time.Second, e.lifetime/4))
	next := e.next
	if e.apiKey != "" {
		next = headerRT{name: "X-Api-Key", value: e.apiKey, next: next}
	}
	return &oauth2.Transport{Source: ts, Base: next}
}

// newGoogle is cloud.google.com/go/auth's setup: a TokenProvider over the
// endpoint in its cached token provider (stale window min(225 s default,
// lifetime/2)), in httptransport's client with explicit credentials and no
// Google defaults (no telemetry, no credential detection).
func newGoogle(e env, tokClient *http.Client) (http.RoundTripper, error) {
	tp := auth.NewCachedTokenProvider(&ccProvider{tokenURL: e.tokenURL, client: tokClient},
		&auth.CachedTokenProviderOptions{ExpireEarly: min(225*time.Second, e.lifetime/2)})
	opts := &httptransport.Options{
		Credentials:      auth.NewCredentials(&auth.CredentialsOptions{TokenProvider: tp}),
		BaseRoundTripper: e.next,
		DisableTelemetry: true,
	}
	if e.apiKey != "" {
		opts.Headers = http.Header{"X-Api-Key": {e.apiKey}}
	}
	hc, err := httptransport.NewClient(opts)
	if err != nil {
		return nil, err
	}
	return hc.Transport, nil
}
