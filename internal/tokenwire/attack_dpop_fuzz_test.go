package tokenwire

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/dpop"
)

// FuzzAttackDPoPWantsNonce: when wantsNonce asks for a retry, the answer
// was a 400 whose one DPoP-Nonce is a valid nonce other than the one just
// sent, and the retry's proof can carry it; what observeNonce stores is
// always a valid nonce. Run with
// go test ./internal/tokenwire -run '^$' -fuzz FuzzAttackDPoPWantsNonce -fuzztime 20s.
func FuzzAttackDPoPWantsNonce(f *testing.F) {
	key, err := dpop.GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(400, "application/json", "n-1", "", "", []byte(`{"error":"use_dpop_nonce"}`))
	f.Add(400, "application/json", "n-1", "n-2", "", []byte(`{"error":"use_dpop_nonce"}`))
	f.Add(400, "application/json", "n-1", "", "n-1", []byte(`{"error":"use_dpop_nonce"}`))
	f.Add(400, "application/x-www-form-urlencoded", "n 1", "", "", []byte(`error=use_dpop_nonce`))
	f.Add(401, "application/json", "n-1", "", "", []byte(`{"error":"use_dpop_nonce","error":"x"}`))
	u, _ := url.Parse("https://idp.test/token")
	f.Fuzz(func(t *testing.T, status int, ct, nonce, second, sent string, body []byte) {
		h := http.Header{"Content-Type": {ct}, "Dpop-Nonce": {nonce}}
		if second != "" {
			h.Add("Dpop-Nonce", second)
		}
		r := &Request{DPoP: key, Nonces: new(dpop.Nonces), proofNonce: sent}
		if wantsNonce(r, status, h, body) {
			if status != http.StatusBadRequest || second != "" || !dpop.ValidNonce(nonce) || nonce == sent {
				t.Fatalf("retry asked for status %d nonce %q second %q sent %q", status, nonce, second, sent)
			}
			if _, err := key.Proof("POST", u, "", nonce, time.Unix(1_800_000_000, 0)); err != nil {
				t.Fatalf("the nonce to retry with cannot be signed: %v", err)
			}
		}
		observeNonce(r, u, h)
		if got := r.Nonces.Get(dpop.Origin(u)); got != "" && (!dpop.ValidNonce(got) || second != "") {
			t.Fatalf("stored nonce %q (second %q)", got, second)
		}
	})
}
