package verify

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// Probes of the promises in the package doc, the doc comments and
// README.md's section on receiving services, one test per promise (a reviewer's pass).

func probeVerifier(t *testing.T, opts ...Option) (*Verifier, *clock) {
	t.Helper()
	c := newClock()
	return newTestVerifier(t, StaticKeys(&rsaKey(0).PublicKey), c, opts...), c
}

func wantReason(t *testing.T, err error, r authorizer.TokenReason) {
	t.Helper()
	var bad *authorizer.InvalidTokenError
	if !errors.As(err, &bad) || bad.Reason != r {
		t.Fatalf("err = %v, want reason %v", err, r)
	}
	if !errors.Is(err, r.Sentinel()) {
		t.Fatalf("errors.Is(%v, %v) = false", err, r.Sentinel())
	}
}

// "bad base64url (non-canonical encodings included)": Go's base64 decoder
// skips CR and LF even in Strict mode, so a token with a newline inside
// its signature segment is another spelling of the same token.
func TestProbeNewlineInSegmentRefused(t *testing.T) {
	v, _ := probeVerifier(t)
	tok := token(rsaKey(0), "RS256", "", goodClaims())
	i := strings.LastIndexByte(tok, '.')
	for _, bad := range []string{
		tok[:i+5] + "\n" + tok[i+5:],
		tok[:i+5] + "\r\n" + tok[i+5:],
		tok + "\n",
	} {
		_, err := v.Verify(context.Background(), bad)
		wantReason(t, err, authorizer.TokenMalformed)
	}
}

// "duplicate members": encoding/json matches member names
// case-insensitively and lets the last one win, so "permissions" and
// "Permissions" are duplicates for Decode (and "iss"/"ISS" make Decode
// disagree with Claims.Issuer).
func TestProbeCaseVariantDuplicatesRefused(t *testing.T) {
	v, _ := probeVerifier(t)
	for _, extra := range []string{
		`"permissions":["read"],"Permissions":["admin"]`,
		`"iss":"` + testIssuer + `","ISS":"https://evil.example"`,
		`"\u212aey":1,"key":2`, // KELVIN SIGN folds to k in encoding/json
	} {
		c := goodClaims()
		delete(c, "iss")
		body, _ := json.Marshal(c)
		payload := `{` + extra + `,` + string(body[1:])
		if !strings.Contains(extra, `"iss"`) {
			payload = `{"iss":"` + testIssuer + `",` + extra + `,` + string(body[1:])
		}
		tok := signRaw("RS256", rawSeg(`{"alg":"RS256"}`)+"."+rawSeg(payload), rsaKey(0))
		_, err := v.Verify(context.Background(), tok)
		wantReason(t, err, authorizer.TokenMalformed)
	}
}

type rawClaims struct{ m map[string]any }

func (r *rawClaims) UnmarshalJSON(b []byte) error { return json.Unmarshal(b, &r.m) }

// Decode: "the same result" as encoding/json on the whole claims, also for
// a struct type that unmarshals itself (its fields say nothing about what
// it reads).
func TestProbeDecodeUnmarshalerSeesAllClaims(t *testing.T) {
	v, _ := probeVerifier(t)
	c, err := v.Verify(context.Background(), token(rsaKey(0), "RS256", "", with(goodClaims(), "permissions", []string{"a"})))
	if err != nil {
		t.Fatal(err)
	}
	var r rawClaims
	if err := c.Decode(&r); err != nil {
		t.Fatal(err)
	}
	if r.m["sub"] != "user-1" || r.m["permissions"] == nil {
		t.Fatalf("UnmarshalJSON saw %v, want every claim", r.m)
	}
}

// Decode of odd types is an error, not a silent zero.
func TestProbeDecodeOddTypes(t *testing.T) {
	v, _ := probeVerifier(t)
	c, err := v.Verify(context.Background(), token(rsaKey(0), "RS256", "", with(goodClaims(), "permissions", "read")))
	if err != nil {
		t.Fatal(err)
	}
	var extra struct {
		Permissions []string `json:"permissions"`
	}
	if err := c.Decode(&extra); err == nil {
		t.Fatal("a string decoded into []string without error")
	}
	var all map[string]any
	if err := c.Decode(&all); err != nil || all["iss"] != testIssuer {
		t.Fatalf("Decode(map) = %v, %v", all, err)
	}
}

