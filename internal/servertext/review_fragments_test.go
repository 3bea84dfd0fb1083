package servertext

import (
	"strings"
	"testing"
)

// Review of the fragment scrubbing (7060d7b): useful messages survive,
// parts of secrets do not.

// Ordinary error texts, URLs and ids stay readable next to typical
// secrets (a 40-byte client secret, a JWT assertion, a refresh token).
func TestReviewFragmentsKeepOrdinaryText(t *testing.T) {
	secrets := []string{
		"Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5",                             // client secret
		"eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJjbGllbnQifQ.c2lnbmF0dXJl", // assertion
		"8xLOxBtZp8-refresh-token-of-the-user-session-0001",                        // refresh token
	}
	for _, msg := range []string{
		"invalid_client: client authentication failed",
		"https://idp.example.com/oauth2/default/v1/token answered 400 invalid_grant",
		"the redirect_uri https://app.example.com/oauth/callback is not registered for this client",
		"RequestID: 5f3e1a2b-1c2d-4e5f-8a9b-0c1d2e3f4a5b, StatusCode: 400",
		"refresh token expired; the user must sign in again (session 0001)",
	} {
		if got := Scrub(msg, secrets...); got != msg {
			t.Errorf("Scrub(%q) = %q: an ordinary message was damaged", msg, got)
		}
	}
}

// A server quoting the first part of a long secret quotes nothing of it.
func TestReviewFragmentsPrefixOfLongSecret(t *testing.T) {
	sec := strings.Repeat("s3cr3tK3y-", 5) // 50 bytes
	got := Clean("bad client_secret '"+sec[:20]+"...'", 0, sec)
	if strings.Contains(got, sec[:MinFragment]) {
		t.Fatalf("a 20-byte prefix of a 50-byte secret survived: %q", got)
	}
}

// The usefulness price: any text sharing 16 bytes with a long secret is
// cut. Two JWTs of one library share their header, so a non-secret JWT
// (an ID token quoted by the server) loses it. Acceptable, recorded here.
func TestReviewFragmentsSharedJWTHeader(t *testing.T) {
	secret := "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjbGllbnQifQ.c2ln"
	msg := "id_token_hint eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ1c2VyIn0 is expired"
	got := Scrub(msg, secret)
	if !strings.HasPrefix(got, "id_token_hint ") || !strings.HasSuffix(got, " is expired") {
		t.Fatalf("the message around the shared JWT header is lost: %q", got)
	}
}

// A secret of 16..31 bytes is scrubbed only whole: a server quoting its
// first 20 bytes (a length-limited echo) quotes 20 of its 24 bytes.
func TestReviewFragmentsMediumSecret(t *testing.T) {
	sec := "Pa55w0rd-Of-24-Bytes-xyz" // 24 bytes: a password, a short client secret
	got := Clean("invalid password '"+sec[:20]+"'", 0, sec)
	if strings.Contains(got, sec[:20]) {
		t.Skip("FINDING (low, documented limit): internal/servertext/servertext.go:80 scrubFragments ignores secrets under 2×MinFragment (32) bytes, so a quoted 20-byte prefix of a 24-byte secret survives: " +
			got + "; fix: for a secret of 16..31 bytes also scrub runs of at least len/2+1 bytes (min 12)")
	}
}

func FuzzReviewScrubFragments(f *testing.F) {
	f.Add("quoted: abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnopqrstuvwxyz0123456789")
	f.Add("", "")
	f.Add("[redacted][redacted]", "[redacted][redacted][redacted]xx")
	f.Fuzz(func(t *testing.T, s, sec string) {
		got := scrubFragments(s, []string{sec})
		if len(sec) < 2*MinFragment {
			if got != s {
				t.Fatalf("a short secret changed the text: %q -> %q", s, got)
			}
			return
		}
		if strings.Contains(sec, "\x00") {
			return
		}
		left := strings.ReplaceAll(got, Redacted, "\x00") // what scrubbing kept
		for i := 0; i+MinFragment <= len(sec); i++ {
			if w := sec[i : i+MinFragment]; strings.Contains(left, w) {
				t.Fatalf("window %q of the secret survives in %q", w, got)
			}
		}
		_ = Clean(s, 0, sec)
	})
}
