package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/httptransport"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
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

// Variants: a peer set up the way a user of that library would reasonably
// set it up instead of its defaults. "" is the library's default setup.
const (
	// variantEarly1s: x/oauth2's ReuseTokenSourceWithExpiry and cloud's
	// CachedTokenProviderOptions.ExpireEarly at 1 s, so the token is used
	// until about its end.
	variantEarly1s = "early expiry 1 s"
	// variantMiddleware: cloud's httptransport.AddAuthorizationMiddleware on
	// an existing client, instead of httptransport.NewClient.
	variantMiddleware = "AddAuthorizationMiddleware"
	// variantCheckRedirect: the peers' http.Client with a CheckRedirect that
	// refuses a redirect to another host or from https to http.
	variantCheckRedirect = "CheckRedirect"
)

// Library defaults, from their sources (see the notes): x/oauth2's
// defaultExpiryDelta (token.go), cloud.google.com/go/auth's
// defaultExpiryDelta (auth.go, the CachedTokenProviderOptions.ExpireEarly
// default), and this SDK's refresh ahead (min(5 min, lifetime/2)).
const (
	oauth2DefaultEarly = 10 * time.Second
	googleDefaultEarly = 225 * time.Second
	sdkDefaultAhead    = 5 * time.Minute
)

// early is a library's early expiry for tokens of the given lifetime: its
// default, capped at half the lifetime for every library alike (the cap
// this SDK applies to its own refresh ahead; without it a 225 s window
// would make a 14 s token stale from the start).
func early(def, lifetime time.Duration) time.Duration { return min(def, lifetime/2) }

// env is what a scenario gives a library: where tokens come from, what
// carries the API requests, and the token lifetime it should expect.
type env struct {
	tokenURL string
	// next sends the authorized API requests (a pool, a TLS-trusting pool,
	// or a no-op).
	next http.RoundTripper
	// apiKey, when set, is sent as X-Api-Key with each request.
	apiKey string
	// lifetime is the token lifetime the endpoint issues: the libraries'
	// early expiry is capped at half of it (see early).
	lifetime time.Duration
	// variant is "" for the library's default setup, or one of variant…
	// (only the peers have variants).
	variant string
}

// setting describes how library name is set up in e, for the table.
func setting(name string, e env) string {
	switch {
	case name == libSDK:
		return fmt.Sprintf("refresh ahead %s (min(5 min, lifetime/2)); Expired %s before expiry (base.TokenExpired: min(30 s, lifetime/4))",
			fmtDur(early(sdkDefaultAhead, e.lifetime)), fmtDur(data.EffectiveGap(e.lifetime)))
	case e.variant == variantEarly1s && name == libOAuth2:
		return "ReuseTokenSourceWithExpiry 1 s"
	case e.variant == variantEarly1s:
		return "ExpireEarly 1 s"
	case e.variant == variantMiddleware:
		return "AddAuthorizationMiddleware, ExpireEarly " + fmtDur(early(googleDefaultEarly, e.lifetime))
	case e.variant == variantCheckRedirect:
		return "http.Client.CheckRedirect: same host and scheme only"
	case name == libOAuth2:
		return fmt.Sprintf("early expiry %s (default 10 s, ≤ lifetime/2)", fmtDur(early(oauth2DefaultEarly, e.lifetime)))
	default:
		return fmt.Sprintf("ExpireEarly %s (default 225 s, ≤ lifetime/2), async refresh", fmtDur(early(googleDefaultEarly, e.lifetime)))
	}
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
	if e.variant == variantCheckRedirect {
		c.http.CheckRedirect = sameOrigin
	}
	return c, nil
}

// sameOrigin is the CheckRedirect a user of a peer writes to keep
// credentials on the first host: a redirect to another host or scheme is
// not followed (the caller gets the 302).
func sameOrigin(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if req.URL.Host != first.Host || req.URL.Scheme != first.Scheme {
		return http.ErrUseLastResponse
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
}

// newOAuth2 is x/oauth2's recommended setup: clientcredentials'
// TokenSource (ReuseTokenSource over the endpoint) in oauth2.Transport,
// with its early expiry set through ReuseTokenSourceWithExpiry (10 s, its
// default, unless the token lives under 20 s; 1 s in variantEarly1s). It
// has no API-key option, so X-Api-Key comes from a small RoundTripper of
// the harness's (headerRT), as a user would add it.
func newOAuth2(e env, tokClient *http.Client) http.RoundTripper {
	cfg := &clientcredentials.Config{ClientID: clientID, ClientSecret: clientSecret,
		TokenURL: e.tokenURL, AuthStyle: oauth2.AuthStyleInHeader}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, tokClient)
	delta := early(oauth2DefaultEarly, e.lifetime)
	if e.variant == variantEarly1s {
		delta = time.Second
	}
	ts := oauth2.ReuseTokenSourceWithExpiry(nil, cfg.TokenSource(ctx), delta)
	return &oauth2.Transport{Source: ts, Base: withAPIKey(e)}
}

// withAPIKey returns e.next, under headerRT when e has an API key.
func withAPIKey(e env) http.RoundTripper {
	if e.apiKey == "" {
		return e.next
	}
	return headerRT{name: "X-Api-Key", value: e.apiKey, next: e.next}
}

// newGoogle is cloud.google.com/go/auth's setup: a TokenProvider over the
// endpoint in its cached token provider (async refresh, ExpireEarly its
// 225 s default capped at lifetime/2; 1 s in variantEarly1s), in
// httptransport.NewClient with explicit credentials and no Google defaults
// (no telemetry, no credential detection), X-Api-Key through
// Options.Headers; or, in variantMiddleware, added to a plain client with
// AddAuthorizationMiddleware (X-Api-Key then from headerRT).
func newGoogle(e env, tokClient *http.Client) (http.RoundTripper, error) {
	expire := early(googleDefaultEarly, e.lifetime)
	if e.variant == variantEarly1s {
		expire = time.Second
	}
	tp := auth.NewCachedTokenProvider(&ccProvider{tokenURL: e.tokenURL, client: tokClient},
		&auth.CachedTokenProviderOptions{ExpireEarly: expire})
	creds := auth.NewCredentials(&auth.CredentialsOptions{TokenProvider: tp})
	if e.variant == variantMiddleware {
		hc := &http.Client{Transport: withAPIKey(e)}
		if err := httptransport.AddAuthorizationMiddleware(hc, creds); err != nil {
			return nil, err
		}
		return hc.Transport, nil
	}
	opts := &httptransport.Options{Credentials: creds, BaseRoundTripper: e.next, DisableTelemetry: true}
	if e.apiKey != "" {
		opts.Headers = http.Header{"X-Api-Key": {e.apiKey}}
	}
	hc, err := httptransport.NewClient(opts)
	if err != nil {
		return nil, err
	}
	return hc.Transport, nil
}
