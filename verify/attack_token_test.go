package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"math/big"
	"strings"
	"testing"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// Attacks on the token itself, beyond TestHostileTokens: every row must be
// refused with an *authorizer.InvalidTokenError of the reason shown, and
// no error string may carry a segment of the token.

// ecSig signs input with ecKey and returns r, s.
func ecSig(input string) (r, s *big.Int) {
	fixtures()
	h := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, ecKey, h[:])
	if err != nil {
		panic(err)
	}
	return r, s
}

func ecRaw(r, s *big.Int) string {
	b := make([]byte, 64)
	r.FillBytes(b[:32])
	s.FillBytes(b[32:])
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestAttackTokens(t *testing.T) {
	priv := rsaKey(0)
	fixtures()
	rs := func(c map[string]any) string { return token(priv, "RS256", "", c) }
	withHeader := func(h string) string {
		return signRaw("RS256", rawSeg(h)+"."+seg(goodClaims()), priv)
	}
	withPayload := func(p string) string {
		return signRaw("RS256", rawSeg(`{"alg":"RS256"}`)+"."+rawSeg(p), priv)
	}
	good := rs(goodClaims())
	parts := strings.Split(good, ".")

	esIn := rawSeg(`{"alg":"ES256"}`) + "." + seg(goodClaims())
	r, s := ecSig(esIn)
	n := elliptic.P256().Params().N
	der, _ := asn1.Marshal(struct{ R, S *big.Int }{r, s})
	zero := big.NewInt(0)
	long := append(append([]byte{0}, r.Bytes()...), s.Bytes()...)

	deep := `{"iss":"` + testIssuer + `","aud":"` + testAudience + `","exp":9999999999,"x":` + strings.Repeat("[", 34) + strings.Repeat("]", 34) + `}`
	bomb := `{"x":` + strings.Repeat("[", 8000) + strings.Repeat("]", 8000) + `}`
	claims := func(extra string) string {
		return `{"iss":"` + testIssuer + `","aud":"` + testAudience + `","exp":` + itoa(testEpoch.Unix()+60) + extra + `}`
	}

	rows := []struct {
		name  string
		token string
		want  error
	}{
		{"alg None", rawSeg(`{"alg":"None"}`) + "." + seg(goodClaims()) + ".c2ln", authorizer.ErrTokenAlgorithm},
		{"alg NONE", rawSeg(`{"alg":"NONE"}`) + "." + seg(goodClaims()) + ".c2ln", authorizer.ErrTokenAlgorithm},
		{"alg nOnE", rawSeg(`{"alg":"nOnE"}`) + "." + seg(goodClaims()) + ".c2ln", authorizer.ErrTokenAlgorithm},
		{"alg rs256 lower case", rawSeg(`{"alg":"rs256"}`) + "." + parts[1] + "." + parts[2], authorizer.ErrTokenAlgorithm},
		{"alg with trailing NUL", rawSeg("{\"alg\":\"RS256\\u0000\"}") + "." + parts[1] + "." + parts[2], authorizer.ErrTokenAlgorithm},
		{"escaped alg key naming none", rawSeg(`{"\u0061lg":"none"}`) + "." + parts[1] + ".c2ln", authorizer.ErrTokenAlgorithm},
		{"escaped alg key duplicating alg", rawSeg(`{"alg":"RS256","\u0061lg":"none"}`) + "." + parts[1] + "." + parts[2], authorizer.ErrTokenMalformed},
		{"Alg (other case) beside alg none", rawSeg(`{"Alg":"RS256","alg":"none"}`) + "." + parts[1] + ".c2ln", authorizer.ErrTokenMalformed}, // names equal but for case are duplicates (as encoding/json reads them)
		{"alg HS512", rawSeg(`{"alg":"HS512"}`) + "." + parts[1] + "." + parts[2], authorizer.ErrTokenAlgorithm},
		{"alg RS1", rawSeg(`{"alg":"RS1"}`) + "." + parts[1] + "." + parts[2], authorizer.ErrTokenAlgorithm},
		{"alg ES256K", rawSeg(`{"alg":"ES256K"}`) + "." + parts[1] + "." + parts[2], authorizer.ErrTokenAlgorithm},
		{"alg as array", rawSeg(`{"alg":["RS256"]}`) + "." + parts[1] + "." + parts[2], authorizer.ErrTokenMalformed},
		{"alg null", rawSeg(`{"alg":null}`) + "." + parts[1] + "." + parts[2], authorizer.ErrTokenMalformed},
		{"b64 false", withHeader(`{"alg":"RS256","b64":false,"crit":["b64"]}`), authorizer.ErrTokenMalformed},
		{"b64 false without crit", withHeader(`{"alg":"RS256","b64":false}`), authorizer.ErrTokenMalformed},
		{"enc header (JWE)", withHeader(`{"alg":"RS256","enc":"A128GCM"}`), authorizer.ErrTokenMalformed},
		{"escaped jku", withHeader(`{"alg":"RS256","\u006aku":"https://evil.example"}`), authorizer.ErrTokenMalformed},
		{"kid path traversal", token(priv, "RS256", "../../../../etc/passwd", goodClaims()), nil},
		{"kid as object", withHeader(`{"alg":"RS256","kid":{"a":1}}`), authorizer.ErrTokenMalformed},
		{"kid null", withHeader(`{"alg":"RS256","kid":null}`), authorizer.ErrTokenMalformed},
		{"header 34 levels deep", withHeader(`{"alg":"RS256","x":` + strings.Repeat("[", 34) + strings.Repeat("]", 34) + `}`), authorizer.ErrTokenMalformed},
		{"claims 34 levels deep", withPayload(deep), authorizer.ErrTokenMalformed},
		{"claims depth bomb", withPayload(bomb), authorizer.ErrTokenMalformed},
		{"header with 129 members", withHeader(manyMembers(129, `"alg":"RS256"`)), authorizer.ErrTokenMalformed},
		{"exp 1e400", withPayload(claims(`,"nbf":1e400`)), authorizer.ErrTokenMalformed},
		{"exp beyond int64", withPayload(strings.Replace(claims(""), `"exp":`, `"exp":99999999999999999999999`, 1)), authorizer.ErrTokenMalformed},
		{"exp -0", withPayload(strings.Replace(claims(""), `"exp":`, `"exp":-0,"x":`, 1)), authorizer.ErrTokenMalformed},
		{"exp NaN", withPayload(strings.Replace(claims(""), `"exp":`, `"exp":NaN,"x":`, 1)), authorizer.ErrTokenMalformed},
		{"exp 0", withPayload(strings.Replace(claims(""), `"exp":`, `"exp":0,"x":`, 1)), authorizer.ErrTokenExpired},
		{"exp with leading zero", withPayload(strings.Replace(claims(""), `"exp":`, `"exp":0`, 1)), authorizer.ErrTokenMalformed},
		{"exp with plus", withPayload(strings.Replace(claims(""), `"exp":`, `"exp":+`, 1)), authorizer.ErrTokenMalformed},
		{"exp hex", withPayload(strings.Replace(claims(""), `"exp":`, `"exp":0x1,"x":`, 1)), authorizer.ErrTokenMalformed},
		{"duplicate iss, second escaped", withPayload(claims(`,"i\u0073s":"https://evil.example"`)), authorizer.ErrTokenMalformed},
		{"duplicate exp via surrogate-free escape", withPayload(claims(`,"\u0065xp":99999999999`)), authorizer.ErrTokenMalformed},
		{"claims with lone surrogate in iss", withPayload(strings.Replace(claims(""), testIssuer, `\ud800`, 1)), authorizer.ErrTokenIssuer},
		{"aud list with null", withPayload(strings.Replace(claims(""), `"aud":"`+testAudience+`"`, `"aud":[null,"`+testAudience+`"]`, 1)), authorizer.ErrTokenMalformed},
		{"aud nested list", withPayload(strings.Replace(claims(""), `"aud":"`+testAudience+`"`, `"aud":[["`+testAudience+`"]]`, 1)), authorizer.ErrTokenMalformed},
		{"claims trailing NUL", withPayload(claims("") + "\x00"), authorizer.ErrTokenMalformed},
		{"claims with BOM", withPayload("\ufeff" + claims("")), authorizer.ErrTokenMalformed},
		{"claims an array", withPayload(`[` + claims("") + `]`), authorizer.ErrTokenMalformed},
		{"claims a string", withPayload(`"x"`), authorizer.ErrTokenMalformed},
		{"space inside a segment", parts[0] + "." + parts[1][:10] + " " + parts[1][10:] + "." + parts[2], authorizer.ErrTokenMalformed},
		{"leading space", " " + good, authorizer.ErrTokenMalformed},
		{"trailing space", good + " ", authorizer.ErrTokenMalformed},
		{"Bearer prefix", "Bearer " + good, authorizer.ErrTokenMalformed},
		{"empty", "", authorizer.ErrTokenMalformed},
		{"only dots", "..", authorizer.ErrTokenMalformed},
		{"empty signature", parts[0] + "." + parts[1] + ".", authorizer.ErrTokenMalformed},
		{"token ending in NUL", good + "\x00", authorizer.ErrTokenMalformed},
		{"ES256 with r = 0", esIn + "." + ecRaw(zero, s), authorizer.ErrTokenSignature},
		{"ES256 with s = 0", esIn + "." + ecRaw(r, zero), authorizer.ErrTokenSignature},
		{"ES256 with r = n", esIn + "." + ecRaw(n, s), authorizer.ErrTokenSignature},
		{"ES256 with r + n overflowing 32 bytes", esIn + "." + base64.RawURLEncoding.EncodeToString(append(new(big.Int).Add(r, n).Bytes(), s.FillBytes(make([]byte, 32))...)), authorizer.ErrTokenSignature},
		{"ES256 DER signature", esIn + "." + base64.RawURLEncoding.EncodeToString(der), authorizer.ErrTokenSignature},
		{"ES256 65-byte signature", esIn + "." + base64.RawURLEncoding.EncodeToString(long), authorizer.ErrTokenSignature},
		{"ES384 for a P-256 key", rawSeg(`{"alg":"ES384"}`) + "." + parts[1] + "." + ecRaw(r, s), authorizer.ErrTokenAlgorithm},
		{"RS256 for an EC key", rawSeg(`{"alg":"RS256","kid":"ec"}`) + "." + parts[1] + "." + parts[2], authorizer.ErrTokenAlgorithm},
	}
	keys, err := ParseJWKS([]byte(`{"keys":[` + mustJSON(with(jwkOf("ec", ecKey), "alg", "ES256")) + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	ecv := newTestVerifier(t, keys, newClock())
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock())
	if _, err := ecv.Verify(context.Background(), esIn+"."+ecRaw(r, s)); err != nil {
		t.Fatalf("the good ES256 token is refused: %v", err)
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			vv := v
			if strings.HasPrefix(row.name, "ES") || strings.HasPrefix(row.name, "RS256 for an EC") {
				vv = ecv
			}
			c, err := vv.Verify(context.Background(), row.token)
			if row.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted: %+v", c)
			}
			var ite *authorizer.InvalidTokenError
			if !errors.As(err, &ite) {
				t.Fatalf("got %T %v; want *authorizer.InvalidTokenError", err, err)
			}
			if !errors.Is(err, row.want) {
				t.Errorf("got %v; want errors.Is %v", err, row.want)
			}
			assertNoSecret(t, err.Error(), row.token)
		})
	}
}

