package tokenwire

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/dpop"
)

// proofClaims is what a DPoP proof says.
type proofClaims struct {
	JTI   string  `json:"jti"`
	HTM   string  `json:"htm"`
	HTU   string  `json:"htu"`
	IAT   float64 `json:"iat"`
	ATH   *string `json:"ath"`
	Nonce string  `json:"nonce"`
}

// checkProof decodes proof, checks its header and ES256 signature against
// key, and returns its claims.
func checkProof(t *testing.T, proof string, key *dpop.Key) proofClaims {
	t.Helper()
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		t.Fatalf("proof has %d parts; want 3", len(parts))
	}
	head, _ := base64.RawURLEncoding.DecodeString(parts[0])
	body, _ := base64.RawURLEncoding.DecodeString(parts[1])
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	var h struct {
		Typ, Alg string
		JWK      json.RawMessage
	}
	var c proofClaims
	if json.Unmarshal(head, &h) != nil || json.Unmarshal(body, &c) != nil {
		t.Fatalf("undecodable proof %s %s", head, body)
	}
	if h.Typ != "dpop+jwt" || h.Alg != "ES256" || string(h.JWK) != key.PublicJWK() {
		t.Fatalf("proof header %s; want typ dpop+jwt, alg ES256 and the key's JWK", head)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if len(sig) != 64 || !ecdsa.Verify(key.Public().(*ecdsa.PublicKey), digest[:], r, s) {
		t.Fatal("proof signature does not verify with the key")
	}
	return c
}

