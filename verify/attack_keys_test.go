package verify

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// Attacks by a hostile or broken key server, and on key parsing.

// countingHandler counts log records and keeps their text.
type countingHandler struct {
	n    atomic.Int64
	text atomic.Value // string: the last record with its attributes
}

func (h *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.n.Add(1)
	s := r.Message
	r.Attrs(func(a slog.Attr) bool { s += " " + a.String(); return true })
	h.text.Store(s)
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

func jwksDoc(keys ...any) []byte {
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

// TestAttackJWKSManyKeys: a key set of thousands of keys keeps at most
// maxKeys, and logs a bounded number of lines per fetch, not one per key.
func TestAttackJWKSManyKeys(t *testing.T) {
	fixtures()
	one := jwkOf("", ecKey)
	var keys []any
	for i := range 5000 {
		keys = append(keys, with(maps(one), "kid", itoa(int64(i))))
	}
	doc := jwksDoc(keys...)
	if len(doc) > maxKeySetSize {
		t.Fatalf("doc is %d bytes, over the cap", len(doc))
	}
	h := &countingHandler{}
	ks, err := parseJWKS(doc, slog.New(h))
	if err != nil {
		t.Fatal(err)
	}
	if len(ks.keys) != maxKeys {
		t.Fatalf("kept %d keys; want %d", len(ks.keys), maxKeys)
	}
	if n := h.n.Load(); n > maxSkipLogs+2 {
		t.Fatalf("one fetch logged %d lines", n)
	}
}

func maps(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// TestAttackJWKSBadKeys: unusable keys are skipped, the usable one still
// verifies, and a token naming a skipped key is refused.
func TestAttackJWKSBadKeys(t *testing.T) {
	priv := rsaKey(0)
	fixtures()
	good := jwkOf("good", priv)
	n := good["n"].(string)
	b64 := base64.RawURLEncoding.EncodeToString
	big8193 := new(big.Int).Lsh(big.NewInt(1), 8192)
	big8193.SetBit(big8193, 0, 1)
	ec := jwkOf("", ecKey)
	x, _ := base64.RawURLEncoding.DecodeString(ec["x"].(string))
	offCurve := append([]byte(nil), x...)
	offCurve[31] ^= 1
	bad := []any{
		map[string]any{"kty": "RSA", "kid": "e1", "n": n, "e": "AQ"},
		map[string]any{"kty": "RSA", "kid": "e2", "n": n, "e": "Ag"},
		map[string]any{"kty": "RSA", "kid": "e0", "n": n, "e": "AA"},
		map[string]any{"kty": "RSA", "kid": "ehuge", "n": n, "e": b64(bytes.Repeat([]byte{0xff}, 16))},
		map[string]any{"kty": "RSA", "kid": "nhuge", "n": b64(big8193.Bytes()), "e": "AQAB"},
		map[string]any{"kty": "RSA", "kid": "nsmall", "n": b64(smallRSA().N.Bytes()), "e": "AQAB"},
		map[string]any{"kty": "RSA", "kid": "nempty", "n": "", "e": "AQAB"},
		map[string]any{"kty": "RSA", "kid": "npad", "n": n + "=", "e": "AQAB"},
		map[string]any{"kty": "EC", "kid": "offcurve", "crv": "P-256", "x": b64(offCurve), "y": ec["y"]},
		map[string]any{"kty": "EC", "kid": "zero", "crv": "P-256", "x": b64(make([]byte, 32)), "y": b64(make([]byte, 32))},
		map[string]any{"kty": "EC", "kid": "p256k", "crv": "secp256k1", "x": ec["x"], "y": ec["y"]},
		map[string]any{"kty": "EC", "kid": "wrongcrv", "crv": "P-384", "x": ec["x"], "y": ec["y"]},
		map[string]any{"kty": "OKP", "kid": "x25519", "crv": "X25519", "x": b64(make([]byte, 32))},
		map[string]any{"kty": "OKP", "kid": "ed448", "crv": "Ed448", "x": b64(make([]byte, 57))},
		map[string]any{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
		with(maps(good), "kid", "hs", "alg", "HS256"),
		with(maps(good), "kid", "none", "alg", "none"),
		with(maps(good), "kid", "enc", "use", "enc"),
		with(maps(good), "kid", "priv", "d", "AQAB"),
		with(maps(good), "kid", "privD", "D", "AQAB"),
		with(maps(good), "kid", "es-on-rsa", "alg", "ES256"),
		"not an object",
		42,
		nil,
	}
	doc := jwksDoc(append(bad, good)...)
	h := &countingHandler{}
	ks, err := parseJWKS(doc, slog.New(h))
	if err != nil {
		t.Fatal(err)
	}
	if len(ks.keys) != 1 || ks.keys[0].kid != "good" {
		var kids []string
		for _, k := range ks.keys {
			kids = append(kids, k.kid)
		}
		t.Fatalf("kept keys %q; want only good", kids)
	}
	if s, _ := h.text.Load().(string); strings.Contains(s, n[:16]) {
		t.Fatalf("log carries key material: %s", s)
	}
}

// TestAttackJWKSDuplicateKid: two keys under one kid are both tried; a
// third key under that kid is not accepted.
func TestAttackJWKSDuplicateKid(t *testing.T) {
	k1, k2, k3 := rsaKey(0), rsaKey(1), rsaKey(2)
	keys, err := ParseJWKS(jwksDoc(jwkOf("k", k1), jwkOf("k", k2)))
	if err != nil {
		t.Fatal(err)
	}
	v := newTestVerifier(t, keys, newClock())
	for _, p := range []*rsa.PrivateKey{k1, k2} {
		if _, err := v.Verify(context.Background(), token(p, "RS256", "k", goodClaims())); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Verify(context.Background(), token(k3, "RS256", "k", goodClaims())); !errors.Is(err, authorizer.ErrTokenSignature) {
		t.Fatalf("got %v; want ErrTokenSignature", err)
	}
}

// TestAttackPSSConfusion: a key naming PS256 takes no RS256 token and the
// other way round, whatever the signature.
func TestAttackPSSConfusion(t *testing.T) {
	priv := rsaKey(0)
	keys, err := ParseJWKS(jwksDoc(with(jwkOf("ps", priv), "alg", "PS256"), with(jwkOf("rs", priv), "alg", "RS256")))
	if err != nil {
		t.Fatal(err)
	}
	v := newTestVerifier(t, keys, newClock())
	if _, err := v.Verify(context.Background(), token(priv, "PS256", "ps", goodClaims())); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{token(priv, "RS256", "ps", goodClaims()), token(priv, "PS256", "rs", goodClaims())} {
		if _, err := v.Verify(context.Background(), tok); !errors.Is(err, authorizer.ErrTokenAlgorithm) {
			t.Fatalf("got %v; want ErrTokenAlgorithm", err)
		}
	}
	// a PS256 signature relabelled RS256 for the RS256 key
	ps := token(priv, "PS256", "rs", goodClaims())
	relabelled := rawSeg(`{"alg":"RS256","kid":"rs"}`) + ps[strings.IndexByte(ps, '.'):]
	if _, err := v.Verify(context.Background(), relabelled); !errors.Is(err, authorizer.ErrTokenSignature) {
		t.Fatalf("got %v; want ErrTokenSignature", err)
	}
}

// TestAttackRSASmallExponent: e = 3 keys are accepted (Go's PKCS #1 v1.5
// check is strict, so Bleichenbacher's e = 3 forgery does not apply), a
// forged "cube root" signature is refused.
func TestAttackRSASmallExponent(t *testing.T) {
	n := rsaKey(0).N
	ks, err := ParseJWKS(jwksDoc(map[string]any{"kty": "RSA", "kid": "e3", "n": base64.RawURLEncoding.EncodeToString(n.Bytes()), "e": "Aw"}))
	if err != nil {
		t.Skip("e = 3 refused outright")
	}
	v := newTestVerifier(t, ks, newClock())
	in := rawSeg(`{"alg":"RS256","kid":"e3"}`) + "." + seg(goodClaims())
	// a value whose cube starts like a PKCS #1 v1.5 block: 00 01 ff 00 ...
	target := new(big.Int).Lsh(big.NewInt(0x0001ff00), uint(n.BitLen()-32))
	root := new(big.Int).Sqrt(target) // not a cube root; any garbage will do
	sig := root.FillBytes(make([]byte, (n.BitLen()+7)/8))
	if _, err := v.Verify(context.Background(), in+"."+base64.RawURLEncoding.EncodeToString(sig)); !errors.Is(err, authorizer.ErrTokenSignature) {
		t.Fatalf("got %v; want ErrTokenSignature", err)
	}
}

func certPEM(t *testing.T, pub, signer any, ca bool, parent *x509.Certificate) (*x509.Certificate, []byte) {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "attack"},
		NotBefore: testEpoch.Add(-time.Hour), NotAfter: testEpoch.Add(time.Hour), IsCA: ca, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestAttackPEMChain: a PEM URL serving a certificate chain (leaf, then
// its CA) makes the CA's key a token-signing key too.
func TestAttackPEMChain(t *testing.T) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caCert, caPEM := certPEM(t, &caKey.PublicKey, caKey, true, nil)
	_, leafPEM := certPEM(t, &leafKey.PublicKey, caKey, false, caCert)
	keys, err := ParsePEM(append(leafPEM, caPEM...))
	if err != nil {
		t.Fatal(err)
	}
	v := newTestVerifier(t, keys, newClock())
	if _, err := v.Verify(context.Background(), token(leafKey, "ES256", "", goodClaims())); err != nil {
		t.Fatalf("leaf key: %v", err)
	}
	if _, err := v.Verify(context.Background(), token(caKey, "ES256", "", goodClaims())); err == nil {
		t.Fatal("a PEM certificate chain made the issuing CA's key a signing key; only the leaf's key may count")
	}
}

// TestAttackPEMPrivateKey: a PEM URL serving a private key is refused,
// and neither the error nor the log carries the key.
func TestAttackPEMPrivateKey(t *testing.T) {
	priv := rsaKey(0)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	body := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(body) }))
	t.Cleanup(srv.Close)
	h := &countingHandler{}
	src := PEMURL(srv.URL, WithLogger(slog.New(h)))
	t.Cleanup(func() { src.Close() })
	v := newTestVerifier(t, src, newClock())
	_, err := v.Verify(context.Background(), token(priv, "RS256", "", goodClaims()))
	if err == nil {
		t.Fatal("accepted with a private key served as the public key")
	}
	secret := base64.StdEncoding.EncodeToString(der)[40:80]
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("error carries the private key: %v", err)
	}
	if s, _ := h.text.Load().(string); strings.Contains(s, secret) {
		t.Fatalf("log carries the private key: %s", s)
	}
}

// TestAttackGzipBomb: a gzip-encoded answer that inflates to 64 MiB is
// refused after reading about 1 MiB.
func TestAttackGzipBomb(t *testing.T) {
	var zbuf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zbuf, gzip.BestCompression)
	zw.Write([]byte(`{"keys":[` + strings.Repeat(" ", 1<<20)))
	for range 63 {
		zw.Write(make([]byte, 1<<20))
	}
	zw.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		w.Write(zbuf.Bytes())
	}))
	t.Cleanup(srv.Close)
	src := JWKS(srv.URL)
	t.Cleanup(func() { src.Close() })
	v := newTestVerifier(t, src, newClock())
	_, err := v.Verify(context.Background(), token(rsaKey(0), "RS256", "k1", goodClaims()))
	var ae *authorizer.AuthorizationError
	if !errors.As(err, &ae) {
		t.Fatalf("got %T %v; want *AuthorizationError", err, err)
	}
}

