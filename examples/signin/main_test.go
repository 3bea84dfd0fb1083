package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/internal/peertest"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
)

var (
	xsrfRe   = regexp.MustCompile(`name="xsrf" value="([^"]+)"`)
	actionRe = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
)

// approve plays the user at the provider's device page over HTTP: enter
// the code, confirm, sign in as alice, consent.
func approve(ctx context.Context, issuer, userCode string) error {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	post := func(target string, form url.Values) (string, string, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if form == nil {
			req, _ = http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
		}
		resp, err := c.Do(req)
		if err != nil {
			return "", "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.Request.URL.String(), string(b), err
	}
	_, body, err := post(issuer+"/device", nil)
	if err != nil {
		return err
	}
	form := url.Values{"xsrf": {xsrfRe.FindStringSubmatch(body)[1]}, "user_code": {userCode}, "confirm": {"yes"}}
	at, body, err := post(issuer+"/device", form)
	for range 4 {
		if err != nil || strings.Contains(body, "Sign-in Success") {
			return err
		}
		answer := url.Values{"prompt": {"consent"}}
		if strings.Contains(body, `name="login"`) {
			answer = url.Values{"prompt": {"login"}, "login": {"alice"}, "password": {"x"}}
		}
		if m := actionRe.FindStringSubmatch(body); m != nil {
			at = m[1]
		}
		at, body, err = post(at, answer)
	}
	return fmt.Errorf("device sign-in did not finish")
}

func TestSignInCachedSignOut(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	prompts := 0
	prompt := oauth2auth.WithDevicePrompt(func(ctx context.Context, p oauth2auth.DevicePrompt) error {
		prompts++
		return approve(ctx, issuer, p.UserCode)
	})
	c := config{flow: "device", issuer: issuer, clientID: "sdk-native", scopes: "openid offline_access email",
		cacheDir: filepath.Join(t.TempDir(), "cache"), extra: []oauth2auth.Option{prompt}}

	var out bytes.Buffer
	if err := run(ctx, c, &out); err != nil {
		t.Fatalf("first run: %v\n%s", err, out.String())
	}
	first := out.String()
	if !strings.Contains(first, "200 OK") || !strings.Contains(first, `"sub":"alice"`) {
		t.Errorf("the API call failed:\n%s", first)
	}
	if !strings.Contains(first, "access token sha256:") {
		t.Errorf("no fingerprint:\n%s", first)
	}

	out.Reset()
	if err := run(ctx, c, &out); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if prompts != 1 {
		t.Errorf("prompts = %d; want 1 (the second run uses the cached session)", prompts)
	}
	if firstLine(first) != firstLine(out.String()) {
		t.Errorf("second run used another token:\n%s\n%s", first, out.String())
	}

	c.signout = true
	out.Reset()
	if err := run(ctx, c, &out); err != nil || !strings.Contains(out.String(), "signed out") {
		t.Fatalf("sign-out: %v %s", err, out.String())
	}
}

func firstLine(s string) string { l, _, _ := strings.Cut(s, "\n"); return l }