func newDPoPKey(t *testing.T) *dpop.Key {
	t.Helper()
	k, err := dpop.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// nonceServer is a token endpoint that wants DPoP nonces: a proof without
// the current nonce gets 400 use_dpop_nonce with it (nonce() gives the
// nonce for the n-th request); a good one gets a DPoP token.
type nonceServer struct {
	mu         sync.Mutex
	proofs     []string
	assertions []string
	nonce      func(n int) string
	answer     string // the success body; default a DPoP token
	successNew string // DPoP-Nonce sent with a success, "" for none
}

func (s *nonceServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	s.mu.Lock()
	s.proofs = append(s.proofs, r.Header.Get("DPoP"))
	s.assertions = append(s.assertions, r.PostForm.Get("client_assertion"))
	n := len(s.proofs)
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	want := s.nonce(n)
	var c struct{ Nonce string }
	parts := strings.Split(r.Header.Get("DPoP"), ".")
	if len(parts) == 3 {
		b, _ := base64.RawURLEncoding.DecodeString(parts[1])
		_ = json.Unmarshal(b, &c)
	}
	if want != "" && c.Nonce != want {
		w.Header().Set("DPoP-Nonce", want)
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"use_dpop_nonce","error_description":"nonce is required in the DPoP proof"}`)
		return
	}
	if s.successNew != "" {
		w.Header().Set("DPoP-Nonce", s.successNew)
	}
	body := s.answer
	if body == "" {
		body = `{"access_token":"at","token_type":"DPoP","expires_in":60}`
	}
	fmt.Fprint(w, body)
}

func dpopRequest(srv *httptest.Server, key *dpop.Key, nonces *dpop.Nonces) Request {
	return Request{URL: srv.URL + "/oauth2/token?x=1", Client: data.ClientInfo{ClientID: "c", ClientSecret: "client-secret-1"},
		Form: url.Values{"grant_type": {"client_credentials"}}, DPoP: key, Nonces: nonces}
}

// Every request carries a proof: htm POST, htu the token URL without its
// query, iat from the clock, a new jti each time, no ath; the token is
// DPoP and carries the key.
func TestDPoPProofOnTokenRequest(t *testing.T) {
	key := newDPoPKey(t)
	srv := httptest.NewServer(&nonceServer{nonce: func(int) string { return "" }})
	defer srv.Close()
	now := time.Unix(1_800_000_000, 0)
	seen := map[string]bool{}
	for range 3 {
		r := dpopRequest(srv, key, nil)
		r.Now = func() time.Time { return now }
		var got string
		r.HTTPClient = &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
			got = req.Header.Get("DPoP")
			return http.DefaultTransport.RoundTrip(req)
		})}
		tok, err := Do(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		if tok.TokenType != "DPoP" || dpop.KeyOf(tok) != key {
			t.Fatalf("got type %q key %v; want DPoP bound to the key", tok.TokenType, dpop.KeyOf(tok))
		}
		c := checkProof(t, got, key)
		if c.HTM != "POST" || c.HTU != srv.URL+"/oauth2/token" || c.IAT != float64(now.Unix()) || c.ATH != nil || c.Nonce != "" {
			t.Errorf("got claims %+v; want htm POST, htu %s/oauth2/token, iat %d, no ath, no nonce", c, srv.URL, now.Unix())
		}
		if seen[c.JTI] || c.JTI == "" {
			t.Errorf("jti %q repeated or empty", c.JTI)
		}
		seen[c.JTI] = true
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// use_dpop_nonce: sent once more with the server's nonce, a new proof and
// a new assertion; the nonce is remembered for the next request.
func TestDPoPNonceRetry(t *testing.T) {
	key := newDPoPKey(t)
	ns := &nonceServer{nonce: func(int) string { return "n-1" }}
	srv := httptest.NewServer(ns)
	defer srv.Close()
	nonces := new(dpop.Nonces)
	r := dpopRequest(srv, key, nonces)
	r.Auth, r.Client = AuthPrivateKeyJWT, data.ClientInfo{ClientID: "c"}
	calls := 0
	r.Assertion = func(string, string, time.Time) (string, error) {
		calls++
		return fmt.Sprintf("assertion-%d", calls), nil
	}
	if _, err := Do(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if len(ns.proofs) != 2 {
		t.Fatalf("got %d requests; want 2 (one retry)", len(ns.proofs))
	}
	first, second := checkProof(t, ns.proofs[0], key), checkProof(t, ns.proofs[1], key)
	if first.Nonce != "" || second.Nonce != "n-1" || first.JTI == second.JTI {
		t.Errorf("got nonces %q, %q (jti %s, %s); want none, then n-1 with a new jti", first.Nonce, second.Nonce, first.JTI, second.JTI)
	}
	if ns.assertions[0] == ns.assertions[1] {
		t.Errorf("the retry sent the same assertion %q; want a new one", ns.assertions[1])
	}
	if got := nonces.Get(dpop.Origin(mustURL(t, srv.URL))); got != "n-1" {
		t.Errorf("remembered nonce %q; want n-1", got)
	}
	if _, err := Do(context.Background(), r); err != nil { // the remembered nonce: no retry
		t.Fatal(err)
	}
	if len(ns.proofs) != 3 || checkProof(t, ns.proofs[2], key).Nonce != "n-1" {
		t.Errorf("got %d requests; want 3, the last with the remembered nonce", len(ns.proofs))
	}
}

// A server that asks for a new nonce every time is asked twice, never
// more; one that refuses the nonce it gave is asked once.
func TestDPoPNonceRetryNeverLoops(t *testing.T) {
	tests := []struct {
		name     string
		nonce    func(n int) string
		known    string // nonce remembered before the request
		requests int
	}{
		{"a new nonce every time", func(n int) string { return fmt.Sprintf("n-%d", n) }, "", 2},
		{"a new nonce every time, one known", func(n int) string { return fmt.Sprintf("n-%d", n) }, "old", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := newDPoPKey(t)
			ns := &nonceServer{nonce: tt.nonce}
			srv := httptest.NewServer(ns)
			defer srv.Close()
			nonces := new(dpop.Nonces)
			if tt.known != "" {
				nonces.Put(dpop.Origin(mustURL(t, srv.URL)), tt.known)
			}
			_, err := Do(context.Background(), dpopRequest(srv, key, nonces))
			var ae *authorizer.AuthorizationError
			if !errors.As(err, &ae) || ae.Code != "use_dpop_nonce" {
				t.Fatalf("got %v; want an *authorizer.AuthorizationError with code use_dpop_nonce", err)
			}
			if len(ns.proofs) != tt.requests {
				t.Fatalf("got %d requests; want %d", len(ns.proofs), tt.requests)
			}
		})
	}
	t.Run("nonce the server repeats", func(t *testing.T) {
		key := newDPoPKey(t)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("DPoP-Nonce", "stuck")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"use_dpop_nonce"}`)
		}))
		defer srv.Close()
		nonces := new(dpop.Nonces)
		nonces.Put(dpop.Origin(mustURL(t, srv.URL)), "stuck")
		var n int
		r := dpopRequest(srv, key, nonces)
		r.HTTPClient = &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
			n++
			return http.DefaultTransport.RoundTrip(req)
		})}
		_, err := Do(context.Background(), r)
		if err == nil || n != 1 {
			t.Fatalf("got %d requests, error %v; want 1 and an error (the nonce sent was refused)", n, err)
		}
	})
}

