package oauth2auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/dpop"
	"golang.org/x/oauth2"
)

// fakeDPoP is the fake IdP's DPoP side, guarded by the fakeIdP's mu: it
// records every token request's proof, asks for nonce (once per proof
// without it) when set, answers DPoP tokens when on, and binds each
// refresh token it issues to the proof's key.
type fakeDPoP struct {
	on      bool              // answer token_type DPoP (else Bearer)
	nonce   string            // required nonce; "" for none
	proofs  []string          // DPoP header of every token request ("" for none)
	asked   int               // use_dpop_nonce answers
	bound   map[string]string // refresh token -> the proof's JWK it was issued to
	lastJWK string            // the JWK of the request being answered
}

// check records r's proof and asks for the nonce when it lacks it; ok is
// false when it answered. jwk is the proof's key.
func (d *fakeDPoP) check(w http.ResponseWriter, r *http.Request) (jwk string, ok bool) {
	proof := r.Header.Get("DPoP")
	d.proofs = append(d.proofs, proof)
	head, claims := splitProof(proof)
	d.lastJWK = string(head.JWK)
	if proof != "" && d.nonce != "" && claims.Nonce != d.nonce {
		d.asked++
		w.Header().Set("DPoP-Nonce", d.nonce)
		writeJSON(w, 400, map[string]any{"error": "use_dpop_nonce"})
		return "", false
	}
	return d.lastJWK, true
}

// issued makes resp a DPoP answer when on, binding its refresh token.
func (d *fakeDPoP) issued(resp map[string]any) {
	if !d.on {
		return
	}
	resp["token_type"] = "DPoP"
	if rt, _ := resp["refresh_token"].(string); rt != "" {
		if d.bound == nil {
			d.bound = map[string]string{}
		}
		d.bound[rt] = d.lastJWK
	}
}

type proofHead struct {
	Typ, Alg string
	JWK      json.RawMessage
}

type proofBody struct {
	JTI   string  `json:"jti"`
	HTM   string  `json:"htm"`
	HTU   string  `json:"htu"`
	IAT   int64   `json:"iat"`
	ATH   *string `json:"ath"`
	Nonce string  `json:"nonce"`
}

// splitProof decodes a proof's header and claims (zero values when it is
// not one).
func splitProof(p string) (proofHead, proofBody) {
	var h proofHead
	var c proofBody
	parts := strings.Split(p, ".")
	if len(parts) != 3 {
		return h, c
	}
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(hb, &h)
	_ = json.Unmarshal(cb, &c)
	return h, c
}

func mustKey(t *testing.T) *dpop.Key {
	t.Helper()
	k, err := dpop.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// staticSubject is a subject authorizer with a fixed token.
type staticSubject struct{}

func (staticSubject) Authorize(context.Context) (*oauth2.Token, error) {
	return &oauth2.Token{AccessToken: "SUBJECT-SECRET", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)}, nil
}
func (s staticSubject) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return s.Authorize(ctx)
}
func (staticSubject) Expired(*oauth2.Token) bool { return false }

