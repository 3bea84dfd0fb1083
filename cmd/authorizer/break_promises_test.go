package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingTokenServer issues a new token per request and counts them.
func countingTokenServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1)
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"tok-%d-%s","token_type":"Bearer","expires_in":3600}`, i, strings.ReplaceAll(r.Form.Get("scope"), " ", "_"))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// Tokens only on stdout; --quiet leaves stderr empty; json has expires_at
// in UTC whatever TZ says; envs shows no secret; the cache is reused,
// --refresh and reset get a new token; different scopes and environments
// never share a cached token.
func TestBreakOutputCacheAndIsolation(t *testing.T) {
	srv, n := countingTokenServer(t)
	base := func(scopes ...string) map[string]any {
		return map[string]any{"token_url": srv.URL + "/token", "client_id": "c", "client_secret_env": "S",
			"api_key_env": "K", "scopes": scopes}
	}
	c := newCLI(t, map[string]map[string]any{"a": base("read"), "b": base("write"), "a2": base("read")},
		"S=the-client-secret", "K=the-api-key", "TZ=Pacific/Chatham")

	out, errOut, code := c.run("token", "-e", "a", "--format", "json", "--quiet")
	if code != 0 || errOut != "" {
		t.Fatalf("token json: exit %d, stderr %q", code, errOut)
	}
	var j struct {
		AccessToken string `json:"access_token"`
		ExpiresAt   string `json:"expires_at"`
		ExpiresIn   int    `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil || !strings.HasSuffix(j.ExpiresAt, "Z") {
		t.Fatalf("json %q: %v", out, err)
	}
	if at, err := time.Parse(time.RFC3339, j.ExpiresAt); err != nil || at.Location() != time.UTC || j.ExpiresIn <= 0 {
		t.Errorf("expires_at %q (%v), expires_in %d", j.ExpiresAt, err, j.ExpiresIn)
	}
	first := j.AccessToken

	again, _, _ := c.run("token", "-e", "a", "--quiet")
	if strings.TrimSpace(again) != first || n.Load() != 1 {
		t.Errorf("second run: %q after %q, %d requests; want the cached token", again, first, n.Load())
	}
	other, _, _ := c.run("token", "-e", "b", "--quiet")
	if strings.TrimSpace(other) == first || !strings.Contains(other, "write") {
		t.Errorf("scope write got %q (scope read's token %q)", other, first)
	}
	ref, _, _ := c.run("token", "-e", "a", "--refresh", "--quiet")
	if strings.TrimSpace(ref) == first {
		t.Error("--refresh returned the cached token")
	}
	if _, e, code := c.run("reset", "-e", "a", "--quiet"); code != 0 || e != "" {
		t.Errorf("reset --quiet: exit %d, stderr %q", code, e)
	}
	after, _, _ := c.run("token", "-e", "a", "--quiet")
	if strings.TrimSpace(after) == strings.TrimSpace(ref) {
		t.Error("reset did not forget the token")
	}
	hdr, _, _ := c.run("header", "-e", "a", "--quiet")
	if !strings.HasPrefix(hdr, "Authorization: Bearer tok-") || !strings.Contains(hdr, "\nX-Api-Key: the-api-key\n") {
		t.Errorf("header: %q", hdr)
	}
	envs, envErr, _ := c.run("envs")
	if strings.Contains(envs+envErr, "the-client-secret") || strings.Contains(envs+envErr, "the-api-key") ||
		strings.Count(envs, "\n") != 3 {
		t.Errorf("envs: %q %q", envs, envErr)
	}
	// An error is one line on stderr ending in its code, nothing on stdout.
	bad := newCLI(t, map[string]map[string]any{"x": {"token_url": srv.URL, "client_id": "c", "isuer": "typo"}})
	o, e, code := bad.run("token")
	if code != exitConfig || o != "" || strings.Count(e, "\n") != 1 || !strings.HasSuffix(e, "[invalid_config]\n") {
		t.Errorf("bad config: exit %d, stdout %q, stderr %q", code, o, e)
	}
}

// "Secrets never come from the file": a secret smuggled in as a request
// parameter (params.client_secret) was sent, and named in the cache key.
func TestBreakConfigSecretInParamsRefused(t *testing.T) {
	for _, k := range []string{"client_secret", "Client_Assertion", "password", "refresh_token"} {
		_, err := parseConfig([]byte(`{"x": {"token_url": "https://idp.example/token", "client_id": "c",
			"params": {"` + k + `": ["inline-secret"]}}}`))
		if err == nil || exitCode(err) != exitConfig || strings.Contains(err.Error(), "inline-secret") {
			t.Errorf("params.%s: %v, want a configuration error without the value", k, err)
		}
	}
	if _, err := parseConfig([]byte(`{"x": {"token_url": "https://idp.example/token", "client_id": "c",
		"params": {"prompt": ["consent"]}}}`)); err != nil {
		t.Errorf("harmless params refused: %v", err)
	}
}
