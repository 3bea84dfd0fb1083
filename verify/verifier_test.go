package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
)

func TestVerifyClaims(t *testing.T) {
	priv := rsaKey(0)
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock())
	claims := with(goodClaims(), "aud", []string{"other", testAudience}, "nbf", testEpoch.Unix()-5,
		"client_id", "c-1", "userid", "u-9", "permissions", []string{"p1", "p2"})
	c, err := v.Verify(context.Background(), token(priv, "RS256", "", claims))
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != testIssuer || c.Subject != "user-1" || c.ID != "id-1" || c.ClientID != "c-1" {
		t.Errorf("got %+v", c)
	}
	if got := strings.Join(c.Audience, ","); got != "other,"+testAudience {
		t.Errorf("Audience = %q", got)
	}
	if got := strings.Join(c.Scopes, ","); got != "read,write" {
		t.Errorf("Scopes = %q; want read,write", got)
	}
	if !c.Expiry.Equal(testEpoch.Add(4*time.Hour)) || !c.NotBefore.Equal(testEpoch.Add(-5*time.Second)) || !c.IssuedAt.Equal(testEpoch.Add(-10*time.Second)) {
		t.Errorf("times: %v %v %v", c.Expiry, c.NotBefore, c.IssuedAt)
	}
	var extra struct {
		UserID      string   `json:"userid"`
		Permissions []string `json:"permissions"`
	}
	if err := c.Decode(&extra); err != nil || extra.UserID != "u-9" || len(extra.Permissions) != 2 {
		t.Errorf("Decode: %+v, %v", extra, err)
	}
	if !c.HasScope("read") || c.HasScope("admin") {
		t.Errorf("HasScope wrong")
	}
}

func TestScpClaim(t *testing.T) {
	priv := rsaKey(0)
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock())
	for _, scp := range []any{"a", []string{"a", "b"}} {
		c, err := v.Verify(context.Background(), token(priv, "RS256", "", with(goodClaims(), "scope", nil, "scp", scp)))
		if err != nil || len(c.Scopes) == 0 || c.Scopes[0] != "a" {
			t.Errorf("scp %v: %v, %v", scp, c, err)
		}
	}
}

func TestAlgorithms(t *testing.T) {
	fixtures()
	priv := rsaKey(0)
	ps := jwkOf("ps", priv)
	ps["alg"] = "PS256"
	doc := `{"keys":[` + mustJSON(ps) + `,` + mustJSON(jwkOf("ec", ecKey)) + `,` + mustJSON(jwkOf("ed", edKey)) + `]}`
	keys, err := ParseJWKS([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	v := newTestVerifier(t, keys, newClock())
	for _, tc := range []struct {
		name, tok string
		want      error
	}{
		{"PS256 for a key that names it", token(priv, "PS256", "ps", goodClaims()), nil},
		{"RS256 for a key that names PS256", token(priv, "RS256", "ps", goodClaims()), authorizer.ErrTokenAlgorithm},
		{"ES256", token(ecKey, "ES256", "ec", goodClaims()), nil},
		{"EdDSA", token(edKey, "EdDSA", "ed", goodClaims()), nil},
		{"ES256 token naming the Ed25519 key", token(ecKey, "ES256", "ed", goodClaims()), authorizer.ErrTokenAlgorithm},
		{"no kid, tried against fitting keys", token(ecKey, "ES256", "", goodClaims()), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), tc.tok)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v; want %v", err, tc.want)
			}
		})
	}
}

func TestLeeways(t *testing.T) {
	priv := rsaKey(0)
	ctx := context.Background()
	now := testEpoch.Unix()
	tokens := map[string]string{
		"exp 30 s past":   token(priv, "RS256", "", with(goodClaims(), "exp", now-30)),
		"nbf 30 s ahead":  token(priv, "RS256", "", with(goodClaims(), "nbf", now+30)),
		"iat 30 s ahead":  token(priv, "RS256", "", with(goodClaims(), "iat", now+30)),
		"exp 100 s past":  token(priv, "RS256", "", with(goodClaims(), "exp", now-100)),
		"nbf 100 s ahead": token(priv, "RS256", "", with(goodClaims(), "nbf", now+100)),
	}
	check := func(v *Verifier, name string, ok bool) {
		t.Helper()
		_, err := v.Verify(ctx, tokens[name])
		if (err == nil) != ok {
			t.Errorf("%s: got %v; want accepted=%v", name, err, ok)
		}
	}
	def := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock())
	check(def, "exp 30 s past", true)
	check(def, "nbf 30 s ahead", true)
	check(def, "iat 30 s ahead", true)
	check(def, "exp 100 s past", false)
	zero := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock(), WithExpiryLeeway(0), WithNotBeforeLeeway(0))
	check(zero, "exp 30 s past", false)
	check(zero, "nbf 30 s ahead", false)
	check(zero, "iat 30 s ahead", false)
	wide := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock(), WithExpiryLeeway(200*time.Second), WithNotBeforeLeeway(0))
	check(wide, "exp 100 s past", true)
	check(wide, "nbf 30 s ahead", false)
	sep := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock(), WithExpiryLeeway(0), WithNotBeforeLeeway(200*time.Second))
	check(sep, "nbf 100 s ahead", true)
	check(sep, "exp 30 s past", false)
}