// TestAttackRedirects: a redirect loop ends in an error, and a redirect to
// another host is not followed.
func TestAttackRedirects(t *testing.T) {
	var other atomic.Int64
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other.Add(1)
		w.Write(jwksDoc(jwkOf("k1", rsaKey(1))))
	}))
	t.Cleanup(evil.Close)
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/away" {
			http.Redirect(w, r, evil.URL+"/jwks", http.StatusFound)
			return
		}
		http.Redirect(w, r, r.URL.Path, http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	for _, path := range []string{"/loop", "/away"} {
		src := JWKS(srv.URL + path)
		v := newTestVerifier(t, src, newClock())
		if _, err := v.Verify(context.Background(), token(rsaKey(1), "RS256", "k1", goodClaims())); err == nil {
			t.Fatalf("%s: accepted", path)
		}
		src.Close()
	}
	if n := hits.Load(); n > 7 {
		t.Fatalf("%d requests for one loop and one redirect", n)
	}
	if other.Load() != 0 {
		t.Fatal("followed a redirect to another host")
	}
}

// TestAttackSlowKeyServer: a server that sends headers and then stalls
// does not hold Verify past its ctx, nor Close.
func TestAttackSlowKeyServer(t *testing.T) {
	reached := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"keys":[`))
		w.(http.Flusher).Flush()
		select {
		case reached <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	src := JWKS(srv.URL)
	v := newTestVerifier(t, src, newClock())
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-reached; cancel() }()
	_, err := v.Verify(ctx, token(rsaKey(0), "RS256", "k1", goodClaims()))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v; want context.Canceled", err)
	}
	src.Close() // must not hang on the stalled body
}

// TestAttackFlippingKeys: a server answering a new key on every request,
// and a flood of tokens naming random kids, cost a bounded number of
// fetches while the clock stands still.
func TestAttackFlippingKeys(t *testing.T) {
	fixtures()
	var fetches atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := fetches.Add(1)
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		w.Header().Set("Cache-Control", "max-age=0")
		w.Write(jwksDoc(jwkOf("k"+itoa(n), k)))
	}))
	t.Cleanup(srv.Close)
	c := newClock()
	src := JWKS(srv.URL, WithClock(c.Now))
	t.Cleanup(func() { src.Close() })
	v := newTestVerifier(t, src, c)
	for i := range 200 {
		v.Verify(context.Background(), token(ecKey, "ES256", "k"+itoa(int64(i)), goodClaims()))
	}
	if n := fetches.Load(); n > 2 {
		t.Fatalf("%d fetches for 200 tokens at one instant", n)
	}
}

// TestAttackMaxAge: absurd Cache-Control values are clamped, not trusted.
func TestAttackMaxAge(t *testing.T) {
	for cc, want := range map[string]time.Duration{
		"max-age=1000000000000000000": 0, "max-age=-1": 0, "max-age=0": 0, "max-age=1e9": 0,
		"max-age=60, no-store": 0, "MAX-AGE=60": time.Minute, `max-age="60"`: time.Minute,
	} {
		if got := maxAge(cc); got != want {
			t.Errorf("%q: got %v; want %v", cc, got, want)
		}
	}
}

// TestAttackURLSecretsNotEchoed: a key URL's query (which may
// carry an API key) reach neither the error nor the log when the fetch
// fails, whether no answer arrives or the answer is refused.
func TestAttackURLSecretsNotEchoed(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // connection refused from now on
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("nope")) }))
	t.Cleanup(bad.Close)
	for _, base := range []string{deadURL, bad.URL} {
		u := base + "/jwks?api_key=QUERYSECRET1"
		h := &countingHandler{}
		src := JWKS(u, WithLogger(slog.New(h)))
		v := newTestVerifier(t, src, newClock())
		_, err := v.Verify(context.Background(), token(rsaKey(0), "RS256", "k1", goodClaims()))
		src.Close()
		if err == nil {
			t.Fatal("accepted")
		}
		log, _ := h.text.Load().(string)
		for _, secret := range []string{"QUERYSECRET1"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error carries %s: %v", secret, err)
			}
			if strings.Contains(log, secret) {
				t.Errorf("log carries %s: %s", secret, log)
			}
		}
	}
}

// TestAttackDiscovery: discovery metadata naming another issuer, or a
// jwks_uri over plain http to a non-loopback host, is refused.
func TestAttackDiscovery(t *testing.T) {
	var meta atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(meta.Load().(string)))
	}))
	t.Cleanup(srv.Close)
	for _, m := range []string{
		`{"issuer":"https://evil.example","jwks_uri":"` + srv.URL + `/jwks"}`,
		`{"issuer":"` + srv.URL + `/","jwks_uri":"` + srv.URL + `/jwks"}`,
		`{"issuer":"` + srv.URL + `","jwks_uri":"http://evil.example/jwks"}`,
		`{"issuer":"` + srv.URL + `","jwks_uri":"file:///etc/passwd"}`,
		`{"issuer":"` + srv.URL + `","jwks_uri":"https://u:p@evil.example/jwks"}`,
		`{"issuer":"` + srv.URL + `"}`,
		`{"issuer":"` + srv.URL + `","issuer":"x","jwks_uri":"` + srv.URL + `/jwks"}`,
	} {
		meta.Store(m)
		src := Discover(srv.URL)
		v, err := New(src, Expect{Issuer: srv.URL, Audience: []string{testAudience}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(context.Background(), token(rsaKey(0), "RS256", "k1", with(goodClaims(), "iss", srv.URL)))
		src.Close()
		var ae *authorizer.AuthorizationError
		if !errors.As(err, &ae) {
			t.Errorf("%s: got %v; want *AuthorizationError", m, err)
		}
	}
}

// TestAttackDegenerateKeys: an RSA modulus that is even, and an Ed25519
// key that is a small-order point, neither panic nor verify a forgery.
func TestAttackDegenerateKeys(t *testing.T) {
	n := new(big.Int).Set(rsaKey(0).N)
	n.SetBit(n, 0, 0) // even
	b64 := base64.RawURLEncoding.EncodeToString
	ks, err := ParseJWKS(jwksDoc(map[string]any{"kty": "RSA", "kid": "even", "n": b64(n.Bytes()), "e": "AQAB"}))
	if err == nil {
		v := newTestVerifier(t, ks, newClock())
		sig := make([]byte, 256)
		sig[255] = 2
		in := rawSeg(`{"alg":"RS256","kid":"even"}`) + "." + seg(goodClaims())
		if _, err := v.Verify(context.Background(), in+"."+b64(sig)); err == nil {
			t.Fatal("even modulus: forged token accepted")
		}
	}
	// the identity point: [S]B == R + [k]A holds for S = 0, R = identity,
	// whatever the message.
	identity := make([]byte, 32)
	identity[0] = 1
	ks, err = ParseJWKS(jwksDoc(map[string]any{"kty": "OKP", "crv": "Ed25519", "kid": "id", "x": b64(identity)}))
	if err == nil {
		v := newTestVerifier(t, ks, newClock())
		sig := append(append([]byte(nil), identity...), make([]byte, 32)...)
		in := rawSeg(`{"alg":"EdDSA","kid":"id"}`) + "." + seg(goodClaims())
		if _, err := v.Verify(context.Background(), in+"."+b64(sig)); err == nil {
			t.Fatal("the identity as Ed25519 key: a fixed signature verifies any token")
		}
		t.Fatal("the identity as Ed25519 key is accepted")
	}
	// every small-order encoding, with and without sign bit, is refused by
	// StaticKeys too; a real key is not.
	for i, p := range smallOrderPoints {
		for _, sign := range []byte{0, 0x80} {
			k := p
			k[31] |= sign
			if _, err := New(StaticKeys(ed25519.PublicKey(k[:])), Expect{Issuer: testIssuer, Audience: []string{testAudience}}); err == nil {
				t.Errorf("small-order point %d (sign %x) accepted", i, sign)
			}
		}
	}
	// the list is right: with each point as key, S = 0 and R one of the
	// points, crypto/ed25519 accepts forgeries.
	for i, p := range smallOrderPoints {
		forged := false
		for m := 0; m < 64 && !forged; m++ {
			for _, r := range smallOrderPoints {
				for _, sign := range []byte{0, 0x80} {
					r[31] |= sign
					if ed25519.Verify(p[:], []byte(itoa(int64(m))), append(r[:], make([]byte, 32)...)) {
						forged = true
					}
				}
			}
		}
		if !forged {
			t.Errorf("point %d: no forgery verifies; not small-order?", i)
		}
	}
	fixtures()
	if _, err := New(StaticKeys(edKey.Public()), Expect{Issuer: testIssuer, Audience: []string{testAudience}}); err != nil {
		t.Fatal(err)
	}
}
