package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/internal/peertest"
)

const ccSecret = "sdk-cc-basic-secret"

// ccEnv is the client-credentials environment of oidc-provider's sdk-cc-basic.
func ccEnv(issuerOrTokenURL string, tokenURL bool) map[string]any {
	e := map[string]any{"client_id": "sdk-cc-basic", "client_secret_env": "CC_SECRET",
		"scopes": []string{"api:read"}, "resources": []string{"urn:sdk-test:api"}}
	if tokenURL {
		e["token_url"] = issuerOrTokenURL
	} else {
		e["issuer"] = issuerOrTokenURL
	}
	return e
}

func TestClientCredentialsOutputs(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	c := newCLI(t, map[string]map[string]any{"cc": ccEnv(issuer, false)}, "CC_SECRET="+ccSecret)

	out, errOut, code := c.run("token", "--format", "json")
	if code != 0 {
		t.Fatalf("token: exit %d, stderr %q", code, errOut)
	}
	var j struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresAt   string `json:"expires_at"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("json output %q: %v", out, err)
	}
	at, err := time.Parse(time.RFC3339, j.ExpiresAt)
	if err != nil || !strings.HasSuffix(j.ExpiresAt, "Z") || at.Location() != time.UTC {
		t.Errorf("expires_at %q is not RFC 3339 UTC", j.ExpiresAt)
	}
	if j.AccessToken == "" || j.TokenType != "Bearer" || j.ExpiresIn <= 0 {
		t.Errorf("json = %+v", j)
	}
	if strings.Contains(errOut, j.AccessToken) {
		t.Error("the token reached stderr")
	}

	bare, _, code := c.run("token", "--quiet")
	if code != 0 || strings.TrimSpace(bare) != j.AccessToken {
		t.Errorf("bare token %q (exit %d), want the cached %q", bare, code, j.AccessToken)
	}
	hdr, _, _ := c.run("header")
	if strings.TrimSpace(hdr) != "Authorization: Bearer "+j.AccessToken {
		t.Errorf("header = %q", hdr)
	}

	info, errOut, code := c.run("info", j.AccessToken)
	if code != 0 || !strings.Contains(info, "signature: verified") || !strings.Contains(info, `"sub": "sdk-cc-basic"`) {
		t.Errorf("info: exit %d, stdout %q, stderr %q", code, info, errOut)
	}
	// A token whose signature is broken is invalid: exit 1.
	parts := strings.Split(j.AccessToken, ".")
	forged := parts[0] + "." + parts[1] + ".AAAA" + parts[2][4:]
	if info, _, code := c.run("info", forged); code != exitFailed || !strings.Contains(info, "INVALID") {
		t.Errorf("info of a forged token: exit %d, %q", code, info)
	}

	envs, _, code := c.run("envs")
	if code != 0 || !strings.Contains(envs, "cc\tclient_credentials\t"+issuer+"\tsdk-cc-basic") || strings.Contains(envs, ccSecret) {
		t.Errorf("envs: exit %d, %q", code, envs)
	}
	if _, _, code := c.run("test"); code != 0 {
		t.Errorf("test: exit %d", code)
	}
}

// countingProxy forwards to issuer and counts token requests.
func countingProxy(t *testing.T, issuer string) (tokenURL string, count *atomic.Int64) {
	u, err := url.Parse(issuer)
	if err != nil {
		t.Fatal(err)
	}
	count = new(atomic.Int64)
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/token" {
			count.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/token", count
}

func TestCacheReuseResetRefresh(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	tokenURL, count := countingProxy(t, issuer)
	c := newCLI(t, map[string]map[string]any{"cc": ccEnv(tokenURL, true)}, "CC_SECRET="+ccSecret)

	first, errOut, code := c.run("token")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	second, _, _ := c.run("token")
	if first != second || count.Load() != 1 {
		t.Fatalf("two runs: same token %v, %d token requests, want 1", first == second, count.Load())
	}
	// The cache is encrypted: the token is not in any file of the cache directory.
	files, _ := os.ReadDir(c.cacheDir)
	for _, f := range files {
		b, _ := os.ReadFile(c.cacheDir + "/" + f.Name())
		if strings.Contains(string(b), strings.TrimSpace(first)) {
			t.Errorf("%s holds the token in clear", f.Name())
		}
		if st, _ := os.Stat(c.cacheDir + "/" + f.Name()); st.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v", f.Name(), st.Mode())
		}
	}
	if _, _, code := c.run("reset"); code != 0 {
		t.Fatalf("reset: exit %d", code)
	}
	third, _, _ := c.run("token")
	if count.Load() != 2 || third == first {
		t.Errorf("after reset: %d token requests, want 2", count.Load())
	}
	if _, _, _ = c.run("token", "--refresh"); count.Load() != 3 {
		t.Errorf("--refresh: %d token requests, want 3", count.Load())
	}
}

// TestTwoRunsAtOnceOneSignIn: two device-flow runs started together show
// one device code; the second waits on the cache's lock and takes the
// first one's token.
func TestTwoRunsAtOnceOneSignIn(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	c := newCLI(t, map[string]map[string]any{"dev": {"flow": "device", "issuer": issuer,
		"client_id": "sdk-native", "scopes": []string{"openid", "offline_access"}}})
	if _, _, code := c.run("reset"); code != 0 { // creates the key file first
		t.Fatal("reset failed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	codes := make(chan string, 2)
	type result struct {
		out string
		err error
	}
	results := make(chan result, 2)
	for range 2 {
		cmd := c.command(ctx, "token")
		stderr, _ := cmd.StderrPipe()
		var out strings.Builder
		cmd.Stdout = &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				if m := userCodeRE.FindStringSubmatch(sc.Text()); m != nil {
					codes <- m[1]
				}
			}
			err := cmd.Wait()
			results <- result{out.String(), err}
		}()
	}
	var code string
	select {
	case code = <-codes:
	case <-ctx.Done():
		t.Fatal("no device code")
	}
	if err := peertest.NewUser("alice").ApproveDevice(ctx, issuer, code); err != nil {
		t.Fatal(err)
	}
	a, b := <-results, <-results
	if a.err != nil || b.err != nil || a.out == "" || a.out != b.out {
		t.Errorf("two runs: %v, %v, same token %v", a.err, b.err, a.out == b.out)
	}
	if n := len(codes); n != 0 {
		t.Errorf("%d more device codes shown, want one sign-in", n)
	}
}

func TestExitCodes(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	const wrong = "not-the-secret-4711"
	c := newCLI(t, map[string]map[string]any{"cc": ccEnv(issuer, false)}, "CC_SECRET="+wrong)
	out, errOut, code := c.run("token")
	if code != exitClient || out != "" || !strings.Contains(errOut, "[invalid_client]") || strings.Contains(errOut, wrong) {
		t.Errorf("wrong secret: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if n := strings.Count(strings.TrimSpace(errOut), "\n"); n != 0 {
		t.Errorf("error is %d lines: %q", n+1, errOut)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String() + "/token"
	l.Close()
	c = newCLI(t, map[string]map[string]any{"cc": ccEnv(dead, true)}, "CC_SECRET="+ccSecret)
	if _, errOut, code := c.run("test"); code != exitTemporary {
		t.Errorf("unreachable provider: exit %d, stderr %q", code, errOut)
	}
	if _, _, code := c.run("token", "-e", "nope"); code != exitConfig {
		t.Errorf("unknown environment: exit %d", code)
	}
	if _, _, code := c.run("token", "--format", "xml"); code != exitUsage {
		t.Errorf("bad format: exit %d", code)
	}
}

// childPids lists pid's children (forked by any of its threads).
func childPids(pid int) []string {
	tasks, _ := os.ReadDir("/proc/" + itoa(pid) + "/task")
	var out []string
	for _, task := range tasks {
		b, _ := os.ReadFile("/proc/" + itoa(pid) + "/task/" + task.Name() + "/children")
		out = append(out, strings.Fields(string(b))...)
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestCurlPassThrough(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed (scripts/install-deps.sh installs it)")
	}
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("no /proc")
	}
	c := newCLI(t, map[string]map[string]any{"cc": ccEnv(issuer, false)}, "CC_SECRET="+ccSecret)
	tok, _, code := c.run("token")
	tok = strings.TrimSpace(tok)
	if code != 0 {
		t.Fatal("token failed")
	}
	arrived := make(chan struct{})
	release := make(chan struct{})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+tok {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/forbidden" {
			http.Error(w, "no", http.StatusForbidden)
			return
		}
		if r.URL.Path == "/block" {
			close(arrived)
			<-release
		}
		w.Write([]byte("hello " + r.URL.Path))
	}))
	defer api.Close()

	out, errOut, code := c.run("curl", "--", "-s", "-f", api.URL+"/ok")
	if code != 0 || out != "hello /ok" {
		t.Errorf("curl: exit %d, out %q, err %q", code, out, errOut)
	}
	// curl's exit status passes through: -f on a 403 is 22.
	if _, _, code := c.run("curl", "--", "-s", "-f", api.URL+"/forbidden"); code != 22 {
		t.Errorf("curl -f on a 403: exit %d, want curl's 22", code)
	}

	// While curl runs, neither its argv nor ours holds the token or the secret.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := c.command(ctx, "curl", "--", "-s", api.URL+"/block")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived:
	case <-ctx.Done():
		t.Fatal("the request never arrived")
	}
	pids := append([]string{itoa(cmd.Process.Pid)}, childPids(cmd.Process.Pid)...)
	if len(pids) < 2 {
		t.Error("found no curl child")
	}
	for _, p := range pids {
		argv, err := os.ReadFile("/proc/" + p + "/cmdline")
		if err != nil {
			t.Errorf("reading argv of %s: %v", p, err)
			continue
		}
		if strings.Contains(string(argv), tok) || strings.Contains(string(argv), ccSecret) {
			t.Errorf("argv of pid %s holds a secret: %q", p, argv)
		}
	}
	close(release)
	body, _ := bufio.NewReader(stdout).ReadString('\n')
	if err := cmd.Wait(); err != nil || body != "hello /block" {
		t.Errorf("blocked curl: %v, %q", err, body)
	}
}

var userCodeRE = regexp.MustCompile(`enter the code (\S+)`)

func TestDeviceLoginThenCachedToken(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	c := newCLI(t, map[string]map[string]any{"dev": {"flow": "browser", "issuer": issuer,
		"client_id": "sdk-native", "scopes": []string{"openid", "offline_access"}}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// flow browser, but no DISPLAY/BROWSER: the device code is used.
	cmd := c.command(ctx, "login")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	var code string
	for sc.Scan() {
		if m := userCodeRE.FindStringSubmatch(sc.Text()); m != nil {
			code = m[1]
			break
		}
	}
	if code == "" {
		t.Fatal("no device code on stderr")
	}
	go drain(sc)
	if err := peertest.NewUser("alice").ApproveDevice(ctx, issuer, code); err != nil {
		t.Fatalf("approve: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	out, errOut, exit := c.run("token")
	if exit != 0 || strings.TrimSpace(out) == "" || strings.Contains(errOut, "enter the code") {
		t.Errorf("token after login: exit %d, stderr %q", exit, errOut)
	}
	if _, errOut, exit := c.run("logout"); exit != 0 {
		t.Errorf("logout: exit %d, %q", exit, errOut)
	}
	// Signed out: the next token needs a new sign-in (a new device code).
	ctx2, cancel2 := context.WithCancel(ctx)
	defer cancel2()
	cmd = c.command(ctx2, "token")
	stderr, _ = cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc = bufio.NewScanner(stderr)
	asked := false
	for sc.Scan() {
		if userCodeRE.MatchString(sc.Text()) {
			asked = true
			break
		}
	}
	cancel2()
	go drain(sc)
	_ = cmd.Wait()
	if !asked {
		t.Error("after logout the cached token was still used")
	}
}

func TestSRP(t *testing.T) {
	seed := peertest.Cognito(t, "AUTHORIZER_COGNITO_SEED")
	alice := seed.Users["alice"]
	env := map[string]any{"flow": "srp", "region": seed.Region, "user_pool_id": seed.UserPoolID,
		"endpoint": seed.Endpoint, "client_id": seed.Clients["sdk-public"].ClientID,
		"username": "alice", "password_env": "ALICE_PASSWORD"}
	c := newCLI(t, map[string]map[string]any{"pool": env}, "ALICE_PASSWORD="+alice.Password)
	out, errOut, code := c.run("token", "--format", "json")
	if code != 0 || !strings.Contains(out, `"access_token":"ey`) {
		t.Fatalf("srp token: exit %d, stderr %q", code, errOut)
	}
	// moto does not check the SRP proof (see srp/integration_test.go), so the
	// refused credentials are those of a disabled user.
	env["username"] = "dave"
	dave := seed.Users["dave"].Password
	c = newCLI(t, map[string]map[string]any{"pool": env}, "ALICE_PASSWORD="+dave)
	if _, errOut, code := c.run("test"); code != exitCredentials || strings.Contains(errOut, dave) {
		t.Errorf("disabled user: exit %d, stderr %q", code, errOut)
	}
}

