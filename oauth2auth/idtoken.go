package oauth2auth

import (
	"context"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/seed-d44eba79/authorizer"
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
	keyCtx := oidc.ClientContext(context.Background(), client)
	keys := oidc.NewRemoteKeySet(keyCtx, jwksURL)
	return &idTokenVerifier{v: oidc.NewVerifier(issuer, keys, &oidc.Config{
		ClientID:             clientID,
		Now:                  now,
		SupportedSigningAlgs: []string{oidc.RS256, oidc.PS256, oidc.ES256, oidc.EdDSA},
	})}
}

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
		v = newIDTokenVerifier(env.Issuer, env.JWKSURL, s.info.ClientID, s.deps.httpClient, s.deps.now)
		if !s.idv.CompareAndSwap(nil, v) {
			v = s.idv.Load()
		}
	}
	return v.verify(ctx, raw, nonce)
}

func idTokenError(problem string, cause error) error {
	return &authorizer.AuthorizationError{Message: "oauth2auth: the ID token " + problem, Err: cause}
}
