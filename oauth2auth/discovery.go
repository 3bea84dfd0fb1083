package oauth2auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/internal/endpoint"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
)

// DiscoveryTTL is how long an authorizer keeps a discovered provider
// configuration before it fetches the metadata again.
const DiscoveryTTL = time.Hour

// providerMetadata is the part of an OpenID Provider Configuration (OpenID
// Connect Discovery 1.0 §3) or Authorization Server Metadata (RFC 8414 §2)
// that the authorizers use.
type providerMetadata struct {
	Issuer        string `json:"issuer"`
	TokenURL      string `json:"token_endpoint"`
	AuthURL       string `json:"authorization_endpoint"`
	DeviceAuthURL string `json:"device_authorization_endpoint"`
	RevocationURL string `json:"revocation_endpoint"`
	JWKSURL       string `json:"jwks_uri"`
}

// Discover returns e with its endpoints filled in from the provider's
// metadata: TokenURL, AuthURL, DeviceAuthURL, RevocationURL and JWKSURL.
// Endpoints already set in e are kept. It fetches
// <Issuer>/.well-known/openid-configuration (OpenID Connect Discovery) and,
// when that is not there, the RFC 8414 document
// /.well-known/oauth-authorization-server[/<issuer path>]; the document's
// issuer must equal e.Issuer (a trailing slash aside), and an https
// issuer's endpoints must all be https. Redirects are not followed (one
// could move the fetch to plain http or to another host).
//
// Discover fetches every time it is called and keeps nothing: the
// authorizers call it once and keep the result for [DiscoveryTTL]. client
// nil means a client with [DefaultHTTPTimeout]. ctx bounds the requests.
// Discover is safe for concurrent use.
//
// Errors: *[authorizer.InvalidConfigError] when e has no Issuer or the
// metadata is unusable (wrong issuer, bad endpoint URLs);
// *[authorizer.AuthorizationError] when the documents cannot be fetched,
// with the HTTP status in StatusCode.
func (e Environment) Discover(ctx context.Context, client *http.Client) (Environment, error) {
	if e.Issuer == "" {
		return e, &authorizer.InvalidConfigError{Setting: e.label() + ".Issuer", Problem: "is empty: nothing to discover"}
	}
	if client == nil {
		client = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	md, err := fetchMetadata(ctx, client, e.Issuer)
	if err != nil {
		return e, err
	}
	out := e.Clone()
	fill(&out.TokenURL, md.TokenURL)
	fill(&out.AuthURL, md.AuthURL)
	fill(&out.DeviceAuthURL, md.DeviceAuthURL)
	fill(&out.RevocationURL, md.RevocationURL)
	fill(&out.JWKSURL, md.JWKSURL)
	return out, nil
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// fetchMetadata tries OpenID discovery, then RFC 8414, and checks the
// answer.
func fetchMetadata(ctx context.Context, client *http.Client, issuer string) (providerMetadata, error) {
	oidcURL, rfcURL, err := wellKnownURLs(issuer)
	if err != nil {
		return providerMetadata{}, err
	}
	md, err := getMetadata(ctx, client, oidcURL)
	if err != nil && !isTemporary(err) && ctx.Err() == nil {
		md, err = getMetadata(ctx, client, rfcURL)
	}
	if err != nil {
		return md, discoveryError(issuer, err)
	}
	return md, checkMetadata(issuer, md)
}

// discoveryError wraps a failed discovery, keeping the HTTP status; when
// neither document exists it suggests TokenURL, since the issuer is then
// often a token URL given as an issuer.
func discoveryError(issuer string, err error) error {
	e := &authorizer.AuthorizationError{Message: "oauth2auth: discovery for issuer " + tokenwire.Where(issuer) + " failed", Err: err}
	var ae *authorizer.AuthorizationError
	if errors.As(err, &ae) {
		e.StatusCode = ae.StatusCode
	}
	if e.StatusCode == http.StatusNotFound {
		e.Message += " (neither /.well-known/openid-configuration nor /.well-known/oauth-authorization-server exists;" +
			" if the provider has no discovery, set Environment.TokenURL, and the other endpoints, instead of Issuer)"
	}
	return e
}

// wellKnownURLs returns the OpenID Connect Discovery URL (appended to the
// issuer) and the RFC 8414 §3.1 URL (inserted before the issuer's path).
func wellKnownURLs(issuer string) (string, string, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", "", &authorizer.InvalidConfigError{Setting: "oauth2auth: Environment.Issuer", Problem: "is not an absolute http(s) URL"}
	}
	path := strings.TrimSuffix(u.Path, "/")
	oidc := *u
	oidc.Path, oidc.RawPath, oidc.RawQuery, oidc.Fragment = path+"/.well-known/openid-configuration", "", "", ""
	rfc := oidc
	rfc.Path = "/.well-known/oauth-authorization-server" + path
	return oidc.String(), rfc.String(), nil
}

// getMetadata fetches and decodes one metadata document.
func getMetadata(ctx context.Context, client *http.Client, docURL string) (providerMetadata, error) {
	var md providerMetadata
	a, err := tokenwire.Fetch(ctx, client, docURL)
	switch {
	case err != nil:
		return md, err
	case a.Status >= 300 && a.Status < 400:
		return md, &authorizer.AuthorizationError{StatusCode: a.Status,
			Message: "oauth2auth: " + tokenwire.Where(docURL) + " answered with a redirect, which is not followed"}
	case a.Status != http.StatusOK:
		return md, &authorizer.AuthorizationError{StatusCode: a.Status, Message: "oauth2auth: " + tokenwire.Where(docURL) + " answered an error status"}
	}
	if err := json.Unmarshal(a.Body, &md); err != nil {
		return md, &authorizer.AuthorizationError{StatusCode: a.Status,
			Message: "oauth2auth: " + tokenwire.Where(docURL) + " is not a JSON metadata document", Err: err}
	}
	return md, nil
}

// isTemporary reports whether err says retrying later can help (a network
// failure, 429, 5xx): then the second document is not tried.
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	if errors.As(err, &t) {
		return t.Temporary()
	}
	var ue *url.Error
	return errors.As(err, &ue)
}