// No retry without DPoP, for another status, or without a valid nonce.
func TestDPoPNonceRetryConditions(t *testing.T) {
	tests := []struct {
		name   string
		status int
		nonce  string
		key    bool
	}{
		{"no DPoP key", 400, "n", false},
		{"401", 401, "n", true},
		{"no DPoP-Nonce", 400, "", true},
		{"invalid nonce", 400, "a b", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n int
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n++
				if tt.nonce != "" {
					w.Header().Set("DPoP-Nonce", tt.nonce)
				}
				w.WriteHeader(tt.status)
				fmt.Fprint(w, `{"error":"use_dpop_nonce"}`)
			}))
			defer srv.Close()
			var key *dpop.Key
			if tt.key {
				key = newDPoPKey(t)
			}
			if _, err := Do(context.Background(), dpopRequest(srv, key, nil)); err == nil {
				t.Fatal("no error")
			}
			if n != 1 {
				t.Fatalf("got %d requests; want 1", n)
			}
		})
	}
}

// Every answer's DPoP-Nonce is remembered, a success's too.
func TestDPoPNonceRememberedFromSuccess(t *testing.T) {
	key := newDPoPKey(t)
	ns := &nonceServer{nonce: func(int) string { return "" }, successNew: "next-nonce"}
	srv := httptest.NewServer(ns)
	defer srv.Close()
	nonces := new(dpop.Nonces)
	for range 2 {
		if _, err := Do(context.Background(), dpopRequest(srv, key, nonces)); err != nil {
			t.Fatal(err)
		}
	}
	if got := checkProof(t, ns.proofs[1], key).Nonce; got != "next-nonce" {
		t.Errorf("second proof's nonce %q; want next-nonce", got)
	}
}

