package oauth2auth

import (
	"errors"
	"testing"

	"github.com/seed-d44eba79/authorizer"
)

// FuzzParseEnvironments: an environments file never panics the loader,
// and every loaded environment has a name and an endpoint.
func FuzzParseEnvironments(f *testing.F) {
	f.Add([]byte(`{"dev": {"issuer": "https://idp", "scopes": ["a"], "params": {"k": ["v"]}}}`))
	f.Add([]byte(`{"prod": {"token_url": "https://idp/token", "resources": ["urn:x"], "audience": "aud"}}`))
	f.Add([]byte(`{"x": {"isuer": 1}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		envs, err := parseEnvironments("envs.json", b)
		if err != nil {
			var ce *authorizer.InvalidConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		for name, e := range envs {
			if e.Name == "" || (e.Issuer == "" && e.TokenURL == "") {
				t.Fatalf("environment %q loaded without a name or an endpoint: %+v", name, e)
			}
		}
	})
}
