package main

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/internal/peertest"
)

func TestNoSessionSecretNoApp(t *testing.T) {
	t.Setenv("EX_ISSUER", "https://id.example")
	t.Setenv("EX_ID", "app")
	t.Setenv("EX_EXTERNAL_URL", "https://app.example")
	_, _, err := newApp("EX")
	var bad *authorizer.InvalidConfigError
	if !errors.As(err, &bad) || !strings.Contains(bad.Setting, "SessionSecret") {
		t.Errorf("got %v; want InvalidConfigError for SessionSecret", err)
	}
}

func TestAgainstThePeer(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	u, _ := url.Parse(issuer)
	port, _ := strconv.Atoi(u.Port())
	t.Setenv("WEB_ISSUER", issuer)
	t.Setenv("WEB_ID", "sdk-web")
	t.Setenv("WEB_SECRET", "sdk-web-secret")
	t.Setenv("WEB_EXTERNAL_URL", "http://127.0.0.1:"+strconv.Itoa(port+1000))
	t.Setenv("WEB_AUTHENTICATED_PATHS", "/private/")
	t.Setenv("WEB_SESSION_SECRET", "example test secret of 32 bytes or more")
	h, addr, err := newApp("WEB")
	if err != nil {
		t.Fatal(err)
	}
	if addr != "127.0.0.1:"+strconv.Itoa(port+1000) {
		t.Errorf("addr %q", addr)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/private/", nil))
	if w.Code != http.StatusFound || !strings.HasPrefix(w.Header().Get("Location"), issuer+"/auth") {
		t.Errorf("GET /private/: %d to %q; want the provider's login", w.Code, w.Header().Get("Location"))
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Sign in") {
		t.Errorf("GET /: %d", w.Code)
	}
}
