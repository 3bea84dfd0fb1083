package oauth2auth

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/internal/servertext"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
	"golang.org/x/oauth2"
)

// grantTokenExchange is RFC 8693 §2.1's grant_type.
const grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"

// Compile-time checks.
var (
	_ base.Authorizer   = (*TokenExchangeAuthorizer)(nil)
	_ base.ClientInfoer = (*TokenExchangeAuthorizer)(nil)
)

// TokenExchangeAuthorizer obtains tokens with OAuth 2.0 Token Exchange
// (RFC 8693): it trades the token of a subject (a service account, a
// signed-in user, any [base.Authorizer], or a [TokenFile]) for a token
// scoped to one target service. Give it to [base.NewTransport] or
// [base.NewClient] like the other authorizers: the Transport caches the
// exchanged token, refreshes it ahead of expiry and shares it. One per
// target service is cheap: they can share one subject.
//
// Each exchange sends grant_type
// urn:ietf:params:oauth:grant-type:token-exchange with subject_token and
// subject_token_type, actor_token and actor_token_type ([WithActorToken]),
// requested_token_type ([WithRequestedTokenType]), the audience parameters
// (Environment.Audience, [WithAudiences]), resource (Environment.Resources,
// [WithExtraResources]), scope (Environment.Scopes, [WithExtraScopes]) and
// Environment.Params, and authenticates the exchanging client
// ([WithExchangeClient]) one way only, as the other authorizers do.
//
// The answer is checked: token_type must be Bearer (else an
// *[UnsupportedTokenTypeError]) and issued_token_type present and as
// requested (else an *[IssuedTokenTypeError]). Refusals are the typed
// errors of package authorizer.
//
// Subject renewal: the subject's token is kept between exchanges until the
// subject's Expired says it is stale; then the subject's Refresh gives a
// new one. When the server refuses the exchange in a way that can mean the
// subject token is expired or revoked (invalid_request, which RFC 8693
// §2.2.2 prescribes, invalid_grant or invalid_token), the subject is
// renewed once and the exchange sent once more (unless the renewal gave
// the same token again, e.g. a [TokenFile] not yet rewritten); a second
// refusal is returned. A failure to get the subject's (or actor's) token is a
// *[SubjectTokenError] wrapping the subject's error.
//
// Concurrency: safe for concurrent use; each call is one exchange (the
// Transport makes one at a time). Exchanges that find the subject's token
// stale at the same moment may each renew it. Context: Authorize and Refresh pass
// ctx to the subject, the actor and every request, and return an error
// wrapping ctx.Err() once it is done, provided the subject and the actor
// honour ctx as [base.Authorizer] requires: a subject that ignores ctx
// holds the exchange until it returns.
type TokenExchangeAuthorizer struct {
	client  *ServiceAccountAuthorizer // the exchanging client: endpoints, discovery, options
	subject *heldToken                // behind a pointer, so that printing shows no token
	actor   *heldToken                // nil without WithActorToken
}

// NewTokenExchangeAuthorizer returns an authorizer exchanging subject's
// tokens at env's token endpoint (env needs a TokenURL or an Issuer to
// discover it from; https, or http to a loopback host). subject is
// required. The exchanging client is [WithExchangeClient]'s, or the
// subject's own when it is a [base.ClientInfoer]; it must authenticate (a
// secret, [WithPrivateKeyJWT], [WithClientAssertionFile] or
// Environment.ClientAuth).
//
// Errors are *[authorizer.InvalidConfigError], also for an option of
// another flow (e.g. [WithTokenCache]); the constructor makes no request.
func NewTokenExchangeAuthorizer(subject base.Authorizer, env Environment, opts ...Option) (*TokenExchangeAuthorizer, error) {
	o, err := newOptions(flowTokenExchange, opts)
	if err != nil {
		return nil, err
	}
	if subject == nil {
		return nil, &authorizer.InvalidConfigError{Setting: "oauth2auth: NewTokenExchangeAuthorizer subject", Problem: "is nil"}
	}
	info, err := exchangeClient(subject, &o)
	if err != nil {
		return nil, err
	}
	client, err := exchangingClient(info, env, &o)
	if err != nil {
		return nil, err
	}
	a := &TokenExchangeAuthorizer{client: client, subject: &heldToken{role: "subject", src: subject}}
	if o.exch.actor != nil {
		a.actor = &heldToken{role: "actor", src: o.exch.actor}
	}
	if o.exch.subjectType == "" {
		o.exch.subjectType = TokenTypeAccessToken
		if _, ok := subject.(*TokenFile); ok {
			o.exch.subjectType = TokenTypeJWT
		}
	}
	return a, nil
}

// exchangeClient is WithExchangeClient's client, or the subject's.
func exchangeClient(subject base.Authorizer, o *options) (data.ClientInfo, error) {
	if o.exch.client != nil {
		return *o.exch.client, nil
	}
	if ci, ok := subject.(base.ClientInfoer); ok {
		return ci.ClientInfo(), nil
	}
	return data.ClientInfo{}, &authorizer.InvalidConfigError{Setting: "oauth2auth: WithExchangeClient",
		Problem: "is needed: the subject does not say which client it is"}
}

