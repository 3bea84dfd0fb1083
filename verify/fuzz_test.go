package verify

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"

	authorizer "github.com/seed-d44eba79/authorizer"
)

// Fuzz targets for every parser of untrusted input: tokens (FuzzVerify,
// FuzzWalkObject), key sets (FuzzParseJWKS) and PEM (FuzzParsePEM). Run
// each with e.g. go test ./verify -run '^$' -fuzz FuzzVerify -fuzztime 20s.

func FuzzVerify(f *testing.F) {
	priv := rsaKey(0)
	good := token(priv, "RS256", "", goodClaims())
	f.Add(good)
	f.Add(token(priv, "RS256", "k", with(goodClaims(), "aud", []string{"a", testAudience})))
	f.Add(rawSeg(`{"alg":"none"}`) + "." + seg(goodClaims()) + ".")
	f.Add(rawSeg(`{"alg":"RS256","crit":["x"]}`) + ".e30.c2ln")
	f.Add(strings.Repeat("a.", 100))
	keys := StaticKeys(&priv.PublicKey)
	v, err := New(keys, Expect{Issuer: testIssuer, Audience: []string{testAudience}}, WithClock(newClock().Now), WithCacheSize(4))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := v.Verify(context.Background(), raw)
		if err == nil {
			if c.Issuer != testIssuer || !anyIn(c.Audience, []string{testAudience}) || c.Expiry.IsZero() {
				t.Fatalf("accepted claims that fail the checks: %+v", c)
			}
			return
		}
		var ite *authorizer.InvalidTokenError
		if !errors.As(err, &ite) {
			t.Fatalf("error %T %v is not an InvalidTokenError", err, err)
		}
	})
}

func FuzzWalkObject(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":"b","c":[1,{"d":null}],"e":true}`, `{"a":1,"a":2}`,
		`{"\u0061":1}`, `{"a":1e5,"b":-0.5,"c":"\ud83d\ude00"}`, `{"a":[[[[]]]]}`, ` { "a" : 1 } `} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		names := map[string]bool{}
		err := walkObject(s, func(name, value, member string) error {
			if !strings.HasSuffix(member, value) || !strings.HasPrefix(member, `"`) {
				t.Fatalf("member %q does not hold value %q", member, value)
			}
			if !json.Valid([]byte(value)) {
				t.Fatalf("member %q value %q is not valid JSON", name, value)
			}
			if names[name] {
				t.Fatalf("duplicate %q passed", name)
			}
			names[name] = true
			if v, ok := jsonString(value); ok {
				var want string
				if json.Unmarshal([]byte(value), &want) != nil || want != v && json.Valid([]byte(value)) && !strings.ContainsRune(want, '\uFFFD') {
					t.Fatalf("jsonString(%q) = %q; encoding/json says %q", value, v, want)
				}
			}
			_, _ = jsonStrings(value, true)
			_, _ = jsonNumericDate(value)
			return nil
		})
		if err == nil {
			var m map[string]json.RawMessage
			if json.Unmarshal([]byte(s), &m) != nil {
				t.Fatalf("walkObject accepted %q, which encoding/json refuses", s)
			}
		}
	})
}

func FuzzParseJWKS(f *testing.F) {
	fixtures()
	f.Add([]byte(`{"keys":[` + mustJSON(jwkOf("k1", rsaKey(0))) + `,` + mustJSON(jwkOf("ec", ecKey)) + `,` + mustJSON(jwkOf("ed", edKey)) + `]}`))
	f.Add([]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"},{"kty":"EC","crv":"P-256","x":"","y":""}]}`))
	f.Add([]byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		ks, err := ParseJWKS(doc)
		if err != nil {
			return
		}
		set, _ := ks.(*staticSource).current(context.Background())
		for _, k := range set.keys {
			if _, err := newKey(k.kid, k.alg, k.pub); err != nil {
				t.Fatalf("parsed a key newKey refuses: %v", err)
			}
		}
	})
}

func FuzzParsePEM(f *testing.F) {
	der, _ := x509.MarshalPKIXPublicKey(&rsaKey(0).PublicKey)
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	f.Add(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey(1).PublicKey)}))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ks, err := ParsePEM(data)
		if err != nil {
			if strings.Contains(err.Error(), "PRIVATE") {
				t.Fatalf("error names a private block: %v", err)
			}
			return
		}
		set, _ := ks.current(context.Background())
		if len(set.keys) == 0 {
			t.Fatal("no keys and no error")
		}
	})
}

// FuzzDecode: Decode's reduced input decodes like the whole claims.
func FuzzDecode(f *testing.F) {
	f.Add(`{"iss":"a","userid":"u","permissions":["x","y"],"service":"s","exp":1}`)
	f.Add(`{"USERID":"a","userid":"b","Permissions":null,"aud":["x"]}`)
	f.Add(`{"permissions":[1],"service":{}}`)
	type perm struct {
		UserID      string   `json:"userid"`
		Service     string   `json:"service"`
		Permissions []string `json:"permissions"`
		Extra       any
	}
	f.Fuzz(func(t *testing.T, payload string) {
		c, err := parseClaims(payload)
		if err != nil {
			return
		}
		var got, want perm
		errGot := c.Decode(&got)
		errWant := json.Unmarshal([]byte(payload), &want)
		if (errGot == nil) != (errWant == nil) {
			t.Fatalf("Decode error %v; encoding/json error %v", errGot, errWant)
		}
		if errGot == nil && fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
			t.Fatalf("Decode = %#v; encoding/json = %#v", got, want)
		}
	})
}