func TestInsecureAllowNoExpiryLogsOnce(t *testing.T) {
	priv := rsaKey(0)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock(), InsecureAllowNoExpiry(), WithLogger(logger), WithCacheSize(0))
	tok := token(priv, "RS256", "", with(goodClaims(), "exp", nil))
	for range 3 {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "without exp"); n != 1 {
		t.Errorf("logged %d times; want 1:\n%s", n, logs.String())
	}
	if strings.Contains(logs.String(), tok[:20]) {
		t.Error("log holds the token")
	}
	// A token with an exp is still checked against it.
	_, err := v.Verify(context.Background(), token(priv, "RS256", "", with(goodClaims(), "exp", testEpoch.Unix()-3600)))
	if !errors.Is(err, authorizer.ErrTokenExpired) {
		t.Errorf("got %v; want expired", err)
	}
}

func TestInsecureSkipChecks(t *testing.T) {
	priv := rsaKey(0)
	tok := token(priv, "RS256", "", map[string]any{"exp": testEpoch.Unix() + 60, "userid": "u"})
	v, err := New(StaticKeys(&priv.PublicKey), Expect{}, WithClock(newClock().Now), InsecureSkipIssuerCheck(), InsecureSkipAudienceCheck())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
}

func TestErrorsHoldNoToken(t *testing.T) {
	priv := rsaKey(0)
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock())
	secretSub := "sub-SECRET-VALUE"
	for _, tok := range []string{
		token(priv, "RS256", "", with(goodClaims(), "sub", secretSub, "exp", 1)),
		token(rsaKey(1), "RS256", "kid-SECRET-VALUE", with(goodClaims(), "sub", secretSub)),
		token(priv, "RS256", "", with(goodClaims(), "sub", secretSub, "iss", "iss-SECRET-VALUE")),
		"a.b.c" + secretSub,
	} {
		_, err := v.Verify(context.Background(), tok)
		if err == nil {
			t.Fatal("accepted")
		}
		msg := err.Error()
		if strings.Contains(msg, "SECRET") || strings.Contains(msg, tok[:16]) {
			t.Errorf("error %q holds token content", msg)
		}
	}
}

