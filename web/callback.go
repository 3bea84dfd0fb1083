package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
	"golang.org/x/oauth2"
)

// startLogin saves a new flow and redirects the browser to the provider.
func (l *Login) startLogin(w http.ResponseWriter, r *http.Request, returnTo string) {
	md, err := l.prov.metadata(r.Context())
	if err != nil {
		l.fail(w, r, http.StatusBadGateway, "The sign-in service cannot be reached.", err)
		return
	}
	f := newFlow(returnTo, false, l.cfg.Now())
	l.saveFlow(w, r, f)
	q := url.Values{
		"response_type":         {"code"},
		"client_id":             {l.cfg.Client.ClientID},
		"redirect_uri":          {l.callbackURL},
		"scope":                 {strings.Join(l.cfg.Scopes, " ")},
		"state":                 {f.State},
		"nonce":                 {f.Nonce},
		"code_challenge":        {f.challenge()},
		"code_challenge_method": {"S256"},
	}
	if contains(l.cfg.Scopes, "offline_access") {
		q.Set("prompt", "consent") // OpenID Connect Core §11: offline_access needs it
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, withQuery(md.AuthorizationEndpoint, q), http.StatusFound)
}

func withQuery(u string, q url.Values) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + q.Encode()
}

// callback finishes a login: the state first, then the provider's error or
// iss, then the code, then the ID token.
func (l *Login) callback(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		l.fail(w, r, http.StatusMethodNotAllowed, "This address only takes the provider's redirect.", errors.New("callback: method "+r.Method))
		return
	}
	q := r.URL.Query()
	f, ok := l.takeFlow(w, r, q.Get("state"), false)
	if !ok {
		l.fail(w, r, http.StatusBadRequest, "This sign-in link is not valid any more. Please try again.", errors.New("callback: unknown, expired or forged state"))
		return
	}
	if e := q.Get("error"); e != "" {
		l.fail(w, r, http.StatusForbidden, "Sign-in was not completed.", errors.New("callback: provider answered error="+tokenwire.Clean(e)+" "+tokenwire.Clean(q.Get("error_description"))))
		return
	}
	md, err := l.prov.metadata(r.Context())
	if err != nil {
		l.fail(w, r, http.StatusBadGateway, "The sign-in service cannot be reached.", err)
		return
	}
	iss, hasIss := q["iss"]
	if (hasIss && (len(iss) != 1 || iss[0] != l.cfg.Issuer)) || (!hasIss && md.IssParameterSupported) {
		l.fail(w, r, http.StatusBadRequest, "Sign-in failed.", errors.New("callback: iss parameter missing or not the issuer (RFC 9207)"))
		return
	}
	s, err := l.redeem(r.Context(), md, q.Get("code"), f)
	if err != nil {
		l.fail(w, r, http.StatusBadGateway, "Sign-in failed.", err)
		return
	}
	if !l.saveSession(w, r, s) {
		return
	}
	l.cfg.Logger.Info("web: signed in", "sub", s.claims.Subject)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, f.ReturnTo, http.StatusFound)
}

// redeem exchanges the code (with the PKCE verifier) and verifies the ID
// token it brings.
func (l *Login) redeem(ctx context.Context, md *metadata, code string, f *flow) (*session, error) {
	if code == "" {
		return nil, errors.New("web: callback without code")
	}
	now := l.cfg.Now()
	tok, err := tokenwire.Do(ctx, tokenwire.Request{
		HTTPClient: l.cfg.HTTPClient, URL: md.TokenEndpoint, Client: l.cfg.Client,
		Auth: clientAuth(l.cfg.Client.ClientSecret, md), Now: l.cfg.Now,
		Form: url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"redirect_uri": {l.callbackURL}, "code_verifier": {f.Verifier}},
	})
	if err != nil {
		return nil, err
	}
	raw, _ := tok.Extra("id_token").(string)
	if err := l.checkIDToken(ctx, raw, f.Nonce); err != nil {
		return nil, err
	}
	s := &session{id: randomString(16), created: now, issued: now, idToken: raw}
	s.setTokens(tok)
	return s, s.readClaims()
}

// checkIDToken verifies raw (signature, iss, aud, exp with package verify)
// and checks azp and the nonce (OpenID Connect Core §3.1.3.7).
func (l *Login) checkIDToken(ctx context.Context, raw, nonce string) error {
	if raw == "" {
		return errors.New("web: the token response has no id_token")
	}
	c, err := l.idTokens.Verify(ctx, raw)
	if err != nil {
		return err
	}
	if c.Subject == "" {
		return errors.New("web: ID token without sub")
	}
	if (c.ClientID != "" && c.ClientID != l.cfg.Client.ClientID) || (len(c.Audience) > 1 && c.ClientID == "") {
		return errors.New("web: ID token azp is not this client")
	}
	var n struct {
		Nonce string `json:"nonce"`
	}
	if err := c.Decode(&n); err != nil {
		return err
	}
	if nonce == "" || n.Nonce != nonce {
		return errors.New("web: ID token nonce does not match the login's")
	}
	return nil
}

// setTokens takes the access and refresh tokens from a token answer; a
// refresh answer without a refresh token keeps the old one.
func (s *session) setTokens(tok *oauth2.Token) {
	s.access, s.expiry = tok.AccessToken, tok.Expiry
	if tok.RefreshToken != "" {
		s.refresh = tok.RefreshToken
	}
}