// Every token request of every flow carries a proof of the authorizer's
// key (htm POST, htu the token URL, no ath, a new jti, the nonce once the
// server named it: one use_dpop_nonce per authorizer); the device
// authorization and revocation requests carry none; the browser's
// authorization request carries dpop_jkt; the tokens are DPoP, bound to
// the key.
func TestDPoPProofOnEveryFlow(t *testing.T) {
	secret := data.ClientInfo{ClientID: "client", ClientSecret: "client-secret-1"}
	public := data.ClientInfo{ClientID: "native"}
	flows := []struct {
		name string
		run  func(t *testing.T, f *fakeIdP, key *dpop.Key) *oauth2.Token
	}{
		{"client credentials", func(t *testing.T, f *fakeIdP, key *dpop.Key) *oauth2.Token {
			a, err := NewServiceAccountAuthorizer(secret, Environment{TokenURL: f.srv.URL + "/token"}, WithDPoP(key))
			must(t, err)
			_, err = a.Authorize(context.Background())
			must(t, err)
			tok, err := a.Refresh(context.Background(), nil)
			must(t, err)
			return tok
		}},
		{"device, then refresh", func(t *testing.T, f *fakeIdP, key *dpop.Key) *oauth2.Token {
			f.pending = 1
			a, err := NewDeviceAuthorizer(public, f.env(), WithDPoP(key), WithDevicePrompt(func(context.Context, DevicePrompt) error { return nil }),
				withPollInterval(time.Millisecond))
			must(t, err)
			tok, err := a.Authorize(context.Background())
			must(t, err)
			tok, err = a.Refresh(context.Background(), tok)
			must(t, err)
			must(t, a.SignOut(context.Background()))
			return tok
		}},
		{"browser, then refresh", func(t *testing.T, f *fakeIdP, key *dpop.Key) *oauth2.Token {
			pages := make(chan *page, 1)
			a, err := NewBrowserAuthorizer(public, f.env(), WithDPoP(key), WithBrowserOpener(httpOpener(pages)))
			must(t, err)
			tok, err := a.Authorize(context.Background())
			must(t, err)
			<-pages
			tok, err = a.Refresh(context.Background(), tok)
			must(t, err)
			if got := f.authQueries[0].Get("dpop_jkt"); got != key.Thumbprint() {
				t.Errorf("dpop_jkt = %q; want the key's thumbprint %q", got, key.Thumbprint())
			}
			return tok
		}},
		{"token exchange", func(t *testing.T, f *fakeIdP, key *dpop.Key) *oauth2.Token {
			a, err := NewTokenExchangeAuthorizer(staticSubject{}, Environment{TokenURL: f.srv.URL + "/token"},
				WithExchangeClient(secret), WithDPoP(key))
			must(t, err)
			tok, err := a.Authorize(context.Background())
			must(t, err)
			return tok
		}},
	}
	for _, fl := range flows {
		t.Run(fl.name, func(t *testing.T) {
			f := newFakeIdP(t)
			f.dpop = fakeDPoP{on: true, nonce: "server-nonce-1"}
			key := mustKey(t)
			tok := fl.run(t, f, key)
			if !dpop.IsDPoP(tok) || dpop.KeyOf(tok) != key {
				t.Fatalf("token type %q key %v; want DPoP bound to %v", tok.TokenType, dpop.KeyOf(tok), key)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			checkProofs(t, f, key)
		})
	}
}

// checkProofs checks every proof the fake recorded; f.mu is held.
func checkProofs(t *testing.T, f *fakeIdP, key *dpop.Key) {
	t.Helper()
	if f.dpop.asked != 1 {
		t.Errorf("use_dpop_nonce answered %d times; want 1 (the nonce is remembered)", f.dpop.asked)
	}
	if len(f.dpop.proofs) < 2 {
		t.Fatalf("got %d token requests; want at least 2", len(f.dpop.proofs))
	}
	jtis := map[string]bool{}
	for i, p := range f.dpop.proofs {
		h, c := splitProof(p)
		if h.Typ != "dpop+jwt" || h.Alg != "ES256" || string(h.JWK) != key.PublicJWK() {
			t.Errorf("request %d: proof header %+v; want dpop+jwt ES256 with the key's JWK", i, h)
		}
		if c.HTM != "POST" || c.HTU != f.srv.URL+"/token" || c.ATH != nil {
			t.Errorf("request %d: htm %q htu %q ath %v; want POST %s/token, no ath", i, c.HTM, c.HTU, c.ATH, f.srv.URL)
		}
		if d := time.Since(time.Unix(c.IAT, 0)); d < -time.Hour || d > time.Hour {
			t.Errorf("request %d: iat %d is not now", i, c.IAT)
		}
		if jtis[c.JTI] || c.JTI == "" {
			t.Errorf("request %d: jti %q empty or repeated", i, c.JTI)
		}
		jtis[c.JTI] = true
		if want := map[bool]string{true: "", false: "server-nonce-1"}[i == 0]; c.Nonce != want {
			t.Errorf("request %d: nonce %q; want %q", i, c.Nonce, want)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Device authorization and revocation requests carry no proof.
func TestDPoPNoProofAtDeviceAndRevocation(t *testing.T) {
	f := newFakeIdP(t)
	f.dpop = fakeDPoP{on: true}
	var seen []string
	client := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		if !strings.HasSuffix(r.URL.Path, "/token") && r.Method == http.MethodPost {
			seen = append(seen, r.URL.Path+" "+r.Header.Get("DPoP"))
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: "native"}, f.env(), WithDPoP(nil), WithHTTPClient(client),
		WithDevicePrompt(func(context.Context, DevicePrompt) error { return nil }), withPollInterval(time.Millisecond))
	must(t, err)
	_, err = a.Authorize(context.Background())
	must(t, err)
	must(t, a.SignOut(context.Background()))
	want := []string{"/device/auth ", "/revoke ", "/revoke "}
	if fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("got %q; want %q (no DPoP header)", seen, want)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A Bearer answer to a DPoP request is refused as a downgrade.
func TestDPoPBearerAnswerIsDowngrade(t *testing.T) {
	f := newFakeIdP(t) // answers Bearer
	a, err := NewServiceAccountAuthorizer(data.ClientInfo{ClientID: "c", ClientSecret: "client-secret-1"},
		Environment{TokenURL: f.srv.URL + "/token"}, WithDPoP(nil))
	must(t, err)
	_, err = a.Authorize(context.Background())
	var dg *DowngradeError
	if !errors.As(err, &dg) || dg.TokenType != "Bearer" {
		t.Fatalf("got %v; want a *DowngradeError", err)
	}
}

// A refresh signs with the key the refresh token is bound to, whatever
// the authorizer's own key: the fake, like oidc-provider, refuses a
// refresh token presented with another key.
func TestDPoPRefreshSignsWithTokensKey(t *testing.T) {
	f := newFakeIdP(t)
	f.dpop = fakeDPoP{on: true, bound: map[string]string{}}
	bound, own := mustKey(t), mustKey(t)
	f.dpop.bound["REFRESH-BOUND"] = bound.PublicJWK()
	f.dpop.bound["REFRESH-BOUND-2"] = bound.PublicJWK()
	old := dpop.Bind(&oauth2.Token{AccessToken: "old", TokenType: "DPoP", RefreshToken: "REFRESH-BOUND",
		Expiry: time.Now().Add(-time.Minute)}, bound)
	a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: "native"}, f.env(), WithDPoP(own))
	must(t, err)
	tok, err := a.Refresh(context.Background(), old)
	must(t, err)
	if dpop.KeyOf(tok) != bound {
		t.Errorf("refreshed token key %v; want the refresh token's key %v", dpop.KeyOf(tok), bound)
	}
	f.mu.Lock()
	h, _ := splitProof(f.dpop.proofs[0])
	f.mu.Unlock()
	if string(h.JWK) != bound.PublicJWK() {
		t.Errorf("the refresh was signed by %s; want the refresh token's key %s", h.JWK, bound.PublicJWK())
	}
	// The same kind of refresh token with the authorizer's own key is refused.
	_, err = a.tokenRequestKey(context.Background(), &Environment{TokenURL: f.srv.URL + "/token"},
		refreshForm("REFRESH-BOUND-2"), own)
	var refused *authorizer.InvalidCredentialsError
	if !errors.As(err, &refused) {
		t.Errorf("got %v; want the fake to refuse another key", err)
	}
}

// The cache rules of decision 2: which cached sessions a DeviceAuthorizer
// uses, by its DPoP setting and the entry's key.
func TestDPoPCacheLoadRules(t *testing.T) {
	mine, other := mustKey(t), mustKey(t)
	valid := func() *oauth2.Token {
		return &oauth2.Token{AccessToken: "CACHED", RefreshToken: "r", Expiry: time.Now().Add(time.Hour)}
	}
	bearer := valid()
	bearer.TokenType = "Bearer"
	dpopNoKey := valid()
	dpopNoKey.TokenType = "DPoP"
	withMine := dpop.Bind(dpopNoKey, mine)
	withOther := dpop.Bind(dpopNoKey, other)
	tests := []struct {
		name    string
		opt     Option // nil: DPoP off
		entry   *oauth2.Token
		used    bool
		adopted *dpop.Key // the session's key afterwards, when not nil
	}{
		{"off, bearer", nil, bearer, true, nil},
		{"off, DPoP with key", nil, withMine, false, nil},
		{"off, DPoP without key", nil, dpopNoKey, false, nil},
		{"explicit, same key", WithDPoP(mine), withMine, true, mine},
		{"explicit, other key", WithDPoP(mine), withOther, false, mine},
		{"explicit, missing key", WithDPoP(mine), dpopNoKey, false, mine},
		{"explicit, bearer", WithDPoP(mine), bearer, false, mine},
		{"generated, adopts", WithDPoP(nil), withOther, true, other},
		{"generated, missing key", WithDPoP(nil), dpopNoKey, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeIdP(t)
			f.dpop.on = tt.opt != nil
			cache := base.NewMemoryCache()
			a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: "native"}, f.env(), WithTokenCache(cache), tt.opt,
				WithDevicePrompt(func(context.Context, DevicePrompt) error { return nil }), withPollInterval(time.Millisecond))
			must(t, err)
			must(t, cache.Store(context.Background(), a.key, tt.entry))
			tok, err := a.Authorize(context.Background())
			must(t, err)
			if used := tok.AccessToken == "CACHED"; used != tt.used {
				t.Fatalf("cached entry used: %v; want %v", used, tt.used)
			}
			if tt.adopted != nil && !a.sessionKey().Equal(tt.adopted) {
				t.Errorf("session key %v; want %v", a.sessionKey(), tt.adopted)
			}
			if tt.opt != nil && !tt.used && !dpop.KeyOf(tok).Equal(a.sessionKey()) {
				t.Errorf("the new sign-in's token is bound to %v; want the session's key %v", dpop.KeyOf(tok), a.sessionKey())
			}
		})
	}
}

