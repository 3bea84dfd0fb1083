package servertext

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestClean(t *testing.T) {
	const secret = "s3cr3t+/=&\"x"
	tests := []struct {
		name    string
		in      string
		limit   int
		secrets []string
		want    string
	}{
		{name: "plain text kept", in: "Invalid user pool.", want: "Invalid user pool."},
		{name: "control characters", in: "a\nb\r\x1b[31mc\td\x00", want: "a b  [31mc d "},
		{name: "invalid UTF-8", in: "a\xffb", want: "a b"},
		{name: "secret as sent", in: "hash " + secret + " echoed", secrets: []string{secret}, want: "hash [redacted] echoed"},
		{name: "secret form-encoded", in: "secret_hash=" + url.QueryEscape(secret), secrets: []string{secret}, want: "secret_hash=[redacted]"},
		{name: "secret path-escaped", in: "/" + url.PathEscape(secret), secrets: []string{secret}, want: "/[redacted]"},
		{name: "secret JSON-escaped", in: `{"h":` + jsonString(secret) + `}`, secrets: []string{secret}, want: `{"h":"[redacted]"}`},
		{name: "longer secret first", in: "abcdef", secrets: []string{"abc", "abcdef"}, want: "[redacted]"},
		{name: "empty secret ignored", in: "text", secrets: []string{""}, want: "text"},
		{name: "cut", in: strings.Repeat("x", 20), limit: 8, want: "xxxxxxxx…"},
		{name: "cut at a rune boundary", in: "aaaaaaa€€", limit: 8, want: "aaaaaaa…"},
		{name: "secret straddling the cut", in: "xxxx" + secret, limit: 6, secrets: []string{secret}, want: "xxxx[r…"},
		{name: "default limit", in: strings.Repeat("y", 300), want: strings.Repeat("y", Limit) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Clean(tt.in, tt.limit, tt.secrets...))
		})
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// FuzzClean checks that Clean never panics, keeps to its limit, returns
// valid UTF-8 without control characters, and never returns a secret.
func FuzzClean(f *testing.F) {
	f.Add("message \x1b[2J with SECRET", 16, "SECRET")
	f.Add("€€€€", 5, "")
	f.Add("aaaa", 1, "aa")
	f.Fuzz(func(t *testing.T, s string, limit int, secret string) {
		got := Clean(s, limit, secret)
		if limit <= 0 {
			limit = Limit
		}
		if len(got) > limit+len(ellipsis) {
			t.Fatalf("len %d > limit %d", len(got), limit)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8: %q", got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("control character in %q", got)
			}
		}
		if secret != "" && !strings.Contains(Redacted, secret) && strings.Contains(Scrub(s, secret), secret) {
			t.Fatalf("secret %q survived in %q", secret, Scrub(s, secret))
		}
	})
}

// A part of a long secret is removed; a short secret's parts are not
// (they would blank ordinary words); text around them stays.
func TestScrubFragments(t *testing.T) {
	long := "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
	for _, tc := range []struct{ in, want string }{
		{"token " + long[:30] + "... refused", "token " + Redacted + "... refused"},
		{"prefix " + long[10:40] + " suffix", "prefix " + Redacted + " suffix"},
		{"nothing here", "nothing here"},
		{"short " + long[:15], "short " + long[:15]},
	} {
		if got := Scrub(tc.in, long, "pw"); got != tc.want {
			t.Errorf("Scrub(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
	if got := Scrub("a password of 20 chars", "password of 20 chars"); got != "a "+Redacted {
		t.Errorf("a short secret whole: %q", got)
	}
}
