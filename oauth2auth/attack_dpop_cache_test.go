package oauth2auth

import (
	"context"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/dpop"
	"golang.org/x/oauth2"
)

// Tampered cache entries against a user session with DPoP on.

func dpopDeviceAuthorizer(t *testing.T, opt Option) (*DeviceAuthorizer, *fakeIdP, base.TokenCache) {
	t.Helper()
	f := newFakeIdP(t)
	f.dpop.on = true
	cache := base.NewMemoryCache()
	a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: "native"}, f.env(), WithTokenCache(cache), opt,
		WithDevicePrompt(func(context.Context, DevicePrompt) error { return nil }), withPollInterval(time.Millisecond))
	must(t, err)
	return a, f, cache
}

// A cached entry of token_type Bearer that carries a key (a tampered or
// foreign file: tokenwire never yields one) is used with DPoP on, and its
// access token would go out as Bearer (base sends a key-carrying token as
// Bearer when its type is not DPoP).
func TestAttackDPoPCachedBearerWithKey(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  func(k *dpop.Key) Option
	}{
		{"explicit key", func(k *dpop.Key) Option { return WithDPoP(k) }},
		{"generated key", func(*dpop.Key) Option { return WithDPoP(nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := mustKey(t)
			a, _, cache := dpopDeviceAuthorizer(t, tc.opt(k))
			entry := dpop.Bind(&oauth2.Token{AccessToken: "CACHED", TokenType: "Bearer", RefreshToken: "r",
				Expiry: time.Now().Add(time.Hour)}, k)
			must(t, cache.Store(context.Background(), a.key, entry))
			tok, err := a.Authorize(context.Background())
			must(t, err)
			if tok.AccessToken == "CACHED" && !dpop.IsDPoP(tok) {
				t.Fatal("regression of a fixed finding (low): with WithDPoP on, a cached entry of token_type Bearer that carries a DPoP key is used as it is " +
					"(oauth2auth/sessioncache.go:30 usable checks only dpop.KeyOf, not dpop.IsDPoP), so its access token is sent as " +
					"Bearer by base.Transport (base/dpop.go:29 bindingOf needs type DPoP): the \"with DPoP on, never Bearer\" rule is " +
					"broken by a tampered plain cache file. Fix: in usable, with WithDPoP set require dpop.IsDPoP(tok) && k != nil.")
			}
		})
	}
}

// A cached DPoP entry whose type is spelt "dpop" and carries the session's
// key is used (the type is case-insensitive) and stays bound.
func TestAttackDPoPCachedLowerCaseType(t *testing.T) {
	k := mustKey(t)
	a, _, cache := dpopDeviceAuthorizer(t, WithDPoP(k))
	entry := dpop.Bind(&oauth2.Token{AccessToken: "CACHED", TokenType: "dpop", RefreshToken: "r",
		Expiry: time.Now().Add(time.Hour)}, k)
	must(t, cache.Store(context.Background(), a.key, entry))
	tok, err := a.Authorize(context.Background())
	must(t, err)
	if tok.AccessToken != "CACHED" || !dpop.KeyOf(tok).Equal(k) {
		t.Errorf("got %q bound to %v; want the cached token bound to the key", tok.AccessToken, dpop.KeyOf(tok))
	}
}

// WithDPoP(nil) adopts a cached entry's key: when that entry's refresh
// then fails, the new sign-in is bound to the adopted key, not to a fresh
// one. An entry planted with a known key (a plain cache file) so decides
// the key of the user's next sessions.
func TestAttackDPoPAdoptedKeyOutlivesFailedEntry(t *testing.T) {
	planted := mustKey(t)
	a, _, cache := dpopDeviceAuthorizer(t, WithDPoP(nil))
	entry := dpop.Bind(&oauth2.Token{AccessToken: "EXPIRED", TokenType: "DPoP", RefreshToken: "unknown-refresh",
		Expiry: time.Now().Add(-time.Hour)}, planted)
	must(t, cache.Store(context.Background(), a.key, entry))
	tok, err := a.Authorize(context.Background())
	must(t, err)
	if tok.AccessToken == "EXPIRED" {
		t.Fatal("an expired entry was used")
	}
	if dpop.KeyOf(tok).Equal(planted) {
		t.Logf("note (info): the new sign-in after a failed refresh is bound to the planted key %v", planted)
	}
}