// Cognito access tokens: aws-jwt-verify checks the client_id claim and
// nothing else; Claims.ClientID falls back to azp, which must not stand in
// for client_id here.
func TestProbeCognitoAccessNeedsClientIDClaim(t *testing.T) {
	const region, pool = "eu-west-1", "eu-west-1_AbC123"
	c := newClock()
	v, err := New(StaticKeys(&rsaKey(0).PublicKey), Expect{}, WithClock(c.Now), Cognito(region, pool, "access", "client-1"))
	if err != nil {
		t.Fatal(err)
	}
	base := func() map[string]any {
		return map[string]any{"iss": CognitoIssuer(region, pool), "sub": "u", "token_use": "access",
			"exp": testEpoch.Unix() + 600, "iat": testEpoch.Unix() - 5}
	}
	ctx := context.Background()
	if _, err := v.Verify(ctx, token(rsaKey(0), "RS256", "", with(base(), "client_id", "client-1"))); err != nil {
		t.Fatalf("access token with client_id and no aud: %v", err)
	}
	if _, err := v.Verify(ctx, token(rsaKey(0), "RS256", "", with(base(), "client_id", "client-1", "token_use", "id"))); !errors.Is(err, authorizer.ErrTokenUse) {
		t.Fatalf("token_use id for an access verifier: %v", err)
	}
	if _, err := v.Verify(ctx, token(rsaKey(0), "RS256", "", with(base(), "client_id", "client-2", "aud", "client-1"))); !errors.Is(err, authorizer.ErrTokenAudience) {
		t.Fatalf("access token with another client_id but aud ours: %v", err)
	}
	_, err = v.Verify(ctx, token(rsaKey(0), "RS256", "", with(base(), "azp", "client-1")))
	wantReason(t, err, authorizer.TokenAudience)
}

func TestProbeCognitoIDToken(t *testing.T) {
	const region, pool = "us-gov-west-1", "us-gov-west-1_x9"
	c := newClock()
	v, err := New(StaticKeys(&rsaKey(0).PublicKey), Expect{}, WithClock(c.Now), Cognito(region, pool, "id", "client-1"))
	if err != nil {
		t.Fatal(err)
	}
	base := func() map[string]any {
		return map[string]any{"iss": CognitoIssuer(region, pool), "sub": "u", "token_use": "id",
			"exp": testEpoch.Unix() + 600}
	}
	ctx := context.Background()
	for _, aud := range []any{"client-1", []string{"x", "client-1"}} {
		if _, err := v.Verify(ctx, token(rsaKey(0), "RS256", "", with(base(), "aud", aud))); err != nil {
			t.Fatalf("ID token aud %v: %v", aud, err)
		}
	}
	_, err = v.Verify(ctx, token(rsaKey(0), "RS256", "", with(base(), "client_id", "client-1", "aud", "other")))
	wantReason(t, err, authorizer.TokenAudience)
	_, err = v.Verify(ctx, token(rsaKey(0), "RS256", "", with(base(), "aud", "client-1", "iss", CognitoIssuer(region, "us-gov-west-1_other"))))
	wantReason(t, err, authorizer.TokenIssuer)
}

func TestProbeCognitoConfig(t *testing.T) {
	keys := StaticKeys(&rsaKey(0).PublicKey)
	for name, tc := range map[string]struct {
		want Expect
		opt  Option
	}{
		"bad region":     {Expect{}, Cognito("EU-WEST-1", "EU-WEST-1_a", "access", "c")},
		"pool of other":  {Expect{}, Cognito("eu-west-1", "eu-west-2_a", "access", "c")},
		"bad token use":  {Expect{}, Cognito("eu-west-1", "eu-west-1_a", "refresh", "c")},
		"no client":      {Expect{}, Cognito("eu-west-1", "eu-west-1_a", "access")},
		"empty client":   {Expect{}, Cognito("eu-west-1", "eu-west-1_a", "access", "")},
		"audience given": {Expect{Audience: []string{"c"}}, Cognito("eu-west-1", "eu-west-1_a", "access", "c")},
		"other issuer":   {Expect{Issuer: "https://x"}, Cognito("eu-west-1", "eu-west-1_a", "access", "c")},
	} {
		_, err := New(keys, tc.want, tc.opt)
		var ic *authorizer.InvalidConfigError
		if !errors.As(err, &ic) {
			t.Errorf("%s: err = %v, want InvalidConfigError", name, err)
		}
	}
}

// Scopes: "the scp claim (a string or an array of strings)". Entra ID's scp
// is one space-separated string.
func TestProbeScpStringIsSpaceSeparated(t *testing.T) {
	v, _ := probeVerifier(t)
	c, err := v.Verify(context.Background(), token(rsaKey(0), "RS256", "", with(goodClaims(), "scope", nil, "scp", "User.Read Mail.Read")))
	if err != nil {
		t.Fatal(err)
	}
	if !c.HasScope("User.Read", "Mail.Read") {
		t.Fatalf("Scopes = %q", c.Scopes)
	}
	c, err = v.Verify(context.Background(), token(rsaKey(0), "RS256", "", with(goodClaims(), "scope", nil, "scp", []string{"a", "b"})))
	if err != nil || !c.HasScope("a", "b") || c.HasScope("c") {
		t.Fatalf("scp array: %v %q", err, c.Scopes)
	}
}