// exchangingClient checks the exchanging client and env as the
// client-credentials flow does, with the exchange's scopes and resources.
func exchangingClient(info data.ClientInfo, env Environment, o *options) (*ServiceAccountAuthorizer, error) {
	c := &ServiceAccountAuthorizer{info: &info, opts: o, config: env.Clone()}
	c.config.Scopes = slices.Concat(c.config.Scopes, o.user.extraScopes)
	c.config.Resources = slices.Concat(c.config.Resources, o.user.extraResources)
	if err := o.applyEnvironment(&c.config); err != nil {
		return nil, err
	}
	if o.clientAuth(info) == ClientAuthNone {
		return nil, &authorizer.InvalidConfigError{Setting: "oauth2auth: exchanging client " + info.ClientID,
			Problem: "does not authenticate: the token exchange needs a secret, WithPrivateKeyJWT or WithClientAssertionFile"}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.config.TokenURL == "" {
		c.disc = newDiscoverer(o.now, c.discover)
	}
	return c, nil
}

// ClientInfo returns the exchanging client.
func (a *TokenExchangeAuthorizer) ClientInfo() data.ClientInfo { return a.client.ClientInfo() }

// Environment returns the environment in use, as
// [ServiceAccountAuthorizer.Environment] does.
func (a *TokenExchangeAuthorizer) Environment() Environment { return a.client.Environment() }

// Authorize exchanges the subject's token (renewing it once if the
// exchange is refused for it; see [TokenExchangeAuthorizer]).
func (a *TokenExchangeAuthorizer) Authorize(ctx context.Context) (*oauth2.Token, error) {
	env, err := a.client.endpoints(ctx)
	if err != nil {
		return nil, err
	}
	subj, err := a.subject.get(ctx)
	if err != nil {
		return nil, err
	}
	tok, err := a.exchange(ctx, env, subj)
	if err == nil || !subjectRefused(err) {
		return tok, err
	}
	renewed, rerr := a.subject.renew(ctx, subj)
	if rerr != nil {
		return nil, errors.Join(err, rerr)
	}
	if renewed.AccessToken == subj.AccessToken {
		return nil, err // nothing new to offer
	}
	return a.exchange(ctx, env, renewed)
}

// Expired reports whether tok should no longer be sent: [base.TokenExpired]
// with the authorizer's clock.
func (a *TokenExchangeAuthorizer) Expired(tok *oauth2.Token) bool {
	return base.TokenExpired(tok, a.client.opts.now())
}

// Refresh exchanges the subject's token again; a refresh token the server
// may have issued with the exchanged token is not used.
func (a *TokenExchangeAuthorizer) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return a.Authorize(ctx)
}

// exchange sends one token-exchange request for subj and checks the answer.
func (a *TokenExchangeAuthorizer) exchange(ctx context.Context, env *Environment, subj *oauth2.Token) (*oauth2.Token, error) {
	o := a.client.opts
	req := o.request(*a.client.info, "token", env.TokenURL)
	req.Form = env.TokenParams()
	for _, aud := range o.exch.audiences {
		req.Form.Add("audience", aud)
	}
	req.Form.Set("grant_type", grantTokenExchange)
	req.Form.Set("subject_token", subj.AccessToken)
	req.Form.Set("subject_token_type", o.exch.subjectType)
	if o.exch.requested != "" {
		req.Form.Set("requested_token_type", o.exch.requested)
	}
	secrets := []string{subj.AccessToken}
	if a.actor != nil {
		act, err := a.actor.get(ctx)
		if err != nil {
			return nil, err
		}
		secrets = append(secrets, act.AccessToken)
		req.Form.Set("actor_token", act.AccessToken)
		req.Form.Set("actor_token_type", o.exch.actorType)
	}
	start := time.Now()
	tok, err := tokenwire.Do(ctx, req)
	if err == nil {
		err = checkIssuedType(o.exch.requested, tok, secrets)
	}
	a.log(env, tok, time.Since(start), err)
	if err != nil {
		return nil, err
	}
	return tok, nil
}

// checkIssuedType checks the answer's issued_token_type (RFC 8693 §2.2.1).
// The error quotes it cleaned, without secrets (the subject and actor
// tokens sent, and the token issued), which a hostile endpoint may echo
// there.
func checkIssuedType(requested string, tok *oauth2.Token, secrets []string) error {
	issued, _ := tok.Extra("issued_token_type").(string)
	ok := issued == requested || requested == "" && (issued == TokenTypeAccessToken || issued == TokenTypeJWT)
	if ok && issued != "" {
		return nil
	}
	return &IssuedTokenTypeError{Requested: requested, Issued: servertext.Clean(issued, 256, append(secrets, tok.AccessToken)...)}
}

// subjectRefused reports whether err is a refusal that can mean the
// subject token is expired or revoked.
func subjectRefused(err error) bool {
	var local *SubjectTokenError // the actor's failure, not the server's refusal
	if errors.As(err, &local) {
		return false
	}
	var cred *authorizer.InvalidCredentialsError
	if errors.As(err, &cred) {
		return true
	}
	var ae *authorizer.AuthorizationError
	return errors.As(err, &ae) && ae.StatusCode < 500 && (ae.Code == "invalid_request" || ae.Code == "invalid_token")
}

// log records one exchange: client, environment, duration, and the token's
// fingerprint and expiry or the error. Never a token or a secret.
func (a *TokenExchangeAuthorizer) log(env *Environment, tok *oauth2.Token, d time.Duration, err error) {
	l := a.client.opts.logger
	attrs := []any{slog.String("client_id", a.client.info.ClientID), slog.String("environment", env.Name),
		slog.Duration("duration", d)}
	if err != nil {
		l.Warn("oauth2auth: token exchange failed", append(attrs, slog.Any("error", err))...)
		return
	}
	l.Debug("oauth2auth: token exchanged", append(attrs,
		slog.String("token", data.Fingerprint(tok.AccessToken)), slog.Time("expiry", tok.Expiry))...)
}
