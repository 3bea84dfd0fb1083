package endpoint

import "testing"

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true}, {"LOCALHOST", true}, {"127.0.0.1", true}, {"127.1.2.3", true},
		{"::1", true}, {"::ffff:127.0.0.1", true}, {"::1%lo", true},
		{"localhost.example", false}, {"127.0.0.1.nip.io", false}, {"10.0.0.1", false},
		{"", false}, {"example.com", false}, {"::", false}, {"0.0.0.0", false},
	}
	for _, tt := range tests {
		if got := IsLoopback(tt.host); got != tt.want {
			t.Errorf("IsLoopback(%q) = %v; want %v", tt.host, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		rule Rule
		want Problem
	}{
		{"https", "https://idp.example/token", Rule{}, OK},
		{"loopback http", "http://127.0.0.1:9/token", Rule{}, OK},
		{"localhost http", "http://localhost/token", Rule{}, OK},
		{"plain http", "http://idp.example/token", Rule{}, PlainHTTP},
		{"plain http allowed", "http://idp.example/token", Rule{AllowHTTP: true}, OK},
		{"https only refuses loopback http", "http://127.0.0.1/token", Rule{HTTPSOnly: true}, Downgrade},
		{"https only wins over allow", "http://idp.example/token", Rule{AllowHTTP: true, HTTPSOnly: true}, Downgrade},
		{"relative", "/token", Rule{}, NotAbsolute},
		{"no host", "https:///token", Rule{}, NotAbsolute},
		{"garbage", "://x", Rule{}, NotAbsolute},
		{"user info", "https://u:p@idp.example/", Rule{}, UserInfo},
		{"fragment", "https://idp.example/#x", Rule{}, UserInfo},
		{"ftp", "ftp://idp.example/", Rule{}, NotHTTP},
		{"look-alike", "http://localhost.attacker.example/", Rule{}, PlainHTTP},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Check(tt.raw, tt.rule); got != tt.want {
				t.Errorf("Check(%q, %+v) = %v; want %v", tt.raw, tt.rule, got, tt.want)
			}
		})
	}
}

func TestExplainNamesTheOption(t *testing.T) {
	got := PlainHTTP.Explain("oauth2auth.InsecureAllowHTTP")
	want := "uses plain http to a non-loopback host (https is required; see oauth2auth.InsecureAllowHTTP)"
	if got != want {
		t.Errorf("Explain = %q; want %q", got, want)
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"https://a/", "http://127.0.0.1/", "http://[::1]:80/", "x", "http://u@h/#f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p := Check(raw, Rule{})
		if p == OK && Check(raw, Rule{AllowHTTP: true}) != OK {
			t.Fatalf("AllowHTTP refused %q that the strict rule accepts", raw)
		}
		_ = p.Explain("x.InsecureAllowHTTP")
	})
}