// NumericDate: fractions allowed (whole seconds kept), negative and absurd
// values refused, exp 0 expired, huge but allowed values work.
func TestProbeNumericDates(t *testing.T) {
	v, _ := probeVerifier(t)
	now := testEpoch.Unix()
	ctx := context.Background()
	lit := func(exp string) string {
		payload := fmt.Sprintf(`{"iss":%q,"aud":%q,"exp":%s}`, testIssuer, testAudience, exp)
		return signRaw("RS256", rawSeg(`{"alg":"RS256"}`)+"."+rawSeg(payload), rsaKey(0))
	}
	c, err := v.Verify(ctx, lit(fmt.Sprintf("%d.75", now+100)))
	if err != nil || c.Expiry.Unix() != now+100 {
		t.Fatalf("fractional exp: %v %v", c, err)
	}
	if _, err := v.Verify(ctx, lit(fmt.Sprintf("%de0", now+100))); err != nil {
		t.Fatalf("exponent form: %v", err)
	}
	if _, err := v.Verify(ctx, lit("1e15")); err != nil {
		t.Fatalf("exp 1e15: %v", err)
	}
	for _, bad := range []string{"-1", "-0", "1e16", "1e400", `"1900000000"`, "null", "true", "[1900000000]"} {
		_, err := v.Verify(ctx, lit(bad))
		wantReason(t, err, authorizer.TokenMalformed)
	}
	_, err = v.Verify(ctx, lit("0"))
	wantReason(t, err, authorizer.TokenExpired)
}

