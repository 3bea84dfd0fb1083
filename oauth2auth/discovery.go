package oauth2auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/seed-d44eba79/authorizer"
)

// DiscoveryTTL is how long a discovered provider configuration is reused by
// Discover before it is fetched again.
const DiscoveryTTL = time.Hour

// maxDiscoveryBody caps how much of a discovery document is read.
const maxDiscoveryBody = 1 << 20

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

// discoveryCache holds discovered metadata by issuer, process-wide.
var discoveryCache = struct {
	mu sync.Mutex // guards m
	m  map[string]cachedMetadata
}{m: map[string]cachedMetadata{}}

type cachedMetadata struct {
	md      providerMetadata
	fetched time.Time
}

// Discover returns e with its endpoints filled in from the provider's
// metadata: TokenURL, AuthURL, DeviceAuthURL, RevocationURL and JWKSURL.
// Endpoints already set in e are kept. It fetches
// <Issuer>/.well-known/openid-configuration (OpenID Connect Discovery) and,
// when that is not there, the RFC 8414 document
// /.well-known/oauth-authorization-server[/<issuer path>]; the document's
// issuer must equal e.Issuer (a trailing slash aside), and its endpoints
// must not downgrade an https issuer to http.
//
// The result is cached per issuer for DiscoveryTTL, process-wide; failures
// are not cached. client nil means a client with DefaultHTTPTimeout. ctx
// bounds the requests. Discover is safe for concurrent use.
//
// Errors: *authorizer.InvalidConfigError when e has no Issuer or the
// metadata is unusable (wrong issuer, bad endpoint URLs);
// *authorizer.AuthorizationError when the documents cannot be fetched.
func (e Environment) Discover(ctx context.Context, client *http.Client) (Environment, error) {
	if e.Issuer == "" {
		return e, &authorizer.InvalidConfigError{Setting: e.label() + ".Issuer", Problem: "is empty: nothing to discover"}
	}
	if client == nil {
		client = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	md, err := metadataFor(ctx, client, e.Issuer)
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

// metadataFor returns the issuer's metadata from the cache or the network.
func metadataFor(ctx context.Context, client *http.Client, issuer string) (providerMetadata, error) {
	discoveryCache.mu.Lock()
	c, ok := discoveryCache.m[issuer]
	discoveryCache.mu.Unlock()
	if ok && time.Since(c.fetched) < DiscoveryTTL {
		return c.md, nil
	}
	md, err := fetchMetadata(ctx, client, issuer)
	if err != nil {
		return md, err
	}
	discoveryCache.mu.Lock()
	discoveryCache.m[issuer] = cachedMetadata{md: md, fetched: time.Now()}
	discoveryCache.mu.Unlock()
	return md, nil
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
		return md, &authorizer.AuthorizationError{Message: "oauth2auth: discovery for issuer " + issuer + " failed", Err: err}
	}
	return md, checkMetadata(issuer, md)
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
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, docURL, nil)
	if err != nil {
		return md, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return md, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscoveryBody+1))
	switch {
	case err != nil:
		return md, err
	case resp.StatusCode != http.StatusOK:
		return md, &authorizer.AuthorizationError{StatusCode: resp.StatusCode, Message: "oauth2auth: " + docURL + " answered an error status"}
	case len(body) > maxDiscoveryBody:
		return md, errors.New("oauth2auth: " + docURL + " is larger than 1 MiB")
	}
	if err := json.Unmarshal(body, &md); err != nil {
		return md, fmt.Errorf("oauth2auth: %s is not a JSON metadata document: %w", docURL, err)
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

// checkMetadata verifies the issuer and the endpoint URLs of md.
func checkMetadata(issuer string, md providerMetadata) error {
	if strings.TrimSuffix(md.Issuer, "/") != strings.TrimSuffix(issuer, "/") {
		return &authorizer.InvalidConfigError{Setting: "oauth2auth: discovered issuer",
			Problem: fmt.Sprintf("%q does not match the configured issuer %q", md.Issuer, issuer)}
	}
	allowHTTP := strings.HasPrefix(issuer, "http:")
	fields := []urlField{{"token_endpoint", md.TokenURL}, {"authorization_endpoint", md.AuthURL},
		{"device_authorization_endpoint", md.DeviceAuthURL}, {"revocation_endpoint", md.RevocationURL},
		{"jwks_uri", md.JWKSURL}}
	for _, f := range fields {
		if f.value == "" {
			continue
		}
		if err := CheckEndpoint("oauth2auth: discovered "+f.name, f.value, allowHTTP); err != nil {
			return err
		}
	}
	return nil
}