// assertNoSecret fails when msg holds any 8-character piece of a segment
// of raw (a token, a kid, a signature).
func assertNoSecret(t *testing.T, msg, raw string) {
	t.Helper()
	for _, part := range strings.Split(raw, ".") {
		for i := 0; i+16 <= len(part); i += 8 {
			if strings.Contains(msg, part[i:i+16]) {
				t.Fatalf("message %q carries token material %q", msg, part[i:i+16])
			}
		}
	}
}

func manyMembers(n int, first string) string {
	var b strings.Builder
	b.WriteString("{" + first)
	for i := 1; i < n; i++ {
		b.WriteString(`,"m` + itoa(int64(i)) + `":1`)
	}
	return b.String() + "}"
}

func itoa(n int64) string { return big.NewInt(n).String() }

// TestAttackKidNotEchoed: a kid the keys do not hold (huge, path-like,
// with control characters) is refused as unknown and never echoed.
func TestAttackKidNotEchoed(t *testing.T) {
	priv := rsaKey(0)
	keys, err := ParseJWKS([]byte(`{"keys":[` + mustJSON(jwkOf("k1", priv)) + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	v := newTestVerifier(t, keys, newClock())
	for _, kid := range []string{"../../../../etc/passwd", strings.Repeat("K", 10<<10), "k1\x00", "k1 ", "K1", "\u212a1"} {
		_, err := v.Verify(context.Background(), token(priv, "RS256", kid, goodClaims()))
		if !errors.Is(err, authorizer.ErrTokenUnknownKey) {
			t.Fatalf("kid %.20q: got %v; want ErrTokenUnknownKey", kid, err)
		}
		if len(kid) > 8 && strings.Contains(err.Error(), kid[:8]) {
			t.Fatalf("error echoes the kid: %v", err)
		}
	}
}

// TestAttackSizeBoundary: a signed token of exactly MaxTokenSize bytes is
// accepted, one byte more is refused before the signature is checked.
func TestAttackSizeBoundary(t *testing.T) {
	priv := rsaKey(0)
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock())
	mk := func(pad int, kid string) string {
		return token(priv, "RS256", kid, with(goodClaims(), "pad", strings.Repeat("a", pad)))
	}
	base := len(mk(0, ""))
	var exact string
	for _, kid := range []string{"", "k", "kk", "kkk"} {
		for pad := (MaxTokenSize-base)*3/4 - 8; exact == ""; pad++ {
			tok := mk(pad, kid)
			if len(tok) == MaxTokenSize {
				exact = tok
			} else if len(tok) > MaxTokenSize {
				break
			}
		}
	}
	if exact == "" {
		t.Fatal("no pad gives exactly MaxTokenSize")
	}
	if _, err := v.Verify(context.Background(), exact); err != nil {
		t.Fatalf("token of exactly MaxTokenSize refused: %v", err)
	}
	// one more byte: a signature with an extra (non-canonical) character.
	if _, err := v.Verify(context.Background(), exact+"A"); !errors.Is(err, authorizer.ErrTokenMalformed) {
		t.Fatalf("MaxTokenSize+1: got %v; want ErrTokenMalformed", err)
	}
}

// TestAttackNewlineInSignature: encoding/base64 skips CR and LF even in
// Strict mode, so a valid token with a newline inserted in its signature
// segment decoded to the same signature and verified: one token, many
// accepted spellings (each its own cache entry, each unseen by a deny list
// keyed on the raw token).
func TestAttackNewlineInSignature(t *testing.T) {
	priv := rsaKey(0)
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock(), WithCacheSize(0))
	good := token(priv, "RS256", "", goodClaims())
	if _, err := v.Verify(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	d := strings.LastIndexByte(good, '.')
	for _, spelled := range []string{
		good[:d+5] + "\n" + good[d+5:],
		good[:d+5] + "\r\n" + good[d+5:],
		good + "\n",
		good[:d+1] + "\r" + good[d+1:],
	} {
		if _, err := v.Verify(context.Background(), spelled); !errors.Is(err, authorizer.ErrTokenMalformed) {
			t.Errorf("%q...: got %v; want ErrTokenMalformed", spelled[len(spelled)-8:], err)
		}
	}
}

// TestAttackECDSAHighS: (r, n-s) is a second valid ECDSA signature of the
// same token. RFC 7518 does not require low s and common signers do not
// normalize, so refusing it would refuse real tokens; a caller keying
// replay protection on the raw token string must key on jti instead.
func TestAttackECDSAHighS(t *testing.T) {
	fixtures()
	keys := StaticKeys(&ecKey.PublicKey)
	v := newTestVerifier(t, keys, newClock(), WithCacheSize(0))
	in := rawSeg(`{"alg":"ES256"}`) + "." + seg(goodClaims())
	r, s := ecSig(in)
	flipped := new(big.Int).Sub(elliptic.P256().Params().N, s)
	if _, err := v.Verify(context.Background(), in+"."+ecRaw(r, s)); err != nil {
		t.Fatal(err)
	}
	_, err := v.Verify(context.Background(), in+"."+ecRaw(r, flipped))
	if err == nil {
		t.Skip("FINDING (info): ECDSA signatures are malleable: (r, n-s) of a verified token is accepted too; a second spelling of the same token")
	}
}