// A token with a far exp (past year 2262, beyond UnixNano) is still cached:
// "a repeated token costs a map lookup, no allocation".
func TestProbeHugeExpiryCached(t *testing.T) {
	v, c := probeVerifier(t)
	tok := token(rsaKey(0), "RS256", "", with(goodClaims(), "exp", int64(1e15)))
	first, err := v.Verify(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	c.Add(time.Hour)
	again, err := v.Verify(context.Background(), tok)
	if err != nil || again != first {
		t.Fatal("exp past 2262 overflows the cache's UnixNano deadline; the token is verified afresh every time")
	}
}

// Leeways: boundaries, separate options, 0 allowed.
func TestProbeLeeways(t *testing.T) {
	ctx := context.Background()
	now := testEpoch.Unix()
	v, _ := probeVerifier(t)
	if _, err := v.Verify(ctx, token(rsaKey(0), "RS256", "", with(goodClaims(), "exp", now-59))); err != nil {
		t.Fatalf("exp 59 s past, default leeway: %v", err)
	}
	_, err := v.Verify(ctx, token(rsaKey(0), "RS256", "", with(goodClaims(), "exp", now-60)))
	wantReason(t, err, authorizer.TokenExpired)
	if _, err := v.Verify(ctx, token(rsaKey(0), "RS256", "", with(goodClaims(), "nbf", now+60, "iat", now+60))); err != nil {
		t.Fatalf("nbf/iat 60 s ahead: %v", err)
	}
	_, err = v.Verify(ctx, token(rsaKey(0), "RS256", "", with(goodClaims(), "iat", now+61)))
	wantReason(t, err, authorizer.TokenNotYetValid)

	z, _ := probeVerifier(t, WithExpiryLeeway(0), WithNotBeforeLeeway(0))
	_, err = z.Verify(ctx, token(rsaKey(0), "RS256", "", with(goodClaims(), "exp", now)))
	wantReason(t, err, authorizer.TokenExpired)
	_, err = z.Verify(ctx, token(rsaKey(0), "RS256", "", with(goodClaims(), "nbf", now+1)))
	wantReason(t, err, authorizer.TokenNotYetValid)
	if _, err := z.Verify(ctx, token(rsaKey(0), "RS256", "", with(goodClaims(), "exp", now+1, "nbf", now))); err != nil {
		t.Fatalf("zero leeway, valid token: %v", err)
	}
	// Separate: a big exp leeway does not widen nbf.
	s, _ := probeVerifier(t, WithExpiryLeeway(time.Hour), WithNotBeforeLeeway(0))
	_, err = s.Verify(ctx, token(rsaKey(0), "RS256", "", with(goodClaims(), "nbf", now+30)))
	wantReason(t, err, authorizer.TokenNotYetValid)
}

// A token accepted inside the exp leeway is not cached past exp.
func TestProbeCacheEndsAtExpNotLeeway(t *testing.T) {
	v, c := probeVerifier(t, WithExpiryLeeway(time.Minute))
	tok := token(rsaKey(0), "RS256", "", with(goodClaims(), "exp", testEpoch.Unix()+10))
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	c.Add(80 * time.Second) // past exp + leeway
	_, err := v.Verify(context.Background(), tok)
	wantReason(t, err, authorizer.TokenExpired)
}

// Audience: string or array; empty array, null and odd members refused.
func TestProbeAudienceShapes(t *testing.T) {
	v, _ := probeVerifier(t)
	ctx := context.Background()
	for _, aud := range []any{testAudience, []string{testAudience}, []string{"other", testAudience}} {
		if _, err := v.Verify(ctx, token(rsaKey(0), "RS256", "", with(goodClaims(), "aud", aud))); err != nil {
			t.Fatalf("aud %v: %v", aud, err)
		}
	}
	_, err := v.Verify(ctx, token(rsaKey(0), "RS256", "", with(goodClaims(), "aud", []string{})))
	wantReason(t, err, authorizer.TokenAudience)
	_, err = v.Verify(ctx, token(rsaKey(0), "RS256", "", with(goodClaims(), "aud", []any{testAudience, 1})))
	wantReason(t, err, authorizer.TokenMalformed)
	_, err = v.Verify(ctx, token(rsaKey(0), "RS256", "", with(goodClaims(), "aud", testAudience+" ")))
	wantReason(t, err, authorizer.TokenAudience)
}

// Header parameters that are refused, crit whatever its value.
func TestProbeHeaderParameters(t *testing.T) {
	v, _ := probeVerifier(t)
	claims := seg(goodClaims())
	for _, h := range []string{
		`{"alg":"RS256","crit":[]}`,
		`{"alg":"RS256","crit":["exp"],"exp":1}`,
		`{"alg":"RS256","b64":true}`,
		`{"alg":"RS256","zip":"DEF"}`,
		`{"alg":"RS256","enc":"A128GCM"}`,
		`{"alg":"RS256","x5c":["MIIB"]}`,
		`{"alg":"RS256","alg":"RS256"}`,
		`{"alg":"RS256","kid":null}`,
	} {
		_, err := v.Verify(context.Background(), signRaw("RS256", rawSeg(h)+"."+claims, rsaKey(0)))
		wantReason(t, err, authorizer.TokenMalformed)
	}
	for _, h := range []string{`{"alg":"none"}`, `{"alg":"HS256"}`, `{"alg":"RS1"}`, `{"kid":"a"}`} {
		_, err := v.Verify(context.Background(), signRaw("RS256", rawSeg(h)+"."+claims, rsaKey(0)))
		wantReason(t, err, authorizer.TokenAlgorithm)
	}
}

// "A token without kid is tried against the keys that fit its algorithm,
// at most four."
func TestProbeKidlessAtMostFour(t *testing.T) {
	pubs := func(n int) []any {
		var out []any
		for i := range n {
			out = append(out, &rsaKey(10+i).PublicKey)
		}
		return out
	}
	ctx := context.Background()
	for _, tc := range []struct {
		n, signer int
		ok        bool
	}{{4, 3, true}, {5, 4, false}} {
		fixtures()
		ks := []crypto.PublicKey{edKey.Public()} // does not fit RS256: not counted
		for _, p := range pubs(tc.n) {
			ks = append(ks, p)
		}
		v := newTestVerifier(t, StaticKeys(ks...), newClock())
		_, err := v.Verify(ctx, token(rsaKey(10+tc.signer), "RS256", "", goodClaims()))
		if (err == nil) != tc.ok {
			t.Fatalf("%d keys, signer %d: err = %v, want ok %v", tc.n, tc.signer, err, tc.ok)
		}
		if !tc.ok {
			wantReason(t, err, authorizer.TokenSignature)
		}
		// A kid the keys do not have is tried against kid-less keys too.
		if _, err := v.Verify(ctx, token(rsaKey(10), "RS256", "whatever", goodClaims())); err != nil {
			t.Fatalf("kid against kid-less static keys: %v", err)
		}
	}
}

// Option and Expect validation.
func TestProbeOptionValidation(t *testing.T) {
	keys := StaticKeys(&rsaKey(0).PublicKey)
	want := Expect{Issuer: testIssuer, Audience: []string{testAudience}}
	bad := map[string]func() (*Verifier, error){
		"verify.WithExpiryLeeway":       func() (*Verifier, error) { return New(keys, want, WithExpiryLeeway(-1)) },
		"verify.WithNotBeforeLeeway":    func() (*Verifier, error) { return New(keys, want, WithNotBeforeLeeway(-1)) },
		"verify.WithCacheSize":          func() (*Verifier, error) { return New(keys, want, WithCacheSize(-1)) },
		"verify.WithMinRefreshInterval": func() (*Verifier, error) { return New(keys, want, WithMinRefreshInterval(time.Second)) },
		"verify.WithHTTPClient":         func() (*Verifier, error) { return New(keys, want, WithHTTPClient(nil)) },
		"verify.Expect.Issuer":          func() (*Verifier, error) { return New(keys, Expect{Audience: want.Audience}) },
		"verify.Expect.Audience":        func() (*Verifier, error) { return New(keys, Expect{Issuer: testIssuer, Audience: []string{""}}) },
		"verify.New":                    func() (*Verifier, error) { return New(keys, want, Option{}) },
		"verify.New keys":               func() (*Verifier, error) { return New(nil, want) },
	}
	src := map[string]KeySource{
		"verify.WithCacheSize":          JWKS("https://k.example/jwks", WithCacheSize(1)),
		"verify.WithMinRefreshInterval": JWKS("https://k.example/jwks", WithMinRefreshInterval(0)),
		"verify.WithKeysAge":            JWKS("https://k.example/jwks", WithKeysAge(time.Hour, time.Minute)),
		"verify.WithFetchTimeout":       PEMURL("https://k.example/pem", WithFetchTimeout(-1)),
		"verify.JWKS":                   JWKS("http://k.example/jwks"),
		"verify.Discover":               Discover("ftp://k.example"),
	}
	for name, s := range src {
		bad[name+" (source)"] = func() (*Verifier, error) { return New(s, want) }
	}
	for name, f := range bad {
		v, err := f()
		var ic *authorizer.InvalidConfigError
		if v != nil || !errors.As(err, &ic) || !strings.HasPrefix(ic.Setting, strings.TrimSuffix(name, " (source)")) {
			t.Errorf("%s: v=%v err=%v, want InvalidConfigError naming it", name, v, err)
		}
	}
	// nil logger and clock mean the defaults; 0 leeways and cache size are valid.
	if _, err := New(keys, want, WithLogger(nil), WithClock(nil), WithCacheSize(0), WithExpiryLeeway(0)); err != nil {
		t.Fatal(err)
	}
	// Loopback http, and InsecureAllowHTTP for other hosts, are accepted.
	for _, s := range []KeySource{JWKS("http://127.0.0.1:1/jwks"), JWKS("http://[::1]:1/x"), JWKS("http://k.example/jwks", InsecureAllowHTTP())} {
		if _, err := New(s, want); err != nil {
			t.Errorf("New: %v", err)
		}
	}
}

type countHandler struct {
	mu   sync.Mutex
	recs []string
}

func (h *countHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *countHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	h.recs = append(h.recs, b.String())
	return nil
}
func (h *countHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countHandler) WithGroup(string) slog.Handler      { return h }
func (h *countHandler) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.recs...)
}

