package verify

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// Attacks on the verified-token cache and on careless callers.

func cacheLen(v *Verifier) int {
	n := 0
	for i := range v.cache.shards {
		s := &v.cache.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

// TestAttackCacheOutlivesExp: a cached token is refused once exp (plus
// the leeway) is past, and checked afresh between exp and exp+leeway.
func TestAttackCacheOutlivesExp(t *testing.T) {
	priv := rsaKey(0)
	c := newClock()
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), c, WithExpiryLeeway(30*time.Second))
	tok := token(priv, "RS256", "", with(goodClaims(), "exp", testEpoch.Unix()+60))
	for range 3 {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	c.Add(75 * time.Second) // past exp, inside the leeway
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("inside the leeway: %v", err)
	}
	c.Add(16 * time.Second) // past exp + leeway
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, authorizer.ErrTokenExpired) {
		t.Fatalf("past exp+leeway: got %v; want ErrTokenExpired", err)
	}
}

// TestAttackCacheKeyRemoved: after a refresh drops the key (or replaces it
// under the same kid), a cached token signed with it is refused.
func TestAttackCacheKeyRemoved(t *testing.T) {
	k1, k2 := rsaKey(0), rsaKey(1)
	for _, name := range []string{"dropped", "same kid, other key"} {
		t.Run(name, func(t *testing.T) {
			srv := newJWKSServer(t, jwkOf("k1", k1))
			c := newClock()
			src := JWKS(srv.URL, WithClock(c.Now))
			t.Cleanup(func() { src.Close() })
			v := newTestVerifier(t, src, c)
			tok := token(k1, "RS256", "k1", goodClaims())
			if _, err := v.Verify(context.Background(), tok); err != nil {
				t.Fatal(err)
			}
			if name == "dropped" {
				srv.publish(jwkOf("k2", k2))
				c.Add(time.Hour) // past the minimum refresh interval
				// a token naming k2 makes the source refresh
				if _, err := v.Verify(context.Background(), token(k2, "RS256", "k2", goodClaims())); err != nil {
					t.Fatal(err)
				}
			} else {
				srv.publish(jwkOf("k1", k2))
				c.Add(time.Hour)
				if _, err := v.Verify(context.Background(), token(k2, "RS256", "k1", goodClaims())); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := v.Verify(context.Background(), tok); err == nil {
				t.Fatal("a cached token outlived its key")
			}
		})
	}
}

// TestAttackCacheNoFailure: a refusal is not cached: once the key source
// answers, the same token is accepted.
func TestAttackCacheNoFailure(t *testing.T) {
	k1 := rsaKey(0)
	srv := newJWKSServer(t, jwkOf("k1", k1))
	srv.setDown(true)
	c := newClock()
	src := JWKS(srv.URL, WithClock(c.Now))
	t.Cleanup(func() { src.Close() })
	v := newTestVerifier(t, src, c)
	tok := token(k1, "RS256", "k1", goodClaims())
	if _, err := v.Verify(context.Background(), tok); err == nil {
		t.Fatal("accepted with the key server down")
	}
	srv.setDown(false)
	c.Add(time.Hour)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("after the server came back: %v", err)
	}
	// a wrong-audience token is refused every time, never cached
	bad := token(k1, "RS256", "k1", with(goodClaims(), "aud", "other"))
	for range 3 {
		if _, err := v.Verify(context.Background(), bad); !errors.Is(err, authorizer.ErrTokenAudience) {
			t.Fatalf("got %v; want ErrTokenAudience", err)
		}
	}
}

// TestAttackCacheBound: many distinct valid tokens do not grow the cache
// beyond its size (rounded up per shard).
func TestAttackCacheBound(t *testing.T) {
	fixtures()
	v := newTestVerifier(t, StaticKeys(edKey.Public()), newClock(), WithCacheSize(64))
	for i := range 2000 {
		tok := token(edKey, "EdDSA", "", with(goodClaims(), "jti", itoa(int64(i))))
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := cacheLen(v); n > 64 {
		t.Fatalf("cache holds %d entries; bound 64", n)
	}
}

// TestAttackCacheAfterClose: once the key source is closed, a cached token
// is refused like any other (ErrClosed), not answered from the cache.
func TestAttackCacheAfterClose(t *testing.T) {
	k1 := rsaKey(0)
	srv := newJWKSServer(t, jwkOf("k1", k1))
	c := newClock()
	src := JWKS(srv.URL, WithClock(c.Now))
	v := newTestVerifier(t, src, c)
	tok := token(k1, "RS256", "k1", goodClaims())
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	src.Close()
	if _, err := v.Verify(context.Background(), tok); !errors.Is(err, authorizer.ErrClosed) {
		t.Fatalf("after Close: got %v; want ErrClosed", err)
	}
}

// TestAttackConcurrentClose: Close racing Verify neither panics nor races
// (run with -race), and every Verify after Close fails.
func TestAttackConcurrentClose(t *testing.T) {
	k1 := rsaKey(0)
	srv := newJWKSServer(t, jwkOf("k1", k1))
	c := newClock()
	src := JWKS(srv.URL, WithClock(c.Now))
	v := newTestVerifier(t, src, c)
	toks := []string{token(k1, "RS256", "k1", goodClaims()), token(k1, "RS256", "kx", goodClaims())}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				v.Verify(context.Background(), toks[g%2])
			}
		}()
	}
	src.Close()
	src.Close() // twice is fine
	wg.Wait()
	for _, tok := range toks {
		if _, err := v.Verify(context.Background(), tok); err == nil {
			t.Fatal("accepted after Close")
		}
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestAttackNilContext: Verify with a nil ctx gives an error, not a
// panic, also when the keys must be fetched.
func TestAttackNilContext(t *testing.T) {
	k1 := rsaKey(0)
	srv := newJWKSServer(t, jwkOf("k1", k1))
	c := newClock()
	src := JWKS(srv.URL, WithClock(c.Now))
	t.Cleanup(func() { src.Close() })
	v := newTestVerifier(t, src, c)
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("Verify(nil ctx) panicked: %v", p)
		}
	}()
	var nilCtx context.Context // the attack: a caller passing nil
	if _, err := v.Verify(nilCtx, token(k1, "RS256", "k1", goodClaims())); err == nil {
		t.Fatal("nil ctx accepted")
	}
	if _, err := v.Verify(nilCtx, ""); err == nil {
		t.Fatal("empty token with a nil ctx accepted")
	}
}

// TestAttackEmptyExpect: an empty issuer or audience is a configuration
// error, not "accept any".
func TestAttackEmptyExpect(t *testing.T) {
	keys := StaticKeys(&rsaKey(0).PublicKey)
	for _, e := range []Expect{{}, {Issuer: testIssuer}, {Audience: []string{testAudience}}, {Issuer: testIssuer, Audience: []string{""}}, {Issuer: testIssuer, Audience: []string{testAudience, ""}}} {
		var ice *authorizer.InvalidConfigError
		if _, err := New(keys, e); !errors.As(err, &ice) {
			t.Errorf("%+v: got %v; want *InvalidConfigError", e, err)
		}
	}
}