// WithDPoP(nil) generates an ES256 key at construction; WithDPoP twice is
// an error.
func TestWithDPoPOption(t *testing.T) {
	info := data.ClientInfo{ClientID: "c", ClientSecret: "client-secret-1"}
	env := Environment{TokenURL: "https://idp.example/token"}
	a, err := NewServiceAccountAuthorizer(info, env, WithDPoP(nil))
	must(t, err)
	if a.opts.dpop.key == nil || a.opts.dpop.key.Algorithm() != dpop.ES256 {
		t.Fatalf("key %v; want a generated ES256 key", a.opts.dpop.key)
	}
	b, err := NewServiceAccountAuthorizer(info, env, WithDPoP(nil))
	must(t, err)
	if a.opts.dpop.key.Equal(b.opts.dpop.key) {
		t.Error("two authorizers generated the same key")
	}
	_, err = NewServiceAccountAuthorizer(info, env, WithDPoP(nil), WithDPoP(mustKey(t)))
	assertOptionError(t, err, "WithDPoP", "more than once")
}

// Printing an authorizer with a DPoP key shows its thumbprint and no part
// of the private key.
func TestDPoPKeyNotPrinted(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	key, err := dpop.NewKey(priv)
	must(t, err)
	der, err := key.MarshalBinary()
	must(t, err)
	info := data.ClientInfo{ClientID: "c", ClientSecret: "client-secret-1"}
	env := Environment{TokenURL: "https://idp.example/token", DeviceAuthURL: "https://idp.example/device",
		AuthURL: "https://idp.example/auth"}
	sa, err := NewServiceAccountAuthorizer(info, env, WithDPoP(key))
	must(t, err)
	dev, err := NewDeviceAuthorizer(info, env, WithDPoP(key))
	must(t, err)
	br, err := NewBrowserAuthorizer(info, env, WithDPoP(key))
	must(t, err)
	d, err := priv.Bytes()
	must(t, err)
	secrets := []string{new(big.Int).SetBytes(d).String(), base64.RawURLEncoding.EncodeToString(d),
		base64.StdEncoding.EncodeToString(d)[:40], base64.StdEncoding.EncodeToString(der)[:40], fmt.Sprintf("%x", d)}
	for _, v := range []any{sa, *sa, dev, *dev, br, *br} {
		outs := renderings(t, v)
		for _, out := range outs {
			for _, s := range secrets {
				if strings.Contains(out, s) {
					t.Errorf("%T prints the private key: %s", v, out)
				}
			}
		}
		if !strings.Contains(outs[0], key.Thumbprint()) {
			t.Errorf("%T prints %s; want the thumbprint %s", v, outs[0], key.Thumbprint())
		}
	}
}