// InsecureAllowNoExpiry "logs once" per Verifier; a token with exp is still
// checked against it.
func TestProbeNoExpiryLogsOnce(t *testing.T) {
	h := &countHandler{}
	v, _ := probeVerifier(t, InsecureAllowNoExpiry(), WithLogger(slog.New(h)), WithCacheSize(0))
	for i := range 3 {
		tok := token(rsaKey(0), "RS256", "", with(goodClaims(), "exp", nil, "jti", fmt.Sprint(i)))
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(h.all()); n != 1 {
		t.Fatalf("%d log records, want 1", n)
	}
	_, err := v.Verify(context.Background(), token(rsaKey(0), "RS256", "", with(goodClaims(), "exp", testEpoch.Unix()-3600)))
	wantReason(t, err, authorizer.TokenExpired)
	// Without the option: refused.
	s, _ := probeVerifier(t)
	_, err = s.Verify(context.Background(), token(rsaKey(0), "RS256", "", with(goodClaims(), "exp", nil)))
	wantReason(t, err, authorizer.TokenExpired)
}

// "no detail that helps an attacker": error strings hold no claim value or
// token part; the middleware's 401 body and header say nothing more.
func TestProbeNoAttackerDetail(t *testing.T) {
	v, _ := probeVerifier(t)
	const marker = "ZZmarkerZZ"
	toks := []string{
		token(rsaKey(0), "RS256", "", with(goodClaims(), "iss", marker)),
		token(rsaKey(0), "RS256", "", with(goodClaims(), "aud", marker)),
		token(rsaKey(1), "RS256", marker, goodClaims()),
		token(rsaKey(1), "RS256", "", with(goodClaims(), "sub", marker)),
		signRaw("RS256", rawSeg(`{"alg":"`+marker+`"}`)+"."+seg(goodClaims()), rsaKey(0)),
	}
	h := Middleware(v)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { t.Error("handler called") }))
	for _, tok := range toks {
		_, err := v.Verify(context.Background(), tok)
		if err == nil || strings.Contains(err.Error(), marker) || strings.Contains(err.Error(), tok[:20]) {
			t.Errorf("error %q", err)
		}
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		h.ServeHTTP(w, r)
		if w.Code != 401 || w.Header().Get("WWW-Authenticate") != `Bearer error="invalid_token"` ||
			strings.TrimSpace(w.Body.String()) != "Unauthorized" {
			t.Errorf("answer %d %q %q", w.Code, w.Header().Get("WWW-Authenticate"), w.Body.String())
		}
	}
}

// RFC 6750 §3: 403 insufficient_scope names the scope; ClaimsFrom is nil
// outside the middleware and the claims inside it.
func TestProbeMiddlewareScopeAndClaims(t *testing.T) {
	v, _ := probeVerifier(t)
	if ClaimsFrom(context.Background()) != nil {
		t.Fatal("ClaimsFrom on a bare context")
	}
	var got *Claims
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got = ClaimsFrom(r.Context()) })
	tok := token(rsaKey(0), "RS256", "", goodClaims()) // scope "read write"
	serve := func(h http.Handler) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		h.ServeHTTP(w, r)
		return w
	}
	w := serve(Middleware(v, WithRealm("api"), RequireScope("read"), RequireScope("admin"))(next))
	if w.Code != 403 || w.Header().Get("WWW-Authenticate") != `Bearer realm="api", error="insufficient_scope", scope="read admin"` {
		t.Fatalf("403: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	if got != nil {
		t.Fatal("handler ran without the scope")
	}
	w = serve(Middleware(v, RequireScope("write", "read"))(next))
	if w.Code != 200 || got == nil || got.Subject != "user-1" {
		t.Fatalf("200: %d %v", w.Code, got)
	}
}

