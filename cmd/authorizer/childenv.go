package main

import (
	"os"
	"strings"
)

// childEnv is this process's environment without the variables that hold
// secrets: the AUTHORIZER_* secrets, the cache key and the variables the
// environment's configuration names (client_secret_env, api_key_env,
// password_env). curl and $BROWSER run with it, so that a child (or its
// /proc/<pid>/environ) never sees a secret it does not need.
func childEnv(c *envConfig) []string {
	drop := map[string]bool{"AUTHORIZER_CLIENT_SECRET": true, "AUTHORIZER_API_KEY": true,
		"AUTHORIZER_PASSWORD": true, "AUTHORIZER_CACHE_KEY": true}
	if c != nil {
		for _, n := range []string{c.ClientSecretEnv, c.APIKeyEnv, c.PasswordEnv} {
			if n != "" {
				drop[n] = true
			}
		}
	}
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !drop[name] {
			out = append(out, kv)
		}
	}
	return out
}
