package oauth2auth

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
)

// TEMPORARY adapter until the shared options and discovery land.

func sessionDepsFrom(o *options) (sessionDeps, error) {
	return sessionDeps{httpClient: &http.Client{Timeout: 30 * time.Second}, auth: tokenwire.AuthNone,
		logger: slog.Default(), now: time.Now}, nil
}

func userScopes(env *Environment, o *options) []string {
	return append([]string(nil), env.Scopes...)
}

func (s *userSession) discover(ctx context.Context, env Environment) (Environment, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(env.Issuer, "/")+"/.well-known/openid-configuration", nil)
	resp, err := s.deps.httpClient.Do(req)
	if err != nil {
		return env, &authorizer.AuthorizationError{Message: "oauth2auth: discovery failed", Err: err}
	}
	defer resp.Body.Close()
	var m struct {
		Token  string `json:"token_endpoint"`
		Auth   string `json:"authorization_endpoint"`
		Device string `json:"device_authorization_endpoint"`
		Revoke string `json:"revocation_endpoint"`
		JWKS   string `json:"jwks_uri"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err := json.Unmarshal(b, &m); err != nil {
		return env, &authorizer.AuthorizationError{Message: "oauth2auth: discovery failed", Err: err}
	}
	env.TokenURL, env.AuthURL, env.DeviceAuthURL, env.RevocationURL, env.JWKSURL = m.Token, m.Auth, m.Device, m.Revoke, m.JWKS
	return env, nil
}
