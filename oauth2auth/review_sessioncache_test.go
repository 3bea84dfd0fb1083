package oauth2auth

import (
	"context"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/seed-d44eba79/authorizer/filecache"
	"golang.org/x/oauth2"
)

// Review of usable (6145531): what stays usable and what not.

// Without WithDPoP a plain Bearer session (also one with an empty token
// type, as oauth2 writes) is still used: the fix must not turn previously
// working caches into sign-ins.
func TestReviewSessionCacheBearerStillUsed(t *testing.T) {
	for _, typ := range []string{"Bearer", "bearer", ""} {
		f := newFakeIdP(t)
		cache, err := filecache.New(filecache.WithDir(t.TempDir()))
		must(t, err)
		a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: "native"}, f.env(), WithTokenCache(cache),
			WithDevicePrompt(func(context.Context, DevicePrompt) error { return nil }), withPollInterval(time.Millisecond))
		must(t, err)
		must(t, cache.Store(context.Background(), a.key, &oauth2.Token{AccessToken: "CACHED", TokenType: typ,
			RefreshToken: "r", Expiry: time.Now().Add(time.Hour)}))
		tok, err := a.Authorize(context.Background())
		must(t, err)
		if tok.AccessToken != "CACHED" {
			t.Errorf("type %q: a cached bearer session was not used without WithDPoP (got %q)", typ, tok.AccessToken)
		}
	}
}

// With WithDPoP, a DPoP session through filecache (key in the record,
// type kept) is used after a "restart" (a new Authorizer on the same file).
func TestReviewSessionCacheDPoPThroughFile(t *testing.T) {
	k := mustKey(t)
	f := newFakeIdP(t)
	f.dpop.on = true
	path := t.TempDir()
	cache, err := filecache.New(filecache.WithDir(path))
	must(t, err)
	a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: "native"}, f.env(), WithTokenCache(cache), WithDPoP(k),
		WithDevicePrompt(func(context.Context, DevicePrompt) error { return nil }), withPollInterval(time.Millisecond))
	must(t, err)
	must(t, cache.Store(context.Background(), a.key, dpop.Bind(&oauth2.Token{AccessToken: "CACHED", TokenType: "DPoP",
		RefreshToken: "r", Expiry: time.Now().Add(time.Hour)}, k)))
	cache2, err := filecache.New(filecache.WithDir(path))
	must(t, err)
	b, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: "native"}, f.env(), WithTokenCache(cache2), WithDPoP(k),
		WithDevicePrompt(func(context.Context, DevicePrompt) error { return nil }), withPollInterval(time.Millisecond))
	must(t, err)
	tok, err := b.Authorize(context.Background())
	must(t, err)
	if tok.AccessToken != "CACHED" || !dpop.KeyOf(tok).Equal(k) {
		t.Fatalf("the filecache DPoP session was not used: %q bound to %v", tok.AccessToken, dpop.KeyOf(tok))
	}
}