// checkMetadata verifies the issuer and the endpoint URLs of md: an https
// issuer's endpoints are https (not even loopback http), an http issuer's
// may be http only to loopback unless that issuer was allowed as plain
// http already.
func checkMetadata(issuer string, md providerMetadata) error {
	if strings.TrimSuffix(md.Issuer, "/") != strings.TrimSuffix(issuer, "/") {
		return &authorizer.InvalidConfigError{Setting: "oauth2auth: discovered issuer",
			Problem: fmt.Sprintf("%q does not match the configured issuer %q", tokenwire.Clean(md.Issuer), issuer)}
	}
	rule := endpoint.Rule{AllowHTTP: strings.HasPrefix(issuer, "http:"), HTTPSOnly: strings.HasPrefix(issuer, "https:")}
	fields := []urlField{{"token_endpoint", md.TokenURL}, {"authorization_endpoint", md.AuthURL},
		{"device_authorization_endpoint", md.DeviceAuthURL}, {"revocation_endpoint", md.RevocationURL},
		{"jwks_uri", md.JWKSURL}}
	for _, f := range fields {
		if f.value == "" {
			continue
		}
		if err := checkEndpoint("oauth2auth: discovered "+f.name, f.value, rule); err != nil {
			return err
		}
	}
	return nil
}

// discoverer keeps one authorizer's discovered environment: discovery runs
// once (one caller at a time; the others wait, or leave when their ctx
// ends) and its result is used until DiscoveryTTL has passed, then fetched
// again. A failed refresh keeps the old environment in use and is tried
// again by the next call; a failed first discovery is not cached.
type discoverer struct {
	turn chan struct{}              // capacity 1: held by the caller that discovers
	cur  atomic.Pointer[discovered] // the newest result, nil before the first
	now  func() time.Time
	// resolve discovers and checks the environment (the caller's rules).
	resolve func(ctx context.Context) (Environment, error)
}

type discovered struct {
	env Environment
	at  time.Time
}

func newDiscoverer(now func() time.Time, resolve func(context.Context) (Environment, error)) *discoverer {
	return &discoverer{turn: make(chan struct{}, 1), now: now, resolve: resolve}
}

// get returns the environment, discovering it when there is none or it is
// older than DiscoveryTTL. It honours ctx while waiting for another
// caller's discovery.
func (d *discoverer) get(ctx context.Context) (*Environment, error) {
	if c := d.fresh(); c != nil {
		return &c.env, nil
	}
	select {
	case d.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, wireError(ctx, "waiting for provider discovery", ctx.Err())
	}
	defer func() { <-d.turn }()
	if c := d.fresh(); c != nil { // another caller discovered meanwhile
		return &c.env, nil
	}
	env, err := d.resolve(ctx)
	if err != nil {
		if old := d.cur.Load(); old != nil && ctx.Err() == nil {
			return &old.env, nil // keep the stale metadata; retried next call
		}
		return nil, err
	}
	d.cur.Store(&discovered{env: env, at: d.now()})
	return &env, nil
}

// fresh returns the current result when it is younger than DiscoveryTTL.
func (d *discoverer) fresh() *discovered {
	c := d.cur.Load()
	if c == nil || d.now().Sub(c.at) >= DiscoveryTTL {
		return nil
	}
	return c
}

// wireError wraps a failure while waiting or talking to the provider; when
// ctx is done it wraps ctx.Err() too, so errors.Is(err, context.Canceled)
// holds.
func wireError(ctx context.Context, msg string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		err = fmt.Errorf("%w: %w", cerr, err)
	}
	return &authorizer.AuthorizationError{Message: "oauth2auth: " + msg, Err: err}
}
