package verify

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// JWKS returns a [KeySource] that fetches an RFC 7517 JSON Web Key Set from
// url: on first use, on a token naming an unknown key (at most once per
// [WithMinRefreshInterval]), and in the background when the keys are older
// than their Cache-Control max-age (clamped by [WithKeysAge]). See the
// package doc for the rules. url must be https, or http to a loopback host
// (or any host with [InsecureAllowHTTP]); an invalid url or option makes
// [New] fail. Close it when done.
func JWKS(url string, opts ...Option) KeySource {
	r := newRemote("JWKS", nil, opts)
	if r.err == nil {
		r.err = checkURL("verify.JWKS", url, r.cfg.insecureHTTP)
	}
	r.load = jwksLoader(newFetcher(&r.cfg), url, &r.cfg)
	return r
}

func jwksLoader(f fetcher, u string, c *config) loader {
	return func(ctx context.Context) (*keySet, time.Duration, error) {
		body, age, err := f.get(ctx, u, "application/jwk-set+json, application/json")
		if err != nil {
			return nil, 0, err
		}
		s, err := parseJWKS(body, c.logger)
		if err != nil {
			return nil, 0, &authorizer.AuthorizationError{StatusCode: 200, Message: "verify: " + redactURL(u) + " answered no usable key set", Err: err}
		}
		return s, age, nil
	}
}

// PEMURL returns a [KeySource] that fetches PEM public keys or certificates
// from url (a permission service's /auth/public-key), with the rules of
// [JWKS]. PEM keys have no kid; as with every remote source, a token whose
// signature fails with the held keys causes a re-fetch, within the same
// limits, which picks up a key that was replaced. In a certificate chain
// (a leaf, then its issuers) only the leaf's key verifies tokens.
func PEMURL(url string, opts ...Option) KeySource {
	r := newRemote("PEMURL", nil, opts)
	if r.err == nil {
		r.err = checkURL("verify.PEMURL", url, r.cfg.insecureHTTP)
	}
	f := newFetcher(&r.cfg)
	r.load = func(ctx context.Context) (*keySet, time.Duration, error) {
		body, age, err := f.get(ctx, url, "application/x-pem-file, text/plain")
		if err != nil {
			return nil, 0, err
		}
		s, err := parsePEMKeys(body)
		if err != nil {
			return nil, 0, &authorizer.AuthorizationError{StatusCode: 200, Message: "verify: " + redactURL(url) + " answered no usable PEM key", Err: err}
		}
		return s, age, nil
	}
	return r
}

// Discover returns a [KeySource] for the JWKS of issuer, found through
// OpenID Connect Discovery (issuer + "/.well-known/openid-configuration"),
// or RFC 8414 authorization server metadata when that answers 404. The
// metadata's issuer must equal issuer exactly, and its jwks_uri must pass
// the URL rules of [JWKS]. The jwks_uri is looked up once, on first use;
// the keys then follow the rules of [JWKS].
func Discover(issuer string, opts ...Option) KeySource {
	r := newRemote("Discover", nil, opts)
	if r.err == nil {
		r.err = checkURL("verify.Discover", issuer, r.cfg.insecureHTTP)
	}
	d := &discovery{issuer: issuer, f: newFetcher(&r.cfg), cfg: &r.cfg}
	r.load = d.load
	return r
}

// discovery finds and then remembers an issuer's jwks_uri.
type discovery struct {
	issuer string
	f      fetcher
	cfg    *config
	mu     sync.Mutex // guards jwks
	jwks   loader
}

func (d *discovery) load(ctx context.Context) (*keySet, time.Duration, error) {
	d.mu.Lock()
	l := d.jwks
	d.mu.Unlock()
	if l == nil {
		u, err := d.lookup(ctx)
		if err != nil {
			return nil, 0, err
		}
		l = jwksLoader(d.f, u, d.cfg)
		d.mu.Lock()
		d.jwks = l
		d.mu.Unlock()
	}
	return l(ctx)
}

// lookup reads the metadata and returns its jwks_uri.
func (d *discovery) lookup(ctx context.Context) (string, error) {
	base := strings.TrimSuffix(d.issuer, "/")
	body, _, err := d.f.get(ctx, base+"/.well-known/openid-configuration", "application/json")
	var ae *authorizer.AuthorizationError
	if errors.As(err, &ae) && ae.StatusCode == 404 {
		body, _, err = d.f.get(ctx, rfc8414URL(d.issuer), "application/json")
	}
	if err != nil {
		return "", err
	}
	var meta struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		return "", &authorizer.AuthorizationError{StatusCode: 200, Message: "verify: discovery document is not JSON", Err: err}
	}
	if meta.Issuer != d.issuer {
		return "", &authorizer.AuthorizationError{StatusCode: 200, Message: "verify: discovery document names another issuer"}
	}
	if err := checkURL("verify: discovered jwks_uri", meta.JWKSURI, d.cfg.insecureHTTP); err != nil {
		return "", &authorizer.AuthorizationError{StatusCode: 200, Message: "verify: discovery document has an unusable jwks_uri", Err: err}
	}
	return meta.JWKSURI, nil
}

// rfc8414URL inserts the well-known segment between host and path.
func rfc8414URL(issuer string) string {
	u, err := url.Parse(issuer)
	if err != nil {
		return issuer
	}
	u.Path = "/.well-known/oauth-authorization-server" + strings.TrimSuffix(u.Path, "/")
	return u.String()
}