func TestNewConfigErrors(t *testing.T) {
	priv := rsaKey(0)
	good := Expect{Issuer: testIssuer, Audience: []string{testAudience}}
	keys := StaticKeys(&priv.PublicKey)
	for _, tc := range []struct {
		name    string
		keys    KeySource
		want    Expect
		opts    []Option
		setting string
	}{
		{"nil keys", nil, good, nil, "verify.New keys"},
		{"no issuer", keys, Expect{Audience: good.Audience}, nil, "verify.Expect.Issuer"},
		{"no audience", keys, Expect{Issuer: testIssuer}, nil, "verify.Expect.Audience"},
		{"empty audience", keys, Expect{Issuer: testIssuer, Audience: []string{""}}, nil, "verify.Expect.Audience"},
		{"negative expiry leeway", keys, good, []Option{WithExpiryLeeway(-1)}, "verify.WithExpiryLeeway"},
		{"negative nbf leeway", keys, good, []Option{WithNotBeforeLeeway(-1)}, "verify.WithNotBeforeLeeway"},
		{"negative cache", keys, good, []Option{WithCacheSize(-1)}, "verify.WithCacheSize"},
		{"source option to New", keys, good, []Option{WithMinRefreshInterval(time.Second)}, "verify.WithMinRefreshInterval"},
		{"zero option", keys, good, []Option{{}}, "verify.New"},
		{"small RSA key", StaticKeys(&smallRSA().PublicKey), good, nil, "verify.StaticKeys"},
		{"no static key", StaticKeys(), good, nil, "verify.StaticKeys"},
		{"unsupported key type", StaticKeys("not a key"), good, nil, "verify.StaticKeys"},
		{"http JWKS", JWKS("http://keys.example/jwks"), good, nil, "verify.JWKS"},
		{"relative JWKS", JWKS("/jwks"), good, nil, "verify.JWKS"},
		{"bad PEMURL", PEMURL("ftp://keys.example/pem"), good, nil, "verify.PEMURL"},
		{"http Discover", Discover("http://id.example"), good, nil, "verify.Discover"},
		{"verifier option to JWKS", JWKS("https://k.example", WithCacheSize(1)), good, nil, "verify.WithCacheSize"},
		{"zero refresh interval", JWKS("https://k.example", WithMinRefreshInterval(0)), good, nil, "verify.WithMinRefreshInterval"},
		{"bad keys age", JWKS("https://k.example", WithKeysAge(time.Hour, time.Minute)), good, nil, "verify.WithKeysAge"},
		{"zero fetch timeout", JWKS("https://k.example", WithFetchTimeout(0)), good, nil, "verify.WithFetchTimeout"},
		{"cognito bad region", nil, Expect{}, []Option{Cognito("nowhere", "eu-west-1_abc", "access", "c")}, "verify.Cognito"},
		{"cognito pool of another region", nil, Expect{}, []Option{Cognito("eu-west-1", "us-east-1_abc", "access", "c")}, "verify.Cognito"},
		{"cognito bad token use", nil, Expect{}, []Option{Cognito("eu-west-1", "eu-west-1_abc", "refresh", "c")}, "verify.Cognito"},
		{"cognito no client", nil, Expect{}, []Option{Cognito("eu-west-1", "eu-west-1_abc", "id")}, "verify.Cognito"},
		{"cognito other issuer", nil, Expect{Issuer: testIssuer}, []Option{Cognito("eu-west-1", "eu-west-1_abc", "id", "c")}, "verify.Expect.Issuer"},
		{"cognito with audience", nil, Expect{Audience: []string{"x"}}, []Option{Cognito("eu-west-1", "eu-west-1_abc", "id", "c")}, "verify.Expect.Audience"},
		{"cognito, keys given, source option", keys, Expect{}, []Option{Cognito("eu-west-1", "eu-west-1_abc", "id", "c"), WithFetchTimeout(time.Second)}, "verify.WithFetchTimeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.keys, tc.want, tc.opts...)
			var ce *authorizer.InvalidConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v; want *authorizer.InvalidConfigError", err)
			}
			if ce.Setting != tc.setting {
				t.Errorf("Setting = %q; want %q (%v)", ce.Setting, tc.setting, err)
			}
		})
	}
}

// TestNoKidTriesAtMostFourKeys: a token without kid is tried against the
// keys that fit its algorithm, at most four.
func TestNoKidTriesAtMostFourKeys(t *testing.T) {
	set := func(decoys int) KeySource {
		var parts []string
		for i := range decoys {
			parts = append(parts, mustJSON(jwkOf(fmt.Sprint("decoy-", i), rsaKey(1))))
		}
		parts = append(parts, mustJSON(jwkOf("real", rsaKey(0))))
		keys, err := ParseJWKS([]byte(`{"keys":[` + strings.Join(parts, ",") + `]}`))
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}
	tok := token(rsaKey(0), "RS256", "", goodClaims())
	if _, err := newTestVerifier(t, set(3), newClock()).Verify(context.Background(), tok); err != nil {
		t.Errorf("real key fourth: %v", err)
	}
	_, err := newTestVerifier(t, set(4), newClock()).Verify(context.Background(), tok)
	if !errors.Is(err, authorizer.ErrTokenSignature) {
		t.Errorf("real key fifth: got %v; want ErrTokenSignature", err)
	}
}

// TestDecodeCopies: what Decode hands out does not alias the (shared,
// cached) claims.
func TestDecodeCopies(t *testing.T) {
	priv := rsaKey(0)
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock())
	tok := token(priv, "RS256", "", with(goodClaims(), "permissions", []string{"p1"}))
	c, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		P json.RawMessage `json:"permissions"`
	}
	if err := c.Decode(&raw); err != nil {
		t.Fatal(err)
	}
	for i := range raw.P {
		raw.P[i] = 'X'
	}
	again, _ := v.Verify(context.Background(), tok)
	var list struct {
		P []string `json:"permissions"`
	}
	if err := again.Decode(&list); err != nil || len(list.P) != 1 || list.P[0] != "p1" {
		t.Fatalf("claims changed through Decode's result: %v %v", list, err)
	}
}

func TestScopesSplitOnSpaces(t *testing.T) {
	priv := rsaKey(0)
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock())
	c, err := v.Verify(context.Background(), token(priv, "RS256", "", with(goodClaims(), "scope", "  a b  c d e f ")))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.Scopes, ","); got != "a,b,c,d,e,f" {
		t.Errorf("Scopes = %q", got)
	}
}
