package base

import (
	"bufio"
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/seed-d44eba79/authorizer/verify"
	"golang.org/x/oauth2"
)

// The sender against the real receiver: a Transport's DPoP requests, to
// random URLs (host case, default and other ports, escaped paths, dot
// segments, empty path, query, fragment) and methods, written to the wire
// and read back as a server reads them, then checked by verify.Middleware
// (with resource-server nonces at random). Everything the Transport sends
// must be accepted: htu normalisation, htm, ath and jkt agree on both
// sides, and nonce challenges are answered. Same seeds as
// random_dpop_sender_test.go.

// rdvAuthorizer hands out one JWT access token bound to key (cnf.jkt).
type rdvAuthorizer struct {
	*fakeAuthorizer
	tok *oauth2.Token
}

func (a *rdvAuthorizer) Authorize(context.Context) (*oauth2.Token, error) { return a.tok, nil }
func (a *rdvAuthorizer) Refresh(context.Context, *oauth2.Token) (*oauth2.Token, error) {
	return a.tok, nil
}

// rdvJWT signs an RS256 access token with claims.
func rdvJWT(t *testing.T, priv *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	seg := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := seg(map[string]any{"alg": "RS256", "typ": "at+jwt"}) + "." + seg(claims)
	d := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// rdvWire is an inner RoundTripper that writes the request out, reads it
// back as a server would (path-only URL, Host header, r.TLS for https) and
// serves it with h.
type rdvWire struct{ h http.Handler }

func (w rdvWire) RoundTrip(req *http.Request) (*http.Response, error) {
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		return nil, err
	}
	sreq, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		return nil, err
	}
	if req.URL.Scheme == "https" {
		sreq.TLS = &tls.ConnectionState{}
	}
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, sreq)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

var rdvTargets = []string{
	"https://api.example/things", "https://API.Example/things", "https://api.example:443/things",
	"https://api.example:8443/a/b", "http://127.0.0.1:9000/x", "http://localhost/x", "http://127.0.0.1:80/y",
	"https://api.example", "https://api.example/", "https://api.example/a%2Fb", "https://api.example/caf%C3%A9",
	"https://api.example/%7Euser", "https://api.example/a/./b/../c", "https://api.example/sp%20ace",
	"https://api.example/x;p=1", "https://api.example/UPPER/Case", "https://[::1]:8443/v6",
}

func TestRandomDPoPSenderAgainstVerify(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keys := rdpKeys(t)
	for _, seed := range rdpSeeds(t) {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			rnd := mrand.New(mrand.NewPCG(seed, 41))
			clock := newClock()
			key := keys[rnd.IntN(len(keys))]
			now := clock.Now()
			access := rdvJWT(t, priv, map[string]any{"iss": "https://idp.example", "aud": "api", "sub": "u",
				"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "cnf": map[string]any{"jkt": key.Thumbprint()}})
			tok := dpop.Bind(&oauth2.Token{AccessToken: access, TokenType: dpop.TokenType,
				Expiry: now.Add(time.Hour), ExpiresIn: 3600}, key)
			opts := []verify.Option{verify.WithClock(clock.Now)}
			nonces := rnd.IntN(2) == 0
			if nonces {
				opts = append(opts, verify.WithDPoPNonces(bytes.Repeat([]byte{byte(seed)}, verify.MinDPoPNonceSecret), time.Duration(1+rnd.IntN(30))*time.Second))
			}
			v, err := verify.New(verify.StaticKeys(&priv.PublicKey), verify.Expect{Issuer: "https://idp.example", Audience: []string{"api"}}, opts...)
			if err != nil {
				t.Fatal(err)
			}
			h := verify.Middleware(v, verify.InsecureTrustHostHeader())(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			tr := NewTransport(&rdvAuthorizer{fakeAuthorizer: newFake(clock), tok: tok}, WithBase(rdvWire{h}), withClock(clock.Now))
			defer tr.Close()
			var mu sync.Mutex
			var fails []string
			sent := 0
			for round := range 4 {
				var wg sync.WaitGroup
				for g := range 2 + rnd.IntN(12) {
					target := rdvTargets[rnd.IntN(len(rdvTargets))] + []string{"", "?q=1", "?q=1#frag", "#frag"}[rnd.IntN(4)]
					method := []string{"GET", "POST", "DELETE", "PATCH", "get", "M-SEARCH"}[rnd.IntN(6)]
					sent++
					wg.Go(func() {
						req, err := http.NewRequest(method, target, strings.NewReader("b"))
						if err == nil {
							var resp *http.Response
							if resp, err = tr.RoundTrip(req); err == nil {
								resp.Body.Close()
								if resp.StatusCode != http.StatusOK {
									err = fmt.Errorf("status %d, %q", resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
								}
							}
						}
						if err != nil {
							mu.Lock()
							fails = append(fails, fmt.Sprintf("seed %d round %d req %d: %s %s: %v", seed, round, g, method, target, err))
							mu.Unlock()
						}
					})
				}
				wg.Wait()
				clock.Advance(time.Duration(rnd.IntN(40)) * time.Second)
			}
			for _, f := range fails {
				t.Error(f)
			}
			if t.Failed() {
				t.Logf("replay with DPOP_RANDOM_SEED=%d", seed)
			}
			t.Logf("seed %d: %d requests, key %s, nonces %v", seed, sent, key.Algorithm(), nonces)
		})
	}
}
