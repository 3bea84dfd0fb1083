package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Test fixtures: keys generated once per test binary, a signer, a clock
// the test moves, and a JWKS server that counts its answers.

const (
	testIssuer   = "https://issuer.example"
	testAudience = "https://api.example"
)

var testEpoch = time.Unix(1_800_000_000, 0)

var (
	keysMu  sync.Mutex // guards rsaKeys
	rsaKeys = map[int]*rsa.PrivateKey{}
	ecOnce  sync.Once
	ecKey   *ecdsa.PrivateKey
	edKey   ed25519.PrivateKey
)

// fixtures makes the EC and Ed25519 keys.
func fixtures() {
	ecOnce.Do(func() {
		ecKey, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		_, edKey, _ = ed25519.GenerateKey(rand.Reader)
	})
}

// rsaKey returns test RSA key i (2048 bits), made on first use: key
// generation is slow on a loaded machine and fuzz workers need only one.
func rsaKey(i int) *rsa.PrivateKey {
	fixtures()
	keysMu.Lock()
	defer keysMu.Unlock()
	k, ok := rsaKeys[i]
	if !ok {
		var err error
		if k, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		rsaKeys[i] = k
	}
	return k
}

func seg(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// rawSeg encodes a literal JSON text.
func rawSeg(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// signRaw signs header.payload (already encoded) with priv under alg.
func signRaw(alg, input string, priv crypto.Signer) string {
	var sig []byte
	var err error
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		h := sha256.Sum256([]byte(input))
		if alg == "PS256" {
			sig, err = rsa.SignPSS(rand.Reader, p, crypto.SHA256, h[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(nil, p, crypto.SHA256, h[:])
		}
	case *ecdsa.PrivateKey:
		h := sha256.Sum256([]byte(input))
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, p, h[:])
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case ed25519.PrivateKey:
		sig = ed25519.Sign(p, []byte(input))
	}
	if err != nil {
		panic(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// token signs claims with priv, header {"alg": alg, "kid": kid} (no kid
// when kid is "").
func token(priv crypto.Signer, alg, kid string, claims map[string]any) string {
	h := map[string]any{"alg": alg, "typ": "JWT"}
	if kid != "" {
		h["kid"] = kid
	}
	return signRaw(alg, seg(h)+"."+seg(claims), priv)
}

// goodClaims are claims a default Verifier accepts at testEpoch.
func goodClaims() map[string]any {
	return map[string]any{
		"iss": testIssuer, "sub": "user-1", "aud": testAudience,
		"iat": testEpoch.Unix() - 10, "exp": testEpoch.Unix() + 4*3600,
		"scope": "read write", "jti": "id-1",
	}
}

func with(m map[string]any, kv ...any) map[string]any {
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(m, kv[i].(string))
		} else {
			m[kv[i].(string)] = kv[i+1]
		}
	}
	return m
}

// clock is a time the test moves. Safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(testEpoch.UnixNano())
	return c
}
func (c *clock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *clock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// jwkOf returns the public JWK of priv.
func jwkOf(kid string, priv crypto.Signer) map[string]any {
	switch p := priv.(type) {
	case *rsa.PrivateKey:
		return map[string]any{"kty": "RSA", "kid": kid, "use": "sig",
			"n": base64.RawURLEncoding.EncodeToString(p.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(p.E)).Bytes())}
	case *ecdsa.PrivateKey:
		b, _ := p.PublicKey.Bytes()
		return map[string]any{"kty": "EC", "crv": "P-256", "kid": kid,
			"x": base64.RawURLEncoding.EncodeToString(b[1:33]), "y": base64.RawURLEncoding.EncodeToString(b[33:])}
	case ed25519.PrivateKey:
		return map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": kid,
			"x": base64.RawURLEncoding.EncodeToString(p.Public().(ed25519.PublicKey))}
	}
	panic(fmt.Sprintf("%T", priv))
}

// jwksServer serves a JWKS the test changes, and counts fetches. An
// answer can be held back (gate) or failed (down).
type jwksServer struct {
	*httptest.Server
	fetches  atomic.Int64
	mu       sync.Mutex // guards doc, down, cacheCtl
	doc      []byte
	down     bool
	cacheCtl string
	gate     chan struct{} // when non-nil, each answer waits for a receive
}

func newJWKSServer(t testing.TB, keys ...map[string]any) *jwksServer {
	s := &jwksServer{}
	s.publish(keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) publish(keys ...map[string]any) {
	b, _ := json.Marshal(map[string]any{"keys": keys})
	s.mu.Lock()
	s.doc = b
	s.mu.Unlock()
}

func (s *jwksServer) setDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

func (s *jwksServer) serve(w http.ResponseWriter, r *http.Request) {
	s.fetches.Add(1)
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	doc, down, cc := s.doc, s.down, s.cacheCtl
	s.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if cc != "" {
		w.Header().Set("Cache-Control", cc)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(doc)
}

// newTestVerifier is a Verifier for testIssuer/testAudience on the clock.
func newTestVerifier(t testing.TB, keys KeySource, c *clock, opts ...Option) *Verifier {
	t.Helper()
	v, err := New(keys, Expect{Issuer: testIssuer, Audience: []string{testAudience}}, append([]Option{WithClock(c.Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

var smallOnce sync.Once
var small *rsa.PrivateKey

// smallRSA is a 1024-bit key, below the accepted minimum.
func smallRSA() *rsa.PrivateKey {
	smallOnce.Do(func() {
		var err error
		if small, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
			panic(err)
		}
	})
	return small
}
