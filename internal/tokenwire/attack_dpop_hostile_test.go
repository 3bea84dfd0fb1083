package tokenwire

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/dpop"
)

// A hostile authorization server against the DPoP token request.

// Nonce headers that are huge, repeated, invalid, or the client secret:
// at most one retry, an invalid nonce never retried nor stored, and no
// error message holds the client secret or a proof.
func TestAttackDPoPHostileNonces(t *testing.T) {
	for _, tc := range []struct {
		name      string
		nonces    []string
		wantSends int
		stored    string
	}{
		{"huge", []string{strings.Repeat("n", 100_000)}, 1, ""},
		{"513 bytes", []string{strings.Repeat("n", 513)}, 1, ""},
		{"repeated", []string{"n-1", "n-2"}, 1, ""},
		{"repeated same", []string{"n-1", "n-1"}, 1, ""},
		{"quote", []string{`n"1`}, 1, ""},
		{"space", []string{"n 1"}, 1, ""},
		{"comma list", []string{"n-1,n-2"}, 2, "n-1,n-2"},
		{"the client secret", []string{"client-secret-1"}, 2, "client-secret-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sends atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				sends.Add(1)
				for _, n := range tc.nonces {
					w.Header().Add("DPoP-Nonce", n)
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"error":"use_dpop_nonce","error_description":"use %s; your proof was %s"}`,
					strings.Join(tc.nonces, ","), r.Header.Get("DPoP"))
			}))
			defer srv.Close()
			nonces := new(dpop.Nonces)
			_, err := Do(context.Background(), dpopRequest(srv, newDPoPKey(t), nonces))
			if err == nil {
				t.Fatal("no error")
			}
			if got := sends.Load(); got != int64(tc.wantSends) {
				t.Errorf("sent %d times; want %d", got, tc.wantSends)
			}
			if got := nonces.Get(dpop.Origin(mustURL(t, srv.URL))); got != tc.stored {
				t.Errorf("stored nonce %.40q; want %q", got, tc.stored)
			}
			msg := err.Error()
			if strings.Contains(msg, "client-secret-1") || strings.Contains(msg, "eyJ") {
				t.Errorf("error quotes a secret or a proof: %.300s", msg)
			}
			var ae *authorizer.AuthorizationError
			if errors.As(err, &ae) && (strings.Contains(ae.Description, "client-secret-1") || strings.Contains(ae.Description, "eyJ")) {
				t.Errorf("Description quotes a secret or a proof: %.300s", ae.Description)
			}
		})
	}
}

// A nonce that changes with every answer, and a server that answers the
// retry with use_dpop_nonce again: two sends, never more, over many
// requests (no loop carried over between requests either).
func TestAttackDPoPNonceChangesEveryAnswer(t *testing.T) {
	var sends atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := sends.Add(1)
		w.Header().Set("DPoP-Nonce", fmt.Sprintf("n-%d", n))
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"use_dpop_nonce"}`)
	}))
	defer srv.Close()
	key, nonces := newDPoPKey(t), new(dpop.Nonces)
	for i := 0; i < 10; i++ {
		before := sends.Load()
		if _, err := Do(context.Background(), dpopRequest(srv, key, nonces)); err == nil {
			t.Fatal("no error")
		}
		if d := sends.Load() - before; d > 2 {
			t.Fatalf("request %d sent %d times", i, d)
		}
	}
}