// waitFile waits (until ctx ends) for path to hold a line.
func waitFile(ctx context.Context, path string) (string, error) {
	for {
		if b, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(b), "\n") {
			return strings.TrimSpace(string(b)), nil
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestBrowserLoginAndFallback(t *testing.T) {
	issuer := peertest.Env(t, "AUTHORIZER_OIDC_ISSUER")
	env := map[string]map[string]any{"me": {"flow": "browser", "issuer": issuer,
		"client_id": "sdk-native", "scopes": []string{"openid", "offline_access"}}}
	dir := t.TempDir()
	urlFile := dir + "/url"
	script := dir + "/browser"
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho \"$1\" > "+urlFile+".tmp && mv "+urlFile+".tmp "+urlFile+"\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	c := newCLI(t, env, "BROWSER="+script)
	cmd := c.command(ctx, "login")
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	authURL, err := waitFile(ctx, urlFile)
	if err != nil {
		t.Fatal("the browser was never opened")
	}
	if _, err := peertest.NewUser("bob").SignIn(ctx, authURL); err != nil {
		t.Fatalf("browser sign-in: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("login: %v, %s", err, errb.String())
	}
	if out, _, code := c.run("token"); code != 0 || strings.TrimSpace(out) == "" {
		t.Errorf("token after browser login: exit %d", code)
	}

	// An opener that fails: the device flow takes over.
	c = newCLI(t, env, "BROWSER=/bin/false")
	cmd = c.command(ctx, "login")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	var code string
	for sc.Scan() {
		if m := userCodeRE.FindStringSubmatch(sc.Text()); m != nil {
			code = m[1]
			break
		}
	}
	go drain(sc)
	if code == "" {
		t.Fatal("no device code after the browser failed")
	}
	if err := peertest.NewUser("alice").ApproveDevice(ctx, issuer, code); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("login with fallback: %v", err)
	}
}

func TestSRPPasswordNeverFromNowhere(t *testing.T) {
	seed := peertest.Cognito(t, "AUTHORIZER_COGNITO_SEED")
	env := map[string]any{"flow": "srp", "region": seed.Region, "user_pool_id": seed.UserPoolID,
		"endpoint": seed.Endpoint, "client_id": seed.Clients["sdk-public"].ClientID, "username": "alice"}
	c := newCLI(t, map[string]map[string]any{"pool": env})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// No password variable or file, and no terminal to prompt on (a new
	// session has no controlling terminal): a configuration error.
	cmd := c.command(ctx, "token")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var errb strings.Builder
	cmd.Stderr = &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitConfig || !strings.Contains(errb.String(), "password_env") {
		t.Errorf("no password: %v, %q", err, errb.String())
	}
	// A password file works.
	pw := t.TempDir() + "/pw"
	if err := os.WriteFile(pw, []byte(seed.Users["alice"].Password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env["password_file"] = pw
	c = newCLI(t, map[string]map[string]any{"pool": env})
	if out, errOut, code := c.run("token"); code != 0 || !strings.HasPrefix(out, "ey") {
		t.Errorf("password file: exit %d, %q", code, errOut)
	}
}

// drain reads the rest of a child's output (its own scanner: callers reuse variables).
func drain(sc *bufio.Scanner) {
	for sc.Scan() {
	}
}
