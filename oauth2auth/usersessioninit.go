package oauth2auth

import (
	"context"
	"net/url"
	"slices"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
)

// init applies opts and checks what can be checked before any request.
func (s *userSession) init(info data.ClientInfo, env Environment, flow string, opts []Option) error {
	o := newOptions(opts)
	if info.ClientID == "" {
		return &authorizer.InvalidConfigError{Setting: "oauth2auth: ClientInfo.ClientID", Problem: "is empty"}
	}
	env = env.Clone()
	env.Resources = slices.Concat(env.Resources, o.user.extraResources)
	if err := env.Validate(o.insecureHTTP); err != nil {
		return err
	}
	s.info, s.u, s.flow, s.env, s.insecureHTTP = info, o.user, flow, env, o.insecureHTTP
	s.deps = sessionDepsFrom(&o, o.clientAuth(info))
	s.scopes = userScopes(&env, &o)
	s.openid = slices.Contains(s.scopes, "openid")
	if s.openid && env.Issuer == "" {
		return &authorizer.InvalidConfigError{Setting: "oauth2auth: Environment.Issuer",
			Problem: "is needed to verify ID tokens when the openid scope is requested"}
	}
	s.turn = make(chan struct{}, 1)
	s.cache = s.u.cache
	if s.cache == nil {
		s.cache = base.NewMemoryCache()
	}
	s.key = s.u.cacheKey
	if s.key == "" {
		s.key = cacheKey(&env, info.ClientID, s.scopes)
	}
	return nil
}

// hasScope reports whether scope is requested.
func (s *userSession) hasScope(scope string) bool { return slices.Contains(s.scopes, scope) }

// grantParams are the parameters every sign-in request carries: scope,
// audience, resource indicators (RFC 8707) and the Environment's Params.
func (s *userSession) grantParams(env *Environment) url.Values {
	e := *env
	e.Scopes = s.scopes
	return e.TokenParams()
}

// endpoints returns the environment with the endpoints this flow needs,
// discovering them from the Issuer on first use. A failed discovery is
// tried again on the next call.
func (s *userSession) endpoints(ctx context.Context) (*Environment, error) {
	s.envMu.Lock()
	defer s.envMu.Unlock()
	if s.envOK {
		env := s.env
		return &env, nil
	}
	env := s.env
	if env.Issuer != "" && s.missingEndpoint(&env) != "" {
		d, err := s.discover(ctx, env)
		if err != nil {
			return nil, err
		}
		env = d
	}
	if missing := s.missingEndpoint(&env); missing != "" {
		return nil, &authorizer.InvalidConfigError{Setting: "oauth2auth: Environment." + missing,
			Problem: "is empty and was not discovered"}
	}
	s.env, s.envOK = env, true
	return &env, nil
}

// missingEndpoint names the first endpoint the flow needs that env lacks.
func (s *userSession) missingEndpoint(env *Environment) string {
	switch {
	case env.TokenURL == "":
		return "TokenURL"
	case s.flow == "device" && env.DeviceAuthURL == "":
		return "DeviceAuthURL"
	case s.flow == "browser" && env.AuthURL == "":
		return "AuthURL"
	case s.openid && env.JWKSURL == "":
		return "JWKSURL"
	}
	return ""
}
