package redisstore_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/seed-d44eba79/authorizer/redisstore"
	"github.com/seed-d44eba79/authorizer/verify"
)

// Two replicas of a service behind a load balancer share one record of
// accepted DPoP proofs: a proof accepted by one is refused by the other.
func ExampleNewDPoPReplayStore() {
	mr, _ := miniredis.Run() // a real service: its Redis, Sentinel or Cluster
	defer mr.Close()
	issuer, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // the token issuer's key
	replica := func() (*verify.Verifier, func()) {
		client := redis.NewUniversalClient(&redis.UniversalOptions{
			Addrs: []string{mr.Addr()}, ContextTimeoutEnabled: true})
		store, err := redisstore.NewDPoPReplayStore(client)
		if err != nil {
			panic(err)
		}
		v, err := verify.New(verify.StaticKeys(issuer.Public()),
			verify.Expect{Issuer: "https://id.example", Audience: []string{"https://api.example"}},
			verify.WithDPoPReplayStore(store))
		if err != nil {
			panic(err)
		}
		return v, func() { client.Close() }
	}
	a, closeA := replica()
	defer closeA()
	b, closeB := replica()
	defer closeB()

	key, _ := dpop.GenerateKey() // the caller's proof key; its token is bound to it
	tok := exampleJWT(issuer, map[string]any{"iss": "https://id.example", "aud": "https://api.example",
		"sub": "user-42", "exp": time.Now().Add(time.Hour).Unix(), "cnf": map[string]string{"jkt": key.Thumbprint()}})
	target, _ := url.Parse("https://api.example/invoices")
	proof, _ := key.Proof("GET", target, tok, "", time.Now())

	for name, v := range []*verify.Verifier{a, b} {
		_, err := v.VerifyDPoP(context.Background(), tok, proof, "GET", target)
		fmt.Printf("replica %d: accepted %v, replay %v\n", name, err == nil, errors.Is(err, authorizer.ErrTokenDPoPReplay))
	}
	// Output:
	// replica 0: accepted true, replay false
	// replica 1: accepted false, replay true
}

// exampleJWT signs claims with ES256 (a real service gets its tokens from
// its issuer).
func exampleJWT(priv *ecdsa.PrivateKey, claims map[string]any) string {
	seg := func(v any) string { b, _ := json.Marshal(v); return base64.RawURLEncoding.EncodeToString(b) }
	input := seg(map[string]string{"alg": "ES256", "typ": "JWT"}) + "." + seg(claims)
	sum := sha256.Sum256([]byte(input))
	r, s, _ := ecdsa.Sign(rand.Reader, priv, sum[:])
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}