// Keys down: an unknown kid is refused fast, typed, Temporary, and the
// middleware answers 503 with Retry-After; a known kid still works.
func TestProbeKeysDownUnknownKid(t *testing.T) {
	s := newJWKSServer(t, jwkOf("k1", rsaKey(0)))
	c := newClock()
	keys := JWKS(s.URL, WithMinRefreshInterval(time.Second))
	defer keys.Close()
	v := newTestVerifier(t, keys, c)
	ctx := context.Background()
	if _, err := v.Verify(ctx, token(rsaKey(0), "RS256", "k1", goodClaims())); err != nil {
		t.Fatal(err)
	}
	s.setDown(true)
	c.Add(2 * time.Second)
	_, err := v.Verify(ctx, token(rsaKey(1), "RS256", "k2", goodClaims()))
	var bad *authorizer.InvalidTokenError
	if !errors.As(err, &bad) || !errors.Is(err, authorizer.ErrTokenUnknownKey) || !bad.Temporary() {
		t.Fatalf("unknown kid, URL down: %v", err)
	}
	n := s.fetches.Load()
	for range 20 {
		_, err = v.Verify(ctx, token(rsaKey(1), "RS256", "k2", with(goodClaims(), "jti", "other")))
		if !errors.Is(err, authorizer.ErrTokenUnknownKey) {
			t.Fatal(err)
		}
	}
	if s.fetches.Load() != n {
		t.Fatalf("%d more fetches while backing off", s.fetches.Load()-n)
	}
	if _, err := v.Verify(ctx, token(rsaKey(0), "RS256", "k1", with(goodClaims(), "jti", "x"))); err != nil {
		t.Fatalf("held key while down: %v", err)
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer "+token(rsaKey(1), "RS256", "k2", goodClaims()))
	Middleware(v)(http.NotFoundHandler()).ServeHTTP(w, r)
	if w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("middleware: %d %q", w.Code, w.Header().Get("Retry-After"))
	}
}

// "at most one fetch per interval" for a flood; a rotated key after the
// flood is accepted one interval later.
func TestProbeFloodThenRotate(t *testing.T) {
	s := newJWKSServer(t, jwkOf("k1", rsaKey(0)))
	c := newClock()
	keys := JWKS(s.URL)
	defer keys.Close()
	v := newTestVerifier(t, keys, c)
	ctx := context.Background()
	if _, err := v.Verify(ctx, token(rsaKey(0), "RS256", "k1", goodClaims())); err != nil {
		t.Fatal(err)
	}
	c.Add(DefaultMinRefreshInterval)
	for i := range 50 {
		v.Verify(ctx, token(rsaKey(0), "RS256", fmt.Sprint("rand-", i), goodClaims()))
	}
	if n := s.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2 (first use + one for the flood)", n)
	}
	s.publish(jwkOf("k1", rsaKey(0)), jwkOf("k2", rsaKey(1)))
	rot := token(rsaKey(1), "RS256", "k2", goodClaims())
	if _, err := v.Verify(ctx, rot); !errors.Is(err, authorizer.ErrTokenUnknownKey) {
		t.Fatalf("within the interval: %v", err)
	}
	c.Add(DefaultMinRefreshInterval)
	if _, err := v.Verify(ctx, rot); err != nil {
		t.Fatalf("one interval later: %v", err)
	}
}

// A key whose first token arrives before the provider's JWKS lists it (a
// CDN or replica lagging by seconds) is remembered as unknown; it should
// still be accepted about one interval after it is published.
func TestProbeLatePublishedKey(t *testing.T) {
	s := newJWKSServer(t, jwkOf("k1", rsaKey(0)))
	c := newClock()
	keys := JWKS(s.URL)
	defer keys.Close()
	v := newTestVerifier(t, keys, c)
	ctx := context.Background()
	if _, err := v.Verify(ctx, token(rsaKey(0), "RS256", "k1", goodClaims())); err != nil {
		t.Fatal(err)
	}
	c.Add(DefaultMinRefreshInterval)
	rot := token(rsaKey(1), "RS256", "k2", goodClaims())
	if _, err := v.Verify(ctx, rot); !errors.Is(err, authorizer.ErrTokenUnknownKey) {
		t.Fatalf("before publication: %v", err)
	}
	s.publish(jwkOf("k1", rsaKey(0)), jwkOf("k2", rsaKey(1)))
	c.Add(2 * DefaultMinRefreshInterval)
	if _, err := v.Verify(ctx, rot); err != nil {
		t.Fatalf("a key published after its first token was seen is still refused two intervals later (the keyfunc failure): %v", err)
	}
}

// Fetch rules: 1 MiB cap, no redirect to another host, use:enc and small
// RSA keys skipped with a log line.
func TestProbeFetchRules(t *testing.T) {
	want := Expect{Issuer: testIssuer, Audience: []string{testAudience}}
	ctx := context.Background()
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := json.Marshal(map[string]any{"keys": []any{jwkOf("k1", rsaKey(0))}})
		w.Write(b[:len(b)-1])
		w.Write(bytes.Repeat([]byte(" "), maxKeySetSize))
		w.Write([]byte("}"))
	}))
	defer big.Close()
	other := newJWKSServer(t, jwkOf("k1", rsaKey(0)))
	redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1), http.StatusFound)
	}))
	defer redir.Close()
	for name, u := range map[string]string{"over 1 MiB": big.URL, "redirect to another host": redir.URL} {
		keys := JWKS(u)
		v, err := New(keys, want, WithClock(newClock().Now))
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(ctx, token(rsaKey(0), "RS256", "k1", goodClaims()))
		var ae *authorizer.AuthorizationError
		if !errors.As(err, &ae) {
			t.Errorf("%s: %v, want AuthorizationError", name, err)
		}
		keys.Close()
	}
	h := &countHandler{}
	enc := jwkOf("k2", rsaKey(1))
	enc["use"] = "enc"
	s := newJWKSServer(t, jwkOf("k1", rsaKey(0)), enc, jwkOf("k3", smallRSA()))
	keys := JWKS(s.URL, WithLogger(slog.New(h)))
	defer keys.Close()
	v, err := New(keys, want, WithClock(newClock().Now))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, token(rsaKey(0), "RS256", "k1", goodClaims())); err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(ctx, token(rsaKey(1), "RS256", "k2", goodClaims()))
	wantReason(t, err, authorizer.TokenUnknownKey)
	if n := len(h.all()); n != 2 {
		t.Fatalf("log records %q, want 2 skipped keys", h.all())
	}
}

