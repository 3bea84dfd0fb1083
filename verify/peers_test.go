package verify_test

// Helpers for the integration tests (integration_*_test.go): a clock the
// test moves, a client that counts key fetches, client-credentials tokens
// from oidc-provider, and a dedicated oidc-provider the test restarts.
// Names start with "peer" so they stay clear of the package's unit tests.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
)

// The oidc-provider peer's API resource (RFC 8707) and a client allowed
// client credentials for it (scripts/peers/oidc-provider/server.mjs).
const (
	peerResource = "urn:sdk-test:api"
	peerScope    = "api:read"
)

var peerClient = data.ClientInfo{ClientID: "sdk-cc-basic", ClientSecret: "sdk-cc-basic-secret"}

// peerClock is a clock the test moves forward. Safe for concurrent use.
type peerClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newPeerClock() *peerClock { return &peerClock{t: time.Now()} }

func (c *peerClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *peerClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// peerCounter is an http.RoundTripper that counts requests by path. Its
// own Transport keeps idle connections out of other tests' way; close them
// with CloseIdleConnections.
type peerCounter struct {
	next  *http.Transport
	mu    sync.Mutex // guards paths
	paths map[string]int
	total atomic.Int64
}

func newPeerCounter() *peerCounter {
	return &peerCounter{next: http.DefaultTransport.(*http.Transport).Clone(), paths: map[string]int{}}
}

func (c *peerCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.paths[r.URL.Path]++
	c.mu.Unlock()
	c.total.Add(1)
	return c.next.RoundTrip(r)
}

func (c *peerCounter) client() *http.Client { return &http.Client{Transport: c} }

// count returns the requests made to paths ending in suffix.
func (c *peerCounter) count(suffix string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for p, k := range c.paths {
		if strings.HasSuffix(p, suffix) {
			n += k
		}
	}
	return n
}

func (c *peerCounter) CloseIdleConnections() { c.next.CloseIdleConnections() }

// peerToken gets a client-credentials access token for the API resource
// through the SDK's service-account authorizer.
func peerToken(t *testing.T, issuer string) string {
	t.Helper()
	env := oauth2auth.Environment{Name: "peer", TokenURL: issuer + "/token",
		Scopes: []string{peerScope}, Resources: []string{peerResource}}
	a, err := oauth2auth.NewServiceAccountAuthorizer(peerClient, env)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := a.Authorize(context.Background())
	if err != nil {
		t.Fatalf("client credentials at %s: %v", issuer, err)
	}
	return tok.AccessToken
}

// peerProvider is an oidc-provider of the test's own, on a free loopback
// port, so that the test can restart it: every start has a new signing key.
type peerProvider struct {
	t       *testing.T
	port    int
	dir     string
	script  string
	started int
	keyID   string // KEY_ID of the next start; "" for the server's default
}

// startPeerProvider starts a dedicated oidc-provider; the test's cleanup
// stops it.
func startPeerProvider(t *testing.T) *peerProvider {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	p := &peerProvider{t: t, port: freePort(t), dir: t.TempDir(),
		script: filepath.Join(root, "scripts", "peers", "oidc-provider")}
	t.Cleanup(p.stop)
	p.start()
	return p
}

func (p *peerProvider) issuer() string { return fmt.Sprintf("http://127.0.0.1:%d", p.port) }

func (p *peerProvider) run(name string) {
	p.t.Helper()
	cmd := exec.Command(filepath.Join(p.script, name))
	cmd.Env = append(os.Environ(), fmt.Sprintf("PORT=%d", p.port), "KEY_ID="+p.keyID,
		"PIDFILE="+filepath.Join(p.dir, "oidc.pid"), "LOGFILE="+filepath.Join(p.dir, fmt.Sprintf("oidc-%d.log", p.started)))
	if out, err := cmd.CombinedOutput(); err != nil {
		p.t.Fatalf("%s: %v\n%s", name, err, out)
	}
}

func (p *peerProvider) start() { p.t.Helper(); p.started++; p.run("start.sh") }

func (p *peerProvider) stop() { p.t.Helper(); p.run("stop.sh") }

// restart stops the provider and starts it again with a new signing key
// whose kid is keyID ("" for the server's default, the kid it had before).
func (p *peerProvider) restart(keyID string) {
	p.t.Helper()
	p.stop()
	p.keyID = keyID
	p.start()
}

// freePort asks the kernel for a loopback port that is free right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