// With a DPoP key a Bearer answer is a downgrade; a DPoP answer in another
// case is accepted; without a key a DPoP answer stays refused.
func TestDPoPTokenType(t *testing.T) {
	tests := []struct {
		name      string
		tokenType string
		key       bool
		want      string // "" ok, "downgrade", "unsupported"
	}{
		{"DPoP", "DPoP", true, ""},
		{"dpop lower case", "dpop", true, ""},
		{"Bearer with key", "Bearer", true, "downgrade"},
		{"bearer lower case with key", "bearer", true, "downgrade"},
		{"no token_type with key", "", true, "downgrade"},
		{"other type with key", "MAC", true, "unsupported"},
		{"DPoP without key", "DPoP", false, "unsupported"},
		{"Bearer without key", "Bearer", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"access_token":"at","expires_in":60}`
			if tt.tokenType != "" {
				body = `{"access_token":"at","token_type":"` + tt.tokenType + `","expires_in":60}`
			}
			srv := httptest.NewServer(&nonceServer{nonce: func(int) string { return "" }, answer: body})
			defer srv.Close()
			var key *dpop.Key
			if tt.key {
				key = newDPoPKey(t)
			}
			tok, err := Do(context.Background(), dpopRequest(srv, key, nil))
			var dg *DowngradeError
			var ut *UnsupportedTokenTypeError
			switch tt.want {
			case "":
				if err != nil {
					t.Fatal(err)
				}
				if tt.key && (tok.TokenType != "DPoP" || dpop.KeyOf(tok) != key) {
					t.Errorf("got type %q key %v; want DPoP with the key", tok.TokenType, dpop.KeyOf(tok))
				}
				if !tt.key && dpop.KeyOf(tok) != nil {
					t.Error("a Bearer token carries a key")
				}
			case "downgrade":
				if !errors.As(err, &dg) || dg.Temporary() {
					t.Fatalf("got %v; want a *DowngradeError", err)
				}
			case "unsupported":
				if !errors.As(err, &ut) {
					t.Fatalf("got %v; want an *UnsupportedTokenTypeError", err)
				}
			}
		})
	}
}

// A server that quotes the proof back (or any part of it) does not get it
// into the error.
func TestDPoPProofNotQuoted(t *testing.T) {
	key := newDPoPKey(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_dpop_proof",
			"error_description": "bad proof " + r.Header.Get("DPoP")})
	}))
	defer srv.Close()
	var proof string
	r := dpopRequest(srv, key, nil)
	r.HTTPClient = &http.Client{Transport: roundTripFunc(func(req *http.Request) (*http.Response, error) {
		proof = req.Header.Get("DPoP")
		return http.DefaultTransport.RoundTrip(req)
	})}
	_, err := Do(context.Background(), r)
	if err == nil || proof == "" {
		t.Fatal("want an error and a proof")
	}
	if strings.Contains(err.Error(), proof) || strings.Contains(err.Error(), strings.Split(proof, ".")[1]) {
		t.Fatalf("error quotes the proof: %v", err)
	}
	if !strings.Contains(err.Error(), "invalid_dpop_proof") {
		t.Errorf("error %v lost the code", err)
	}
}

// Device authorization and revocation requests carry no proof: a Request
// without DPoP sends no DPoP header.
func TestNoProofWithoutKey(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Values("DPoP")
		fmt.Fprint(w, `{"access_token":"at","token_type":"Bearer"}`)
	}))
	defer srv.Close()
	if _, err := Send(context.Background(), dpopRequest(srv, nil, new(dpop.Nonces))); err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("got DPoP headers %q; want none", got)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// FuzzParseDPoPResponse: the parser of a DPoP token request's answer never
// panics, gives a token only of type DPoP bound to the key, and never
// gives a token with an error; wantsNonce never panics either.
func FuzzParseDPoPResponse(f *testing.F) {
	key, err := dpop.GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(200, "application/json", "", []byte(`{"access_token":"at","token_type":"DPoP","expires_in":60}`))
	f.Add(200, "application/json", "", []byte(`{"access_token":"at","token_type":"Bearer"}`))
	f.Add(200, "application/x-www-form-urlencoded", "", []byte("access_token=at&token_type=dpop"))
	f.Add(400, "application/json", "n-1", []byte(`{"error":"use_dpop_nonce"}`))
	f.Add(400, "application/json", "a\"b", []byte(`{"error":"use_dpop_nonce"}`))
	f.Fuzz(func(t *testing.T, status int, ct, nonce string, body []byte) {
		h := http.Header{"Content-Type": {ct}, "Dpop-Nonce": {nonce}}
		_ = wantsNonce(&Request{DPoP: key}, status, h, body)
		tok, err := parse(status, h, body, time.Unix(1_800_000_000, 0), 0, nil, key)
		if err != nil {
			if tok != nil {
				t.Fatal("token with error")
			}
			return
		}
		if tok == nil || tok.TokenType != "DPoP" || dpop.KeyOf(tok) != key {
			t.Fatalf("token %v without DPoP type or key", tok)
		}
	})
}
