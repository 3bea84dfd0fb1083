package main

import (
	"testing"

	"github.com/seed-d44eba79/authorizer/oauth2auth"
	"github.com/seed-d44eba79/authorizer/srp"
)

// Environments that differ in anything a token depends on never share a
// cache key.
func TestBreakCacheKeyIsolation(t *testing.T) {
	base := func() *envConfig {
		return &envConfig{Flow: flowClientCredentials, ClientID: "c",
			OAuth: oauth2auth.Environment{Issuer: "https://idp.example"}}
	}
	variants := map[string]func(c *envConfig){
		"base":         func(*envConfig) {},
		"aud smuggles": func(c *envConfig) { c.OAuth.Audience = "a\nres=b" },
		"res":          func(c *envConfig) { c.OAuth.Audience = "a"; c.OAuth.Resources = []string{"b\nres="} },
		"res space":    func(c *envConfig) { c.OAuth.Resources = []string{"a b"} },
		"res two":      func(c *envConfig) { c.OAuth.Resources = []string{"a", "b"} },
		"scope":        func(c *envConfig) { c.OAuth.Scopes = []string{"read"} },
		"user":         func(c *envConfig) { c.UserName = "bob" },
		"flow":         func(c *envConfig) { c.Flow = flowDevice },
		"token url":    func(c *envConfig) { c.OAuth.TokenURL = "https://other.example/token" },
		"srp moto": func(c *envConfig) {
			c.Flow = flowSRP
			c.SRP = srp.Environment{Region: "r", UserPoolID: "p", Endpoint: "http://127.0.0.1:5000"}
		},
		"srp real": func(c *envConfig) { c.Flow = flowSRP; c.SRP = srp.Environment{Region: "r", UserPoolID: "p"} },
	}
	seen := map[string]string{}
	for name, f := range variants {
		c := base()
		f(c)
		k := cacheKey(c)
		if other, ok := seen[k]; ok {
			t.Errorf("%s and %s share the cache key %q", name, other, k)
		}
		seen[k] = name
	}
}
