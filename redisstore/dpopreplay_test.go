package redisstore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/seed-d44eba79/authorizer/verify"
)

// DPoP fixtures: an issuer key, a client's proof key, a token bound to it.
type dpopFixture struct {
	issuer *ecdsa.PrivateKey
	key    *dpop.Key
	token  string
	target *url.URL
}

const (
	testIssuer   = "https://id.example"
	testAudience = "https://api.example"
)

func newDPoPFixture(t testing.TB) *dpopFixture {
	t.Helper()
	issuer, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key, err := dpop.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	f := &dpopFixture{issuer: issuer, key: key, target: &url.URL{Scheme: "https", Host: "api.example", Path: "/v1/things"}}
	f.token = signES256(t, issuer, map[string]any{"iss": testIssuer, "aud": testAudience, "sub": "user-1",
		"iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(), "cnf": map[string]string{"jkt": key.Thumbprint()}})
	return f
}

func signES256(t testing.TB, priv *ecdsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	seg := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := seg(map[string]string{"alg": "ES256", "typ": "JWT"}) + "." + seg(claims)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, priv, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// replica is one service replica: its own Redis client, store and Verifier.
func (f *dpopFixture) replica(t *testing.T, addr string, opts ...DPoPReplayOption) (*verify.Verifier, *DPoPReplayStore) {
	t.Helper()
	s, err := NewDPoPReplayStore(newClient(t, addr), opts...)
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.New(verify.StaticKeys(f.issuer.Public()), verify.Expect{Issuer: testIssuer, Audience: []string{testAudience}},
		verify.WithDPoPReplayStore(s))
	if err != nil {
		t.Fatal(err)
	}
	return v, s
}

func (f *dpopFixture) proof(t testing.TB, now time.Time) string {
	t.Helper()
	p, err := f.key.Proof("GET", f.target, f.token, "", now)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *dpopFixture) verify(v *verify.Verifier, proof string) error {
	_, err := v.VerifyDPoP(context.Background(), f.token, proof, "GET", f.target)
	return err
}

// jtiOf reads a proof's jti.
func jtiOf(t testing.TB, proof string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(proof, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ JTI string }
	if err := json.Unmarshal(b, &c); err != nil || c.JTI == "" {
		t.Fatalf("proof claims: %v", err)
	}
	return c.JTI
}

func withDPoPReplayClock(now func() time.Time) DPoPReplayOption {
	return func(c *dpopReplayConfig) error { c.now = now; return nil }
}

func TestDPoPReplayStoreRecord(t *testing.T) {
	mr := miniredis.RunT(t)
	s, err := NewDPoPReplayStore(newClient(t, mr.Addr()), WithDPoPReplayPrefix("p:"), WithDPoPReplayMargin(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	until := time.Now().Add(time.Minute)
	for i, want := range []bool{true, false, false} {
		fresh, err := s.Record(ctx, "k1", until)
		if err != nil || fresh != want {
			t.Fatalf("call %d: %v, %v; want %v", i, fresh, err, want)
		}
	}
	if fresh, err := s.Record(ctx, "k2", until); err != nil || !fresh {
		t.Fatalf("another key: %v, %v; want fresh", fresh, err)
	}
	if got, want := mr.TTL("p:k1"), time.Until(until.Add(10*time.Second)); got <= 0 || got > want+time.Second {
		t.Fatalf("TTL %v; want about %v", got, want)
	}
	mr.FastForward(time.Minute + 11*time.Second)
	if fresh, err := s.Record(ctx, "k1", time.Now().Add(time.Minute)); err != nil || !fresh {
		t.Fatalf("after its TTL: %v, %v; want fresh", fresh, err)
	}
	if _, err := s.Record(ctx, "", until); err == nil {
		t.Fatal("an empty key was recorded")
	}
}

func TestDPoPReplayStoreUnavailable(t *testing.T) {
	mr := miniredis.RunT(t)
	clk := &fakeClock{t: time.Now()} // the clock until is judged by, too
	s, err := NewDPoPReplayStore(newClient(t, mr.Addr()), withDPoPReplayClock(clk.now), WithDPoPReplayBreaker(2, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	until := time.Now().Add(time.Minute)
	mr.SetError("LOADING")
	for i := range 3 {
		fresh, err := s.Record(ctx, "k", until)
		if fresh || !errors.Is(err, ErrUnavailable) {
			t.Fatalf("call %d: %v, %v; want ErrUnavailable", i, fresh, err)
		}
	}
	if s.breaker.allow() {
		t.Fatal("breaker closed after failures")
	}
	mr.SetError("")
	if _, err := s.Record(ctx, "k", until); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("while open: %v; want ErrUnavailable at once", err)
	}
	clk.add(2 * time.Second)
	if fresh, err := s.Record(ctx, "k", until); err != nil || !fresh {
		t.Fatalf("after the cooldown: %v, %v; want fresh", fresh, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Record(cctx, "k2", until); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v; want context.Canceled", err)
	}
}

func TestNewDPoPReplayStoreRefusesBadConfig(t *testing.T) {
	mr := miniredis.RunT(t)
	good := newClient(t, mr.Addr())
	plain := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = plain.Close() })
	var nilClient *redis.Client
	tests := []struct {
		name    string
		client  redis.UniversalClient
		opts    []DPoPReplayOption
		setting string
	}{
		{"nil client", nil, nil, "NewDPoPReplayStore client"},
		{"typed nil client", nilClient, nil, "NewDPoPReplayStore client"},
		{"no ContextTimeoutEnabled", plain, nil, "NewDPoPReplayStore client"},
		{"nil option", good, []DPoPReplayOption{nil}, "NewDPoPReplayStore option"},
		{"empty prefix", good, []DPoPReplayOption{WithDPoPReplayPrefix("")}, "WithDPoPReplayPrefix"},
		{"hash tag prefix", good, []DPoPReplayOption{WithDPoPReplayPrefix("a{b}")}, "WithDPoPReplayPrefix"},
		{"token prefix", good, []DPoPReplayOption{WithDPoPReplayPrefix(DefaultPrefix)}, "WithDPoPReplayPrefix"},
		{"session prefix", good, []DPoPReplayOption{WithDPoPReplayPrefix(DefaultSessionPrefix)}, "WithDPoPReplayPrefix"},
		{"negative margin", good, []DPoPReplayOption{WithDPoPReplayMargin(-time.Second)}, "WithDPoPReplayMargin"},
		{"zero call timeout", good, []DPoPReplayOption{WithDPoPReplayCallTimeout(0)}, "WithDPoPReplayCallTimeout"},
		{"zero failures", good, []DPoPReplayOption{WithDPoPReplayBreaker(0, time.Second)}, "WithDPoPReplayBreaker"},
		{"zero cooldown", good, []DPoPReplayOption{WithDPoPReplayBreaker(1, 0)}, "WithDPoPReplayBreaker"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewDPoPReplayStore(tt.client, tt.opts...)
			var ice *authorizer.InvalidConfigError
			if !errors.As(err, &ice) || ice.Setting != "redisstore: "+tt.setting {
				t.Fatalf("err = %v; want an InvalidConfigError naming %q", err, tt.setting)
			}
		})
	}
	if _, err := NewDPoPReplayStore(good, WithDPoPReplayMargin(0), WithDPoPReplayLogger(nil)); err != nil {
		t.Fatalf("zero margin, nil logger: %v", err)
	}
}
