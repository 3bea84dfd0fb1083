package dpop

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

// FuzzResourceNonceChallenge: a resource server's 401 headers are untrusted.
// Nothing panics, and a nonce that is accepted is one a proof can carry.
func FuzzResourceNonceChallenge(f *testing.F) {
	f.Add(`DPoP error="use_dpop_nonce", error_description="x"`, "n-1")
	f.Add(`Bearer error="invalid_token", DPoP error=use_dpop_nonce`, "abc")
	f.Add(`DPoP`, "a\"b")
	f.Add(``, "")
	key, _ := GenerateKey()
	u, _ := url.Parse("https://rs.test/p")
	f.Fuzz(func(t *testing.T, challenge, nonce string) {
		resp := &http.Response{StatusCode: http.StatusUnauthorized, Header: http.Header{
			"Www-Authenticate": {challenge}, "Dpop-Nonce": {nonce}}}
		got, ok := ResourceNonceChallenge(resp)
		if !ok {
			return
		}
		if got != nonce || !ValidNonce(got) {
			t.Fatalf("accepted nonce %q from %q", got, nonce)
		}
		if _, err := key.Proof("GET", u, "tok", got, time.Now()); err != nil {
			t.Fatalf("accepted nonce %q cannot be sent: %v", got, err)
		}
	})
}

// FuzzParseKey: a key read back from a cache file is untrusted bytes.
func FuzzParseKey(f *testing.F) {
	k, _ := GenerateKey()
	der, _ := k.MarshalBinary()
	f.Add(der)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParseKey(b)
		if err == nil && (k.Thumbprint() == "" || k.Algorithm() == "") {
			t.Fatal("a parsed key without thumbprint or algorithm")
		}
	})
}
