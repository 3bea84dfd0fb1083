package oauth2auth

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
	"golang.org/x/oauth2"
)

// idTokenVerifier checks OpenID Connect ID tokens (OIDC Core §3.1.3.7):
// signature against the provider's published keys, issuer, audience
// (the client id) and expiry, and the nonce of the request that obtained
// it. It caches the keys and is safe for concurrent use.
type idTokenVerifier struct {
	v *oidc.IDTokenVerifier
}

// newIDTokenVerifier returns a verifier for tokens from issuer, signed with
// keys from jwksURL (fetched with client on first use and when an unknown
// key id appears).
func newIDTokenVerifier(issuer, jwksURL, clientID string, client *http.Client, now func() time.Time) *idTokenVerifier {
	// go-oidc takes its HTTP client from a context value and keeps that
	// context for later key fetches; it is used for configuration only.
	keyCtx := oidc.ClientContext(context.Background(), keySetClient(client))
	keys := oidc.NewRemoteKeySet(keyCtx, jwksURL)
	return &idTokenVerifier{v: oidc.NewVerifier(issuer, keys, &oidc.Config{
		ClientID:             clientID,
		Now:                  now,
		SupportedSigningAlgs: []string{oidc.RS256, oidc.PS256, oidc.ES256, oidc.EdDSA},
	})}
}

// keySetClient returns a copy of c for the key-set fetch: it follows no
// redirect (one could move the fetch to plain http or another host), reads
// at most 1 MiB of a key set, and hands go-oidc no error body (which it
// would quote raw in its error).
func keySetClient(c *http.Client) *http.Client {
	if c == nil {
		c = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	cp := *c
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cp.Transport = keySetTransport{next: c.Transport}
	return &cp
}

// keySetTransport caps and sanitises key-set answers; see keySetClient.
type keySetTransport struct{ next http.RoundTripper }

func (t keySetTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		resp.Body, resp.ContentLength = http.NoBody, 0
		return resp, nil
	}
	resp.Body = &cappedBody{rc: resp.Body, left: tokenwire.MaxBodySize}
	return resp, nil
}

// cappedBody fails a read past its limit instead of reading on.
type cappedBody struct {
	rc   io.ReadCloser
	left int64
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if int64(len(p)) > b.left+1 { // one byte past the cap tells "at" from "over"
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, errors.New("oauth2auth: the key set is larger than 1 MiB")
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// verify checks raw, and its nonce when nonce is not empty.
func (v *idTokenVerifier) verify(ctx context.Context, raw, nonce string) error {
	tok, err := v.v.Verify(ctx, raw)
	if err != nil {
		return idTokenError("is not valid", err)
	}
	if nonce != "" && !equalSecret(tok.Nonce, nonce) {
		return idTokenError("does not carry the nonce of this sign-in", nil)
	}
	return nil
}

// checkIDToken verifies tok's ID token when openid was requested, and its
// nonce when nonce is set. A sign-in must return an ID token (required); a
// refresh may omit it (OIDC Core §12.2).
func (s *userSession) checkIDToken(ctx context.Context, env *Environment, tok *oauth2.Token, nonce string, required bool) error {
	if !s.openid {
		return nil
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		if !required {
			return nil
		}
		return idTokenError("is missing from the token response", nil)
	}
	v := s.idv.Load()
	if v == nil {
		v = newIDTokenVerifier(env.Issuer, env.JWKSURL, s.info.ClientID, s.o.httpClient, s.o.now)
		if !s.idv.CompareAndSwap(nil, v) {
			v = s.idv.Load()
		}
	}
	return v.verify(ctx, raw, nonce)
}

func idTokenError(problem string, cause error) error {
	return &authorizer.AuthorizationError{Message: "oauth2auth: the ID token " + problem, Err: cause}
}
