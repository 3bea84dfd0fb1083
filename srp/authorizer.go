package srp

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"sync"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"golang.org/x/oauth2"
)

// Authorizer signs a user in to a Cognito user pool with SRP
// (USER_SRP_AUTH) and renews the session with the refresh token
// (REFRESH_TOKEN_AUTH). Use it with [base.NewTransport] or [base.NewClient].
//
// Concurrency: safe for concurrent use. Authorize and Refresh make their
// calls on the ctx they are given and keep nothing of it.
//
// Fallback: Refresh never signs in with the password. A refused refresh
// token is reported as an [*authorizer.InvalidCredentialsError], on which
// [base.Transport] calls Authorize once: exactly one full sign-in, never two.
// Callers that use the Authorizer without a Transport do the same.
type Authorizer struct {
	info     data.ClientInfo
	userName string // as configured: a user name or an alias
	env      Environment
	poolName string
	cognito  CognitoClient
	opts     options

	mu        sync.Mutex // guards password, canonical, deviceKey
	password  string     // "" once dropped (WithoutStoredPassword)
	canonical string     // USERNAME Cognito returned at the last sign-in
	deviceKey string     // DEVICE_KEY for refresh, when known
}

var (
	_ base.Authorizer   = (*Authorizer)(nil)
	_ base.ClientInfoer = (*Authorizer)(nil)
)

// NewAuthorizer returns an Authorizer for the app client info (a secret,
// when the client has one, is used for SECRET_HASH), the user creds, and the
// pool of env. It makes no network call. Invalid settings give an
// [*authorizer.InvalidConfigError] naming the setting (or the [Option]); a
// nil Option is skipped.
func NewAuthorizer(info data.ClientInfo, creds data.UserCredentials, env Environment, opts ...Option) (*Authorizer, error) {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.now == nil {
		o.now = time.Now
	}
	if o.random == nil {
		o.random = rand.Reader
	}
	if err := validate(info, creds, env, o); err != nil {
		return nil, err
	}
	a := &Authorizer{
		info: info, userName: creds.UserName, env: env, poolName: env.poolName(),
		cognito: o.cognito, opts: o, password: creds.Password, deviceKey: o.deviceKey,
	}
	if a.cognito == nil {
		hc := o.httpClient
		if hc == nil {
			hc = &http.Client{Timeout: DefaultHTTPTimeout}
		}
		a.cognito = newSDKClient(env, hc)
	}
	return a, nil
}

func validate(info data.ClientInfo, creds data.UserCredentials, env Environment, o options) error {
	switch {
	case info.ClientID == "":
		return configError("ClientInfo.ClientID", "is empty")
	case creds.UserName == "":
		return configError("UserCredentials.UserName", "is empty")
	case creds.Password == "":
		return configError("UserCredentials.Password", "is empty")
	case o.cognito != nil && o.httpClient != nil:
		return configError("WithHTTPClient", "cannot be combined with WithCognitoClient (the HTTP client is the default Cognito client's)")
	}
	return env.validate(o.insecureHTTP)
}

// ClientInfo returns the app client the Authorizer signs in with.
func (a *Authorizer) ClientInfo() data.ClientInfo { return a.info }

// Environment returns the pool the Authorizer signs in to.
func (a *Authorizer) Environment() Environment { return a.env }

// Expired reports whether tok should be renewed ([base.TokenExpired] at the
// Authorizer's clock).
func (a *Authorizer) Expired(tok *oauth2.Token) bool {
	return base.TokenExpired(tok, a.opts.now())
}

// Authorize signs the user in with SRP, answering challenges with the
// handlers given as options. A refused password is never retried: Cognito
// locks accounts after repeated failures.
func (a *Authorizer) Authorize(ctx context.Context) (*oauth2.Token, error) {
	password := a.heldPassword()
	if password == "" {
		return nil, &authorizer.InvalidCredentialsError{
			UserName:    a.userName,
			Description: "srp: the password was dropped after sign-in (WithoutStoredPassword); create a new Authorizer",
		}
	}
	res, state, err := a.signIn(ctx, password)
	if err != nil {
		return nil, err
	}
	a.remember(state, res)
	return a.newToken(res, "", state.canonical, a.refreshDeviceKey(&oauth2.Token{}))
}

// Refresh renews tok with its refresh token (REFRESH_TOKEN_AUTH): one call,
// no SRP. Cognito returns no new refresh token, so tok's is kept. A refused
// or missing refresh token is an [*authorizer.InvalidCredentialsError]; see
// the Authorizer's doc for the fallback.
func (a *Authorizer) Refresh(ctx context.Context, tok *oauth2.Token) (*oauth2.Token, error) {
	if tok == nil || tok.RefreshToken == "" {
		return nil, &authorizer.InvalidCredentialsError{UserName: a.userName, Description: "srp: no refresh token"}
	}
	user := a.refreshUser(tok)
	params := map[string]string{"REFRESH_TOKEN": tok.RefreshToken}
	if a.info.ClientSecret != "" {
		params["SECRET_HASH"] = secretHash(a.info.ClientSecret, user, a.info.ClientID)
	}
	dk := a.refreshDeviceKey(tok)
	if dk != "" {
		params["DEVICE_KEY"] = dk
	}
	out, err := a.cognito.InitiateAuth(ctx, a.initiateInput(refreshTokenAuth, params))
	if err != nil {
		return nil, mapError(err, phaseRefresh, a.info.ClientID, user, a.sentSecrets(params, a.heldPassword()))
	}
	if out.AuthenticationResult == nil {
		return nil, unexpected("REFRESH_TOKEN_AUTH answered without tokens", string(out.ChallengeName))
	}
	return a.newToken(out.AuthenticationResult, tok.RefreshToken, user, dk)
}

func (a *Authorizer) heldPassword() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.password
}

// String describes the Authorizer without its secrets: the pool, the client
// id and the user name.
func (a *Authorizer) String() string {
	return fmt.Sprintf("srp.Authorizer{pool: %s, client: %s, user: %s}", a.env.UserPoolID, a.info.ClientID, a.userName)
}

// GoString implements fmt.GoStringer (%#v) without secrets.
func (a *Authorizer) GoString() string { return a.String() }

// Format implements fmt.Formatter so that every verb prints String.
func (a *Authorizer) Format(f fmt.State, _ rune) { fmt.Fprint(f, a.String()) }