// Cognito keys come from the pool's JWKS URL.
func TestProbeCognitoURLs(t *testing.T) {
	if got := CognitoJWKSURL("eu-west-1", "eu-west-1_A"); got != "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_A/.well-known/jwks.json" {
		t.Fatal(got)
	}
}

// Size cap is checked first: exactly MaxTokenSize is decoded, one more is not.
func TestProbeSizeCap(t *testing.T) {
	v, _ := probeVerifier(t)
	tok := token(rsaKey(0), "RS256", "", goodClaims())
	pad := MaxTokenSize - len(tok)
	checked := map[bool]bool{}
	for n := pad*3/4 - 40; n < pad*3/4+40; n++ { // base64: 4 chars per 3 bytes
		filler := strings.Repeat("a", n)
		t2 := token(rsaKey(0), "RS256", "", with(goodClaims(), "pad", filler))
		if len(t2) == MaxTokenSize || len(t2) == MaxTokenSize+1 {
			_, err := v.Verify(context.Background(), t2)
			if (err == nil) != (len(t2) == MaxTokenSize) {
				t.Fatalf("len %d: %v", len(t2), err)
			}
			checked[err == nil] = true
		}
	}
	if !checked[true] {
		t.Fatalf("length %d not reached", MaxTokenSize)
	}
	_, err := v.Verify(context.Background(), strings.Repeat(".", MaxTokenSize+1))
	var bad *authorizer.InvalidTokenError
	if !errors.As(err, &bad) || !strings.Contains(bad.Detail, "16 KiB") {
		t.Fatalf("over the cap: %v", err)
	}
}

// "fetches back off (the interval, doubling, at most 5 min)".
func TestProbeBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second, 6: 5 * time.Minute, 100: 5 * time.Minute} {
		if got := backoff(10*time.Second, n); got != want {
			t.Errorf("backoff(10s, %d) = %v, want %v", n, got, want)
		}
	}
	if got := backoff(10*time.Minute, 3); got != 10*time.Minute {
		t.Errorf("an interval above the cap: %v", got)
	}
}

// Background refresh after the clamped max-age: max-age 60 s counts as
// 15 min, 2 h as 1 h; no max-age means 15 min.
func TestProbeKeysAgeClamp(t *testing.T) {
	for _, tc := range []struct {
		cc  string
		age time.Duration
	}{{"max-age=60", DefaultMinKeysAge}, {"public, max-age=7200", DefaultMaxKeysAge}, {"", DefaultMinKeysAge}, {"max-age=1800", 30 * time.Minute}} {
		s := newJWKSServer(t, jwkOf("k1", rsaKey(0)))
		s.cacheCtl = tc.cc
		c := newClock()
		keys := JWKS(s.URL)
		v := newTestVerifier(t, keys, c)
		tok := token(rsaKey(0), "RS256", "k1", goodClaims())
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatal(err)
		}
		c.Add(tc.age - time.Second)
		v.Verify(context.Background(), tok)
		if n := s.fetches.Load(); n != 1 {
			t.Errorf("%q: %d fetches before %v", tc.cc, n, tc.age)
		}
		c.Add(2 * time.Second)
		v.Verify(context.Background(), tok) // starts the background refresh
		waitIdle(t, keys)
		keys.Close()
		if n := s.fetches.Load(); n != 2 {
			t.Errorf("%q: %d fetches after %v, want 2", tc.cc, n, tc.age)
		}
	}
}

// Close: later verifications that need keys fail with ErrClosed; an ended
// ctx gives an error wrapping ctx.Err() while the fetch goes on.
func TestProbeCloseAndContext(t *testing.T) {
	s := newJWKSServer(t, jwkOf("k1", rsaKey(0)))
	gate := make(chan struct{})
	s.gate = gate
	keys := JWKS(s.URL)
	v := newTestVerifier(t, keys, newClock())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tok := token(rsaKey(0), "RS256", "k1", goodClaims())
	if _, err := v.Verify(ctx, tok); !errors.Is(err, context.Canceled) {
		t.Fatalf("ended ctx: %v", err)
	}
	gate <- struct{}{} // the shared fetch went on
	waitIdle(t, keys)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("after the shared fetch: %v", err)
	}
	keys.Close()
	_, err := v.Verify(context.Background(), token(rsaKey(0), "RS256", "k1", with(goodClaims(), "jti", "new")))
	if !errors.Is(err, authorizer.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if keys.Close() != nil {
		t.Fatal("second Close")
	}
}