// Retry-After games on the refusal: huge, negative, an HTTP date far
// ahead, garbage: capped, never negative, and the nonce retry is not
// delayed by it (no sleep: the test would hang).
func TestAttackDPoPRetryAfterGames(t *testing.T) {
	for _, ra := range []string{"99999999999999999999", "-5", "Fri, 31 Dec 9999 23:59:59 GMT", "soon", "1e9", "86401"} {
		t.Run(ra, func(t *testing.T) {
			var sends atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := sends.Add(1)
				w.Header().Set("DPoP-Nonce", fmt.Sprintf("n-%d", n))
				w.Header().Set("Retry-After", ra)
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"error":"use_dpop_nonce"}`)
			}))
			defer srv.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := Do(ctx, dpopRequest(srv, newDPoPKey(t), nil))
			var ae *authorizer.AuthorizationError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v", err)
			}
			if ae.RetryAfter < 0 || ae.RetryAfter > maxRetryAfter {
				t.Errorf("RetryAfter %v outside 0..%v", ae.RetryAfter, maxRetryAfter)
			}
			if sends.Load() != 2 {
				t.Errorf("sends %d; want 2", sends.Load())
			}
		})
	}
}

// token_type games and odd access tokens in a DPoP answer.
func TestAttackDPoPTokenTypeGames(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		ok         bool
	}{
		{"DPOP", `{"access_token":"at","token_type":"DPOP","expires_in":60}`, true},
		{"trailing space", `{"access_token":"at","token_type":"DPoP ","expires_in":60}`, false},
		{"leading space", `{"access_token":"at","token_type":" DPoP","expires_in":60}`, false},
		{"NUL", `{"access_token":"at","token_type":"DPoP\u0000","expires_in":60}`, false},
		{"DPoP Bearer", `{"access_token":"at","token_type":"DPoP Bearer","expires_in":60}`, false},
		{"number", `{"access_token":"at","token_type":7,"expires_in":60}`, false},
		{"array", `{"access_token":"at","token_type":["DPoP"],"expires_in":60}`, false},
		{"duplicate, Bearer last", `{"access_token":"at","token_type":"DPoP","token_type":"Bearer","expires_in":60}`, false},
		{"missing access token", `{"token_type":"DPoP","expires_in":60}`, false},
		{"empty access token", `{"access_token":"","token_type":"DPoP","expires_in":60}`, false},
		{"access token with CRLF", `{"access_token":"a\r\nX-Evil: 1","token_type":"DPoP","expires_in":60}`, false},
		{"huge access token", `{"access_token":"` + strings.Repeat("a", 900_000) + `","token_type":"DPoP","expires_in":60}`, true},
		{"over 1 MiB", `{"access_token":"` + strings.Repeat("a", 1<<20) + `","token_type":"DPoP","expires_in":60}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(&nonceServer{nonce: func(int) string { return "" }, answer: tc.body})
			defer srv.Close()
			key := newDPoPKey(t)
			tok, err := Do(context.Background(), dpopRequest(srv, key, nil))
			if tc.ok {
				if err != nil {
					t.Fatalf("refused: %.200v", err)
				}
				if tok.TokenType != "DPoP" || dpop.KeyOf(tok) != key {
					t.Errorf("type %q key %v", tok.TokenType, dpop.KeyOf(tok))
				}
				return
			}
			if err == nil {
				t.Errorf("accepted: type %q", tok.TokenType)
			}
			if strings.Contains(err.Error(), strings.Repeat("a", 64)) {
				t.Error("error quotes the access token")
			}
		})
	}
}

// The server tries to move the token request, with its proof and client
// secret, to another host with a redirect (307/308 keep the body): no
// redirect is followed, the other host sees nothing.
func TestAttackDPoPTokenRedirect(t *testing.T) {
	for _, code := range []int{301, 302, 303, 307, 308} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			var hit atomic.Int64
			other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Add(1) }))
			defer other.Close()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("DPoP-Nonce", "n-redirect")
				http.Redirect(w, r, other.URL+"/token", code)
			}))
			defer srv.Close()
			nonces := new(dpop.Nonces)
			_, err := Do(context.Background(), dpopRequest(srv, newDPoPKey(t), nonces))
			if err == nil {
				t.Fatal("a redirect gave a token")
			}
			if hit.Load() != 0 {
				t.Errorf("the other host got %d requests", hit.Load())
			}
			if got := nonces.Get(dpop.Origin(mustURL(t, other.URL))); got != "" {
				t.Errorf("a nonce was stored for the redirect's target: %q", got)
			}
		})
	}
}
