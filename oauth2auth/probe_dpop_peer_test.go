package oauth2auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/seed-d44eba79/authorizer/internal/peertest"
	"github.com/seed-d44eba79/authorizer/verify"
)

// Against oidc-provider (an independent RFC 9449 implementation): an
// Ed25519 key, and token URLs spelled differently from the peer's own
// view (host case, a query), so that both sides' htu agree. (break-dpop-docs)
func TestProbeDPoPPeerHTUAndEd25519(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	ed, err := dpop.NewKey(edPriv)
	must(t, err)
	es := mustKey(t)
	localhost := strings.Replace(issuer, "127.0.0.1", "LOCALHOST", 1)
	for _, tc := range []struct {
		name, tokenURL string
		key            *dpop.Key
	}{
		{"Ed25519", issuer + "/token", ed},
		{"host in upper case", localhost + "/token", es},
		{"token URL with a query", issuer + "/token?x=1", es},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var proofs []string
			client := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
				proofs = append(proofs, r.Header.Get("DPoP"))
				return http.DefaultTransport.RoundTrip(r)
			})}
			env := Environment{TokenURL: tc.tokenURL, Scopes: []string{"api:read"}, Resources: []string{"urn:sdk-test:api"}}
			a, err := NewServiceAccountAuthorizer(peerDPoP, env, WithDPoP(tc.key), WithHTTPClient(client))
			must(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			tok, err := a.Authorize(ctx)
			if err != nil {
				t.Fatalf("peer refused: %v", err)
			}
			checkBound(t, tok, tc.key)
			if _, c := splitProof(proofs[len(proofs)-1]); strings.Contains(c.HTU, "?") || c.HTU != strings.ToLower(strings.SplitN(tc.tokenURL, "?", 2)[0]) {
				t.Errorf("htu %q", c.HTU)
			}
		})
	}
}

// Issue 13's Proof, end to end: a peer-issued DPoP token sent by
// base.Transport to a local API behind verify.Middleware (with nonces)
// passes; a replayed proof, a proof for another URL, and a Bearer
// presentation of the same token are refused.
func TestProbeDPoPPeerToLocalAPI(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	v := peerVerifierOpts(t, issuer, "urn:sdk-test:api", verify.WithDPoPNonces([]byte(strings.Repeat("n", 32)), time.Minute))
	var seen []http.Header
	api := httptest.NewServer(verify.Middleware(v, verify.InsecureTrustHostHeader(), verify.RequireScope("api:read"))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Clone())
		if c := verify.ClaimsFrom(r.Context()); c == nil || c.KeyThumbprint == "" {
			t.Error("no bound claims")
		}
	})))
	defer api.Close()
	env := Environment{TokenURL: issuer + "/token", Scopes: []string{"api:read"}, Resources: []string{"urn:sdk-test:api"}}
	a, err := NewServiceAccountAuthorizer(peerDPoP, env, WithDPoP(nil))
	must(t, err)
	client := base.NewClient(a)
	resp, err := client.Get(api.URL + "/things")
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(seen) != 1 {
		t.Fatalf("status %d, %d passed", resp.StatusCode, len(seen))
	}
	do := func(path string, h http.Header) *http.Response {
		req, _ := http.NewRequest("GET", api.URL+path, nil)
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		resp.Body.Close()
		return resp
	}
	if r := do("/things", seen[0].Clone()); r.StatusCode != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), "invalid_dpop_proof") {
		t.Errorf("replayed proof: %d %q", r.StatusCode, r.Header.Values("WWW-Authenticate"))
	}
	if r := do("/other", seen[0].Clone()); r.StatusCode != 401 {
		t.Errorf("proof for another URL: %d", r.StatusCode)
	}
	bearer := http.Header{"Authorization": {"Bearer " + strings.TrimPrefix(seen[0].Get("Authorization"), "DPoP ")}}
	if r := do("/things", bearer); r.StatusCode != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), `Bearer error="invalid_token"`) {
		t.Errorf("Bearer presentation: %d %q", r.StatusCode, r.Header.Values("WWW-Authenticate"))
	}
}

func peerVerifierOpts(t *testing.T, issuer, audience string, opts ...verify.Option) *verify.Verifier {
	t.Helper()
	keys := verify.Discover(issuer)
	v, err := verify.New(keys, verify.Expect{Issuer: issuer, Audience: []string{audience}}, opts...)
	must(t, err)
	t.Cleanup(func() { _ = v.Close(); _ = keys.Close() })
	return v
}
