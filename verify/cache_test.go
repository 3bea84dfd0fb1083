package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
)

func TestCacheReturnsSameClaims(t *testing.T) {
	priv := rsaKey(0)
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock())
	tok := token(priv, "RS256", "", goodClaims())
	a, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := v.Verify(context.Background(), tok)
	if a != b {
		t.Error("second Verify did not come from the cache")
	}
	off := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock(), WithCacheSize(0))
	a, _ = off.Verify(context.Background(), tok)
	b, _ = off.Verify(context.Background(), tok)
	if a == b {
		t.Error("WithCacheSize(0) still caches")
	}
}

// TestCacheEndsAtExpiry: a cached token is checked afresh at exp, so it
// never outlives exp plus the leeway.
func TestCacheEndsAtExpiry(t *testing.T) {
	priv := rsaKey(0)
	c := newClock()
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), c, WithExpiryLeeway(0))
	tok := token(priv, "RS256", "", with(goodClaims(), "exp", testEpoch.Unix()+60))
	for range 2 {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	c.Add(60 * time.Second)
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, authorizer.ErrTokenExpired) {
		t.Fatalf("at exp: got %v; want ErrTokenExpired", err)
	}
}

// TestCacheEndsWithKeyRemoval: once a refresh drops the key, its cached
// tokens are refused.
func TestCacheEndsWithKeyRemoval(t *testing.T) {
	f := newRemoteFixture(t)
	tok := token(rsaKey(0), "RS256", "k1", goodClaims())
	for range 2 {
		if _, err := f.v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	// A refresh that keeps k1 keeps the cache entry.
	f.clock.Add(DefaultMinRefreshInterval)
	f.srv.publish(jwkOf("k1", rsaKey(0)), jwkOf("k2", rsaKey(1)))
	if err := f.verify("k2", 1); err != nil {
		t.Fatal(err)
	}
	a, _ := f.v.Verify(context.Background(), tok)
	b, _ := f.v.Verify(context.Background(), tok)
	if a == nil || a != b {
		t.Fatal("entry lost on a refresh that kept its key")
	}
	// A refresh that drops k1 ends it.
	f.clock.Add(DefaultMinRefreshInterval)
	f.srv.publish(jwkOf("k2", rsaKey(1)), jwkOf("k3", rsaKey(2)))
	if err := f.verify("k3", 2); err != nil {
		t.Fatal(err)
	}
	if _, err := f.v.Verify(context.Background(), tok); !errors.Is(err, authorizer.ErrTokenUnknownKey) {
		t.Fatalf("after its key was removed: got %v; want ErrTokenUnknownKey", err)
	}
}

func TestCacheIsBounded(t *testing.T) {
	priv := rsaKey(0)
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock(), WithCacheSize(32))
	for i := range 200 {
		if _, err := v.Verify(context.Background(), token(priv, "RS256", "", with(goodClaims(), "jti", fmt.Sprint(i)))); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	for i := range v.cache.shards {
		n += len(v.cache.shards[i].m)
	}
	if n > 32+cacheShards {
		t.Errorf("cache holds %d entries; want about 32", n)
	}
}

func TestCacheNeverHoldsFailures(t *testing.T) {
	priv := rsaKey(0)
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock())
	for _, tok := range []string{
		token(priv, "RS256", "", with(goodClaims(), "aud", "other")),
		token(rsaKey(1), "RS256", "", goodClaims()),
	} {
		_, _ = v.Verify(context.Background(), tok)
	}
	for i := range v.cache.shards {
		if len(v.cache.shards[i].m) != 0 {
			t.Fatal("a refused token was cached")
		}
	}
}

// TestPrintingHoldsNoToken: the cache keeps tokens; printing a Verifier or
// its Claims with fmt must not show them.
func TestPrintingHoldsNoToken(t *testing.T) {
	priv := rsaKey(0)
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock())
	tok := token(priv, "RS256", "", goodClaims())
	c, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	sig := tok[strings.LastIndexByte(tok, '.')+1:]
	for _, s := range []string{fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), fmt.Sprintf("%#v", c), fmt.Sprintf("%+v", *c)} {
		if strings.Contains(s, sig[:16]) || strings.Contains(s, tok[:16]) {
			t.Errorf("printed form holds the token: %.200s", s)
		}
	}
}
