package oauth2auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/seed-d44eba79/authorizer/internal/peertest"
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