// Discover: the metadata's issuer must equal the issuer exactly; RFC 8414
// metadata when discovery answers 404.
func TestProbeDiscover(t *testing.T) {
	jw := newJWKSServer(t, jwkOf("k1", rsaKey(0)))
	var issuer string
	var oidc bool
	var metaIssuer func() string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/tenant/.well-known/openid-configuration" && oidc ||
			r.URL.Path == "/.well-known/oauth-authorization-server/tenant" && !oidc {
			json.NewEncoder(w).Encode(map[string]string{"issuer": metaIssuer(), "jwks_uri": jw.URL})
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	issuer = srv.URL + "/tenant"
	for _, tc := range []struct {
		oidc bool
		iss  string
		ok   bool
	}{{true, issuer, true}, {false, issuer, true}, {true, issuer + "/", false}, {false, srv.URL, false}} {
		oidc, metaIssuer = tc.oidc, func() string { return tc.iss }
		keys := Discover(issuer)
		v, err := New(keys, Expect{Issuer: issuer, Audience: []string{testAudience}}, WithClock(newClock().Now))
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(context.Background(), token(rsaKey(0), "RS256", "k1", with(goodClaims(), "iss", issuer)))
		keys.Close()
		if (err == nil) != tc.ok {
			t.Errorf("oidc %v, metadata issuer %q: %v", tc.oidc, tc.iss, err)
		}
	}
}

// Fixed key sources refuse what they cannot use.
func TestProbeStaticSources(t *testing.T) {
	want := Expect{Issuer: testIssuer, Audience: []string{testAudience}}
	if _, err := New(StaticKeys(&smallRSA().PublicKey), want); err == nil {
		t.Error("RSA 1024 accepted")
	}
	if _, err := New(StaticKeys(), want); err == nil {
		t.Error("no key accepted")
	}
	if _, err := ParsePEM([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")); err == nil {
		t.Error("private key PEM accepted")
	}
	enc := jwkOf("k", rsaKey(0))
	enc["use"] = "enc"
	if _, err := ParseJWKS([]byte(mustJSON(map[string]any{"keys": []any{enc}}))); err == nil {
		t.Error("JWKS of enc keys only accepted")
	}
	priv := jwkOf("k", rsaKey(0))
	priv["d"] = "AQAB"
	if _, err := ParseJWKS([]byte(mustJSON(map[string]any{"keys": []any{priv}}))); err == nil {
		t.Error("JWKS of a private key accepted")
	}
}

// HasScope with no scope asked is true; RequireScope refuses bad scopes.
func TestProbeScopeHelpers(t *testing.T) {
	if !(&Claims{}).HasScope() {
		t.Error("HasScope() = false")
	}
	for _, s := range []string{"", "a b", `a"`, `a\`} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RequireScope(%q) did not panic", s)
				}
			}()
			RequireScope(s)
		}()
	}
}

// waitIdle waits until keys has no fetch in progress (a condition, not a
// timing margin: the deadline only stops a hung test).
func waitIdle(t *testing.T, keys KeySource) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for keys.(*remoteSource).busy() {
		if time.Now().After(deadline) {
			t.Fatal("fetch still in progress after a minute")
		}
		time.Sleep(time.Millisecond)
	}
}

// "duplicate members": inside a claim's value (an object Decode reads),
// encoding/json also keeps the last of two equal names.
func TestProbeNestedDuplicateMembers(t *testing.T) {
	v, _ := probeVerifier(t)
	body, _ := json.Marshal(goodClaims())
	payload := `{"realm_access":{"roles":["user"],"roles":["admin"]},` + string(body[1:])
	tok := signRaw("RS256", rawSeg(`{"alg":"RS256"}`)+"."+rawSeg(payload), rsaKey(0))
	if _, err := v.Verify(context.Background(), tok); err == nil {
		t.Fatal("duplicate members inside a claim value (nested object) are accepted; Decode then keeps the last")
	}
}

// "200 tokens with random kids from 20 goroutines → at most 1 fetch".
func TestProbeConcurrentFlood(t *testing.T) {
	s := newJWKSServer(t, jwkOf("k1", rsaKey(0)))
	c := newClock()
	keys := JWKS(s.URL)
	defer keys.Close()
	v := newTestVerifier(t, keys, c)
	if _, err := v.Verify(context.Background(), token(rsaKey(0), "RS256", "k1", goodClaims())); err != nil {
		t.Fatal(err)
	}
	c.Add(DefaultMinRefreshInterval)
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Go(func() {
			for i := range 10 {
				_, err := v.Verify(context.Background(), token(rsaKey(0), "RS256", fmt.Sprint("r-", g, "-", i), goodClaims()))
				if !errors.Is(err, authorizer.ErrTokenUnknownKey) {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if n := s.fetches.Load(); n > 2 {
		t.Fatalf("%d fetches, want at most 2 (first use + one for the flood)", n)
	}
}
