package oauth2auth

import (
	"context"
	"slices"
)

// sessionDepsFrom takes the settings shared with the other authorizers from
// the applied options.
func sessionDepsFrom(o *options, clientAuth ClientAuth) sessionDeps {
	return sessionDeps{httpClient: o.httpClient, auth: clientAuth, logger: o.logger, now: o.now,
		defaultLifetime: o.defaultLifetime, assertion: o.assertion}
}

// userScopes are the Environment's scopes followed by WithExtraScopes',
// without duplicates.
func userScopes(env *Environment, o *options) []string {
	var out []string
	for _, s := range slices.Concat(env.Scopes, o.user.extraScopes) {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// discover fills in the endpoints env lacks from the provider's metadata
// and checks the result.
func (s *userSession) discover(ctx context.Context, env Environment) (Environment, error) {
	d, err := env.Discover(ctx, s.deps.httpClient)
	if err != nil {
		return env, err
	}
	if err := d.Validate(s.insecureHTTP); err != nil {
		return env, err
	}
	return d, nil
}
