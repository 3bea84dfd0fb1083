package verify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// TestHostileTokens is the strict-by-default table: with New(keys,
// Expect{Issuer, Audience}) and no options, every row is refused with the
// reason shown.
func TestHostileTokens(t *testing.T) {
	priv := rsaKey(0)
	fixtures()
	good := func() map[string]any { return goodClaims() }
	rs := func(c map[string]any) string { return token(priv, "RS256", "", c) }
	withHeader := func(h string, c map[string]any) string {
		return signRaw("RS256", rawSeg(h)+"."+seg(c), priv)
	}
	withPayload := func(p string) string {
		return signRaw("RS256", rawSeg(`{"alg":"RS256"}`)+"."+rawSeg(p), priv)
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hs256 := func(secret []byte) string {
		in := rawSeg(`{"alg":"HS256","typ":"JWT"}`) + "." + seg(good())
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	goodTok := rs(good())
	parts := strings.Split(goodTok, ".")
	now := testEpoch.Unix()

	rows := []struct {
		name  string
		token string
		want  error
	}{
		{"alg none, empty signature", rawSeg(`{"alg":"none"}`) + "." + seg(good()) + ".", authorizer.ErrTokenMalformed},
		{"alg none, some signature", rawSeg(`{"alg":"none"}`) + "." + seg(good()) + ".c2ln", authorizer.ErrTokenAlgorithm},
		{"alg missing", withHeader(`{"typ":"JWT"}`, good()), authorizer.ErrTokenAlgorithm},
		{"HS256 with the public key PEM as secret", hs256(pubPEM), authorizer.ErrTokenAlgorithm},
		{"HS256 with the public key DER as secret", hs256(pubDER), authorizer.ErrTokenAlgorithm},
		{"PS256 for an RSA key that does not name it", token(priv, "PS256", "", good()), authorizer.ErrTokenAlgorithm},
		{"ES256 for an RSA key", token(ecKey, "ES256", "", good()), authorizer.ErrTokenAlgorithm},
		{"EdDSA for an RSA key", token(edKey, "EdDSA", "", good()), authorizer.ErrTokenAlgorithm},
		{"jku header", withHeader(`{"alg":"RS256","jku":"https://evil.example/jwks"}`, good()), authorizer.ErrTokenMalformed},
		{"x5u header", withHeader(`{"alg":"RS256","x5u":"https://evil.example/cert"}`, good()), authorizer.ErrTokenMalformed},
		{"embedded jwk", withHeader(`{"alg":"RS256","jwk":{"kty":"RSA","n":"AQAB","e":"AQAB"}}`, good()), authorizer.ErrTokenMalformed},
		{"embedded x5c", withHeader(`{"alg":"RS256","x5c":["MIIB"]}`, good()), authorizer.ErrTokenMalformed},
		{"crit header", withHeader(`{"alg":"RS256","crit":["exp"],"exp":1}`, good()), authorizer.ErrTokenMalformed},
		{"zip header", withHeader(`{"alg":"RS256","zip":"DEF"}`, good()), authorizer.ErrTokenMalformed},
		{"exp 61 s in the past", rs(with(good(), "exp", now-61)), authorizer.ErrTokenExpired},
		{"exp long past", rs(with(good(), "exp", now-86400)), authorizer.ErrTokenExpired},
		{"no exp", rs(with(good(), "exp", nil)), authorizer.ErrTokenExpired},
		{"nbf 61 s in the future", rs(with(good(), "nbf", now+61)), authorizer.ErrTokenNotYetValid},
		{"iat 61 s in the future", rs(with(good(), "iat", now+61)), authorizer.ErrTokenNotYetValid},
		{"no iss", rs(with(good(), "iss", nil)), authorizer.ErrTokenIssuer},
		{"other iss", rs(with(good(), "iss", "https://evil.example")), authorizer.ErrTokenIssuer},
		{"iss with trailing slash", rs(with(good(), "iss", testIssuer+"/")), authorizer.ErrTokenIssuer},
		{"no aud", rs(with(good(), "aud", nil)), authorizer.ErrTokenAudience},
		{"other aud", rs(with(good(), "aud", "https://other.example")), authorizer.ErrTokenAudience},
		{"aud list without ours", rs(with(good(), "aud", []string{"a", "b"})), authorizer.ErrTokenAudience},
		{"permission-service style, no exp/iss/aud", rs(map[string]any{"userid": "u", "permissions": []string{"x"}}), authorizer.ErrTokenExpired},
		{"over 16 KiB", rs(with(good(), "pad", strings.Repeat("a", 16<<10))), authorizer.ErrTokenMalformed},
		{"two segments", parts[0] + "." + parts[1], authorizer.ErrTokenMalformed},
		{"four segments", goodTok + ".x", authorizer.ErrTokenMalformed},
		{"five segments (JWE)", parts[0] + ".a.b.c." + parts[2], authorizer.ErrTokenMalformed},
		{"many dots", strings.Repeat(".", 10000), authorizer.ErrTokenMalformed},
		{"padded base64", parts[0] + "=." + parts[1] + "." + parts[2], authorizer.ErrTokenMalformed},
		{"standard base64 alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(parts[0]) + "+/." + parts[1] + "." + parts[2], authorizer.ErrTokenMalformed},
		{"non-canonical base64 signature", parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-1] + flipLastBits(parts[2]), authorizer.ErrTokenMalformed},
		{"header not JSON", withHeader(`{"alg":"RS256"`, good()), authorizer.ErrTokenMalformed},
		{"header not an object", withHeader(`["RS256"]`, good()), authorizer.ErrTokenMalformed},
		{"duplicate alg", withHeader(`{"alg":"none","alg":"RS256"}`, good()), authorizer.ErrTokenMalformed},
		{"claims not JSON", withPayload(`{"iss":`), authorizer.ErrTokenMalformed},
		{"claims trailing data", withPayload(`{"iss":"x"}{}`), authorizer.ErrTokenMalformed},
		{"duplicate exp", withPayload(`{"iss":"` + testIssuer + `","aud":"` + testAudience + `","exp":1,"exp":9999999999}`), authorizer.ErrTokenMalformed},
		{"duplicate aud, escaped", withPayload(`{"iss":"` + testIssuer + `","aud":"x","a\u0075d":"` + testAudience + `","exp":9999999999}`), authorizer.ErrTokenMalformed},
		{"exp as string", rs(with(good(), "exp", "9999999999")), authorizer.ErrTokenMalformed},
		{"negative exp", rs(with(good(), "exp", -1)), authorizer.ErrTokenMalformed},
		{"aud as number", rs(with(good(), "aud", 7)), authorizer.ErrTokenMalformed},
		{"iss as array", rs(with(good(), "iss", []string{testIssuer})), authorizer.ErrTokenMalformed},
		{"kid as number", withHeader(`{"alg":"RS256","kid":7}`, good()), authorizer.ErrTokenMalformed},
		{"invalid UTF-8 in claims", withPayload("{\"iss\":\"\xff\"}"), authorizer.ErrTokenMalformed},
		{"signed by another key", token(rsaKey(1), "RS256", "", good()), authorizer.ErrTokenSignature},
		{"claims changed after signing", parts[0] + "." + seg(with(good(), "sub", "admin")) + "." + parts[2], authorizer.ErrTokenSignature},
	}
	v := newTestVerifier(t, StaticKeys(&priv.PublicKey), newClock())
	if _, err := v.Verify(context.Background(), goodTok); err != nil {
		t.Fatalf("the good token is refused: %v", err)
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			c, err := v.Verify(context.Background(), row.token)
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
		})
	}
}

// flipLastBits returns the last base64url character of s with its unused
// low bits set, a non-canonical encoding of the same bytes.
func flipLastBits(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, s[len(s)-1])
	// 256-byte signature: 342 chars, the last one carries 2 bits + 4 unused, all zero when canonical.
	return string(alphabet[i^1])
}

// TestUnknownKidStatic: a JWKS with kids refuses a token naming another.
func TestUnknownKidStatic(t *testing.T) {
	priv := rsaKey(0)
	doc := `{"keys":[` + mustJSON(jwkOf("k1", priv)) + `]}`
	keys, err := ParseJWKS([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	v := newTestVerifier(t, keys, newClock())
	_, err = v.Verify(context.Background(), token(priv, "RS256", "k2", goodClaims()))
	if !errors.Is(err, authorizer.ErrTokenUnknownKey) {
		t.Fatalf("got %v; want ErrTokenUnknownKey", err)
	}
	if _, err := v.Verify(context.Background(), token(priv, "RS256", "k1", goodClaims())); err != nil {
		t.Fatalf("kid k1: %v", err)
	}
}
