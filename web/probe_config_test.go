package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestProbeUpperCaseHTTPSExternalURLKeepsSecureCookies: "HTTPS://App.Example.COM"
// is an https origin; its cookies must be Secure with the __Host- prefix, and
// a browser's Origin (always lower case) must pass the sign-out check.
func TestProbeUpperCaseHTTPSExternalURLKeepsSecureCookies(t *testing.T) {
	rg := newRig(t, nil)
	cfg := rg.login.cfg
	cfg.ExternalURL = "HTTPS://App.Example.COM"
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !l.jar.secure || !strings.HasPrefix(l.jar.name, "__Host-") {
		t.Errorf("cookies for %s: secure=%v name=%q; want Secure and __Host-", cfg.ExternalURL, l.jar.secure, l.jar.name)
	}
	req := httptest.NewRequest("POST", "https://app.example.com/sign-out", strings.NewReader(""))
	req.Header.Set("Origin", "https://app.example.com")
	if !l.sameOrigin(req) {
		t.Errorf("Origin https://app.example.com refused for ExternalURL %s", cfg.ExternalURL)
	}
	if got := l.callbackURL; got != "https://app.example.com/oidc_callback" {
		t.Errorf("callback URL %q", got)
	}
}

// TestProbeDefaultPortOrigin: browsers omit the default port in Origin.
func TestProbeDefaultPortOrigin(t *testing.T) {
	rg := newRig(t, nil)
	cfg := rg.login.cfg
	cfg.ExternalURL = "https://app.example.com:443"
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	req := httptest.NewRequest("POST", "https://app.example.com/sign-out", nil)
	req.Header.Set("Origin", "https://app.example.com")
	if !l.sameOrigin(req) {
		t.Errorf("Origin without :443 refused for %s", cfg.ExternalURL)
	}
	req.Header.Set("Origin", "https://app.example.com.evil")
	if l.sameOrigin(req) {
		t.Error("lookalike origin accepted")
	}
	_ = http.MethodPost
}
