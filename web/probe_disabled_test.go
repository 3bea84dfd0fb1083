package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestProbeDisabledStillStripsIdentityHeaders: with the kill switch on, an
// app that reads X-Forwarded-User (IdentityHeaders) must not be handed a
// visitor's own copy: "always removed first".
func TestProbeDisabledStillStripsIdentityHeaders(t *testing.T) {
	rg := newRig(t, nil)
	cfg := rg.login.cfg
	cfg.Disabled, cfg.IdentityHeaders = true, true
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var user, email string
	h := l.Wrap(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		user, email = r.Header.Get("X-Forwarded-User"), r.Header.Get("X-Forwarded-Email")
	}))
	req := httptest.NewRequest("GET", "/private/x", nil)
	req.Header.Set("X-Forwarded-User", "admin")
	req.Header.Set("X-Forwarded-Email", "admin@example.test")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if user != "" || email != "" {
		t.Errorf("disabled middleware passed spoofed identity headers %q %q to the app", user, email)
	}
}

func TestProbeConfigAndIdentityPrintNoSecret(t *testing.T) {
	rg := newRig(t, nil)
	c := rg.signIn()
	_ = c
	id, _ := IdentityFrom(rg.seen.Load().Context())
	tok, _ := id.Authorize(t.Context())
	cfg := rg.login.cfg
	cfg.OlderSessionSecrets = []string{strings.Repeat("o", 32)}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		out := fmt.Sprintf(verb, cfg) + fmt.Sprintf(verb, &cfg) + fmt.Sprintf(verb, id) + fmt.Sprintf(verb, rg.login)
		for _, s := range []string{"web-secret", cfg.SessionSecret, cfg.OlderSessionSecrets[0], tok.AccessToken, id.IDToken(),
			fmt.Sprintf("%x", "web-secret"), fmt.Sprintf("%x", cfg.SessionSecret)} {
			if strings.Contains(out, s) {
				t.Errorf("%s shows a secret", verb)
			}
		}
	}
}
