package oauth2auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/dpop"
)

// Probes of WithDPoP's token-request side against RFC 9449 §5, §8 and
// WithDPoP's doc (break-dpop-docs review).

// probeAS is a token endpoint answering answer(n, proof) for request n
// (from 1); it records every proof.
type probeAS struct {
	mu     sync.Mutex
	proofs []string
	answer func(n int, p proofBody, w http.ResponseWriter)
}

func (s *probeAS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.proofs = append(s.proofs, r.Header.Get("DPoP"))
	n := len(s.proofs)
	s.mu.Unlock()
	_, body := splitProof(r.Header.Get("DPoP"))
	s.answer(n, body, w)
}

func (s *probeAS) count() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.proofs) }

func probeWriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func probeAuthorizer(t *testing.T, s *probeAS, key *dpop.Key) *ServiceAccountAuthorizer {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	a, err := NewServiceAccountAuthorizer(data.ClientInfo{ClientID: "c", ClientSecret: "client-secret-PROBE"},
		Environment{TokenURL: srv.URL + "/token?tenant=x"}, WithDPoP(key))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func dpopAnswer(w http.ResponseWriter, typ string) {
	probeWriteJSON(w, 200, map[string]any{"access_token": "AT-PROBE-SECRET", "token_type": typ, "expires_in": 300})
}

// §8: a server that asks for a new nonce every time gets exactly one
// retry; the error is typed and holds neither the proof nor the secret.
func TestProbeDPoPNonceRetryOnce(t *testing.T) {
	s := &probeAS{answer: func(n int, _ proofBody, w http.ResponseWriter) {
		w.Header().Set("DPoP-Nonce", fmt.Sprintf("nonce-%d", n))
		probeWriteJSON(w, 400, map[string]any{"error": "use_dpop_nonce"})
	}}
	a := probeAuthorizer(t, s, nil)
	_, err := a.Authorize(context.Background())
	if err == nil {
		t.Fatal("no error")
	}
	if got := s.count(); got != 2 {
		t.Fatalf("%d token requests; want 2 (one retry)", got)
	}
	_, b1 := splitProof(s.proofs[0])
	_, b2 := splitProof(s.proofs[1])
	if b1.Nonce != "" || b2.Nonce != "nonce-1" || b1.JTI == b2.JTI {
		t.Errorf("proofs: first nonce %q, second nonce %q, jti equal %v", b1.Nonce, b2.Nonce, b1.JTI == b2.JTI)
	}
	if !strings.HasSuffix(b1.HTU, "/token") || b1.HTM != "POST" || b1.ATH != nil {
		t.Errorf("token-request proof htm %q htu %q ath %v; want POST, the token URL without query, no ath", b1.HTM, b1.HTU, b1.ATH)
	}
	for _, s := range append(strings.Split(s.proofs[1], "."), "client-secret-PROBE") {
		if len(s) > 8 && strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), s) {
			t.Errorf("error %v holds a secret or proof part", err)
		}
	}
	var ae *authorizer.AuthorizationError
	if !errors.As(err, &ae) {
		t.Errorf("err %T; want an *authorizer.AuthorizationError", err)
	}
	// The third request (a new call) carries the newest nonce.
	a.Authorize(context.Background())
	_, b3 := splitProof(s.proofs[2])
	if b3.Nonce != "nonce-2" {
		t.Errorf("next request nonce %q; want the newest, nonce-2", b3.Nonce)
	}
}

// A use_dpop_nonce without a usable DPoP-Nonce is not retried.
func TestProbeDPoPNonceInvalidNotRetried(t *testing.T) {
	for _, nonce := range []string{"", `bad"nonce`, "two words"} {
		s := &probeAS{answer: func(n int, _ proofBody, w http.ResponseWriter) {
			if nonce != "" {
				w.Header().Set("DPoP-Nonce", nonce)
			}
			probeWriteJSON(w, 400, map[string]any{"error": "use_dpop_nonce"})
		}}
		a := probeAuthorizer(t, s, nil)
		if _, err := a.Authorize(context.Background()); err == nil {
			t.Fatal("no error")
		}
		if s.count() != 1 {
			t.Errorf("nonce %q: %d requests; want 1", nonce, s.count())
		}
	}
}

// §5: token_type DPoP in any case is accepted and canonical; Bearer or
// none is a DowngradeError (Temporary false); another type is an
// UnsupportedTokenTypeError. A nonce on a 200 is remembered (§8).
func TestProbeDPoPTokenTypes(t *testing.T) {
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	edKey, err := dpop.NewKey(edPriv)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		typ     string
		wantErr any
	}{
		{"dpop", nil}, {"DPOP", nil}, {"DPoP", nil},
		{"Bearer", new(*DowngradeError)}, {"bearer", new(*DowngradeError)}, {"", new(*DowngradeError)},
		{"N_A", new(*UnsupportedTokenTypeError)},
	} {
		s := &probeAS{answer: func(n int, _ proofBody, w http.ResponseWriter) {
			w.Header().Set("DPoP-Nonce", "from-200")
			dpopAnswer(w, tc.typ)
		}}
		a := probeAuthorizer(t, s, edKey)
		tok, err := a.Authorize(context.Background())
		if tc.wantErr == nil {
			if err != nil || tok.TokenType != "DPoP" || dpop.KeyOf(tok) != edKey {
				t.Errorf("%q: tok %v err %v; want canonical DPoP bound to the key", tc.typ, tok, err)
			}
			a.Refresh(context.Background(), nil)
			_, b := splitProof(s.proofs[1])
			if b.Nonce != "from-200" {
				t.Errorf("nonce of a 200 not remembered: %q", b.Nonce)
			}
			continue
		}
		if !errors.As(err, tc.wantErr) {
			t.Errorf("%q: err %T %v; want %T", tc.typ, err, err, tc.wantErr)
			continue
		}
		var tmp interface{ Temporary() bool }
		if errors.As(err, &tmp) && tmp.Temporary() {
			t.Errorf("%q: Temporary() true", tc.typ)
		}
		if strings.Contains(err.Error(), "AT-PROBE-SECRET") {
			t.Errorf("%q: error holds the access token", tc.typ)
		}
	}
}

// Without WithDPoP, a DPoP answer stays refused and no DPoP header is sent.
func TestProbeDPoPOffRefusesDPoPAnswer(t *testing.T) {
	s := &probeAS{answer: func(n int, _ proofBody, w http.ResponseWriter) { dpopAnswer(w, "DPoP") }}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	a, err := NewServiceAccountAuthorizer(data.ClientInfo{ClientID: "c", ClientSecret: "client-secret-PROBE"},
		Environment{TokenURL: srv.URL + "/token"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Authorize(context.Background())
	var ut *UnsupportedTokenTypeError
	if !errors.As(err, &ut) {
		t.Fatalf("err %v; want UnsupportedTokenTypeError", err)
	}
	if s.proofs[0] != "" {
		t.Error("a DPoP header without WithDPoP")
	}
}
