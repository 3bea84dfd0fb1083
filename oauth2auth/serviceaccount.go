package oauth2auth

import (
	"context"
	"log/slog"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
	"golang.org/x/oauth2"
)

// Compile-time checks.
var (
	_ base.Authorizer   = (*ServiceAccountAuthorizer)(nil)
	_ base.ClientInfoer = (*ServiceAccountAuthorizer)(nil)
)

// ServiceAccountAuthorizer obtains tokens for a machine client with the
// OAuth 2.0 client-credentials grant (RFC 6749 §4.4). Give it to
// [base.NewTransport] or [base.NewClient], which keep its token fresh.
//
// Each token request sends grant_type=client_credentials with the
// [Environment]'s scopes, audience, resource indicators (RFC 8707) and
// Params, and authenticates the client one way only (client_secret_basic by
// default; see [WithClientAuth] and [WithPrivateKeyJWT]).
//
// Concurrency: a ServiceAccountAuthorizer is safe for concurrent use; it
// holds no token itself (the Transport does) and each Authorize is one
// independent token request. Discovery, when the Environment has only an
// Issuer, runs once for the authorizer (concurrent callers wait for it, or
// leave when their ctx ends) and is done again after [DiscoveryTTL]; a
// failed discovery is tried again by the next call.
//
// Context: Authorize and Refresh send every request with ctx and return an
// error wrapping ctx.Err() once it is done; the HTTP client's timeout
// ([DefaultHTTPTimeout] by default) bounds each request as well.
//
// Printing: fmt, slog and encoding/json show the client id and the
// environment, never the secret or API key.
type ServiceAccountAuthorizer struct {
	info *data.ClientInfo // behind a pointer, so that printing a copy shows no secret
	opts *options
	// config is the environment as given (deep copy): the endpoints when it
	// has a TokenURL, else the discovery source.
	config Environment
	disc   *discoverer // nil when config has a TokenURL
}

// NewServiceAccountAuthorizer returns an authorizer for the client info in
// the environment env. info.ClientID is required, and info.ClientSecret
// unless the client authenticates with a key ([WithPrivateKeyJWT], or
// Environment.ClientAuth "private_key_jwt"). env needs a TokenURL or an
// Issuer to discover it from; its URLs must be https, or http to a loopback
// host ([InsecureAllowHTTP] lifts that).
//
// Errors are *[authorizer.InvalidConfigError], also for an option of the
// user flows (e.g. [WithTokenCache]); the constructor makes no request.
func NewServiceAccountAuthorizer(info data.ClientInfo, env Environment, opts ...Option) (*ServiceAccountAuthorizer, error) {
	o, err := newOptions(flowServiceAccount, opts)
	if err != nil {
		return nil, err
	}
	a := &ServiceAccountAuthorizer{info: &info, opts: &o, config: env.Clone()}
	if err := o.applyEnvironment(&a.config); err != nil {
		return nil, err
	}
	if err := a.validate(); err != nil {
		return nil, err
	}
	if a.config.TokenURL == "" {
		a.disc = newDiscoverer(o.now, a.discover)
	}
	return a, nil
}

// validate checks what can be checked before any request.
func (a *ServiceAccountAuthorizer) validate() error {
	if a.info.ClientID == "" {
		return &authorizer.InvalidConfigError{Setting: "oauth2auth: ClientInfo.ClientID", Problem: "is empty"}
	}
	switch a.opts.clientAuth(*a.info) {
	case ClientAuthNone:
		return &authorizer.InvalidConfigError{Setting: "oauth2auth: ClientInfo.ClientSecret",
			Problem: "is empty: the client-credentials grant needs client authentication (a secret or WithPrivateKeyJWT)"}
	case ClientSecretBasic, ClientSecretPost:
		if a.info.ClientSecret == "" {
			return &authorizer.InvalidConfigError{Setting: "oauth2auth: ClientInfo.ClientSecret", Problem: "is empty"}
		}
	}
	return a.config.Validate(a.opts.insecureHTTP)
}

// ClientInfo returns the client, so that the Transport sends its APIKey.
func (a *ServiceAccountAuthorizer) ClientInfo() data.ClientInfo { return *a.info }

// Environment returns the environment in use: as configured, or with the
// discovered endpoints once discovery has run.
func (a *ServiceAccountAuthorizer) Environment() Environment {
	if a.disc != nil {
		if c := a.disc.cur.Load(); c != nil {
			return c.env.Clone()
		}
	}
	return a.config.Clone()
}

// Authorize obtains a new token with the client-credentials grant.
func (a *ServiceAccountAuthorizer) Authorize(ctx context.Context) (*oauth2.Token, error) {
	env, err := a.endpoints(ctx)
	if err != nil {
		return nil, err
	}
	req := a.opts.request(*a.info, "token", env.TokenURL)
	req.Form = env.TokenParams()
	req.Form.Set("grant_type", "client_credentials")
	start := time.Now()
	tok, err := tokenwire.Do(ctx, req)
	a.log(env, tok, time.Since(start), err)
	return tok, err
}

// Expired reports whether tok should no longer be sent: [base.TokenExpired]
// with the authorizer's clock, which honours [data.ExpirationGap].
func (a *ServiceAccountAuthorizer) Expired(tok *oauth2.Token) bool {
	return base.TokenExpired(tok, a.opts.now())
}

// Refresh obtains a replacement for tok with a new client-credentials grant
// (RFC 6749 §4.4.3: no refresh token is issued for this grant).
func (a *ServiceAccountAuthorizer) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return a.Authorize(ctx)
}

// endpoints returns the environment with a token URL: as configured, or
// discovered from the issuer (again after DiscoveryTTL).
func (a *ServiceAccountAuthorizer) endpoints(ctx context.Context) (*Environment, error) {
	if a.disc == nil {
		return &a.config, nil
	}
	return a.disc.get(ctx)
}

// discover fetches the issuer's metadata and checks the result.
func (a *ServiceAccountAuthorizer) discover(ctx context.Context) (Environment, error) {
	e, err := a.config.Discover(ctx, a.opts.httpClient)
	if err != nil {
		return e, err
	}
	if e.TokenURL == "" {
		return e, &authorizer.InvalidConfigError{Setting: a.config.label() + ".TokenURL", Problem: "is empty and was not discovered"}
	}
	if err := e.Validate(a.opts.insecureHTTP); err != nil {
		return e, err
	}
	a.opts.logger.Debug("oauth2auth: discovered token endpoint", slog.String("environment", e.Name),
		slog.String("issuer", e.Issuer), slog.String("token_url", e.TokenURL))
	return e, nil
}

// log records one token request: client, environment, duration, and the
// token's fingerprint and expiry or the error; a warning when fewer scopes
// were granted than asked for. Never a token or a secret.
func (a *ServiceAccountAuthorizer) log(env *Environment, tok *oauth2.Token, d time.Duration, err error) {
	attrs := []any{slog.String("client_id", a.info.ClientID), slog.String("environment", env.Name),
		slog.Duration("duration", d)}
	if err != nil {
		a.opts.logger.Warn("oauth2auth: client-credentials token request failed", append(attrs, slog.Any("error", err))...)
		return
	}
	warnMissingScopes(a.opts.logger, string(flowServiceAccount), env.Scopes, tok)
	a.opts.logger.Debug("oauth2auth: client-credentials token obtained", append(attrs,
		slog.String("token", data.Fingerprint(tok.AccessToken)), slog.Time("expiry", tok.Expiry))...)
}
