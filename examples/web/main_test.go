package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
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

// The -demo mode end to end: sign in at the demo provider's page, see the
// identity, sign out.
func TestDemo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	for _, k := range []string{"ISSUER", "ID", "SECRET", "EXTERNAL_URL", "AUTHENTICATED_PATHS", "SESSION_SECRET"} {
		t.Setenv("DEMO_"+k, "") // restored after the test
	}
	if err := setDemoEnv("DEMO", addr); err != nil {
		t.Fatal(err)
	}
	h, _, err := newApp("DEMO")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Jar: jar, Transport: tr}
	resp, err := c.Get("http://" + addr + "/private/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	login := resp.Request.URL // the demo provider's login page
	form := login.Query()
	form.Set("login", "zoe")
	resp, err = c.PostForm(login.Scheme+"://"+login.Host+login.Path, form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Hello zoe") || resp.Request.URL.Path != "/private/" {
		t.Fatalf("after sign-in at %s: %.200s", resp.Request.URL, body)
	}
	req, _ := http.NewRequest("POST", "http://"+addr+"/sign-out", strings.NewReader("rd=%2F"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://"+addr)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Sign in") {
		t.Errorf("after sign-out: %.200s", body)
	}
}
