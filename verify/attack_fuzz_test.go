package verify

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Fuzz targets of the attack review: properties, not just "no panic".

// FuzzAttackCanonical: a token parseJWS accepts is the one canonical
// spelling of its bytes (no CR/LF, padding or stray bits), and its header
// is a JSON object encoding/json reads the same alg and kid from.
func FuzzAttackCanonical(f *testing.F) {
	good := token(rsaKey(0), "RS256", "k", goodClaims())
	f.Add(good)
	f.Add(good + "\n")
	f.Add(rawSeg(`{"alg":"RS256","\u006bid":"a"}`) + ".e30.c2ln")
	f.Add(rawSeg(`{"alg":"ES256","kid":"\ud800"}`) + ".e30.c2ln")
	f.Fuzz(func(t *testing.T, raw string) {
		tok, err := parseJWS(raw)
		if err != nil {
			return
		}
		parts := strings.Split(raw, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted %d segments", len(parts))
		}
		header, _ := b64.DecodeString(parts[0])
		sig, _ := b64.DecodeString(parts[2])
		if b64.EncodeToString(header) != parts[0] || b64.EncodeToString(sig) != parts[2] || b64.EncodeToString([]byte(tok.payload)) != parts[1] {
			t.Fatalf("accepted a non-canonical spelling %q", raw)
		}
		var h map[string]any
		if err := json.Unmarshal(header, &h); err != nil {
			t.Fatalf("accepted a header encoding/json refuses: %v", err)
		}
		if h["alg"] != tok.alg {
			t.Fatalf("alg %q; encoding/json reads %v", tok.alg, h["alg"])
		}
		if kid, _ := h["kid"].(string); kid != tok.kid {
			t.Fatalf("kid %q; encoding/json reads %q", tok.kid, kid)
		}
	})
}

// FuzzAttackMiddlewareToken: any Authorization header and query give a
// status in {400, 401} for an unsigned token, never a panic or a 200.
func FuzzAttackMiddlewareToken(f *testing.F) {
	priv := rsaKey(0)
	v, err := New(StaticKeys(&priv.PublicKey), Expect{Issuer: testIssuer, Audience: []string{testAudience}}, WithClock(newClock().Now))
	if err != nil {
		f.Fatal(err)
	}
	h := Middleware(v, InsecureTokenFromQuery())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	f.Add("Bearer a.b.c", "access_token=x")
	f.Add("bearer  ", "")
	f.Add("Bearer x, Bearer y", "access_token=&access_token=")
	f.Fuzz(func(t *testing.T, auth, query string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.RawQuery = query
		r.Header.Set("Authorization", auth)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 400 && w.Code != 401 {
			t.Fatalf("status %d for %q %q", w.Code, auth, query)
		}
	})
}
