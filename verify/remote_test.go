package verify

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"go.uber.org/goleak"
)

// Remote key sources on a clock the test moves and a JWKS server that
// counts fetches. The server may take 20 ms per answer, as in the issue's
// figures; no assertion depends on that time.

// remoteFixture is a verifier over a JWKS server holding key k1 (rsaKey 0).
type remoteFixture struct {
	srv   *jwksServer
	clock *clock
	keys  KeySource
	v     *Verifier
	logs  *syncBuffer
}

func newRemoteFixture(t *testing.T, opts ...Option) *remoteFixture {
	t.Helper()
	f := &remoteFixture{clock: newClock(), logs: &syncBuffer{}}
	f.srv = newJWKSServer(t, jwkOf("k1", rsaKey(0)))
	logger := slog.New(slog.NewTextHandler(f.logs, nil))
	f.keys = JWKS(f.srv.URL, append([]Option{WithClock(f.clock.Now), WithLogger(logger)}, opts...)...)
	t.Cleanup(func() { f.keys.Close() })
	f.v = newTestVerifier(t, f.keys, f.clock)
	return f
}

func (f *remoteFixture) verify(kid string, keyIndex int) error {
	_, err := f.v.Verify(context.Background(), token(rsaKey(keyIndex), "RS256", kid, with(goodClaims(), "jti", randomKid())))
	return err
}

// warm loads the keys and moves past the refresh interval.
func (f *remoteFixture) warm(t *testing.T) {
	t.Helper()
	if err := f.verify("k1", 0); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.fetches.Load(); n != 1 {
		t.Fatalf("warm-up made %d fetches; want 1", n)
	}
	f.clock.Add(DefaultMinRefreshInterval)
}

var kidMu sync.Mutex
var kidN int

func randomKid() string {
	kidMu.Lock()
	defer kidMu.Unlock()
	kidN++
	return fmt.Sprintf("random-%d-%d", kidN, time.Now().UnixNano())
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func slowServer(s *jwksServer) {
	inner := s.Config.Handler
	s.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		inner.ServeHTTP(w, r)
	})
}

func TestFloodOfRandomKidsFromGoroutines(t *testing.T) {
	f := newRemoteFixture(t)
	slowServer(f.srv)
	f.warm(t)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			for range 10 {
				if err := f.verify(randomKid(), 0); !errors.Is(err, authorizer.ErrTokenUnknownKey) {
					t.Errorf("got %v; want ErrTokenUnknownKey", err)
				}
			}
		})
	}
	wg.Wait()
	if n := f.srv.fetches.Load() - 1; n != 1 {
		t.Errorf("200 random-kid tokens from 20 goroutines made %d fetches; want 1", n)
	}
	if err := f.verify("k1", 0); err != nil {
		t.Errorf("the real key after the flood: %v", err)
	}
}

func TestSequentialRandomKids(t *testing.T) {
	f := newRemoteFixture(t)
	f.warm(t)
	for range 50 {
		if err := f.verify(randomKid(), 0); !errors.Is(err, authorizer.ErrTokenUnknownKey) {
			t.Fatalf("got %v", err)
		}
	}
	if n := f.srv.fetches.Load() - 1; n != 1 {
		t.Errorf("50 sequential random kids in one interval made %d fetches; want 1", n)
	}
	// 50 more, one per second: one fetch per 10 s interval at most.
	before := f.srv.fetches.Load()
	for range 50 {
		f.clock.Add(time.Second)
		_ = f.verify(randomKid(), 0)
	}
	if n := f.srv.fetches.Load() - before; n > 5 {
		t.Errorf("50 random kids over 50 s made %d fetches; want at most 5", n)
	}
}

func TestRepeatedUnknownKidIsRemembered(t *testing.T) {
	f := newRemoteFixture(t)
	f.warm(t)
	for range 5 {
		if err := f.verify("bogus", 0); !errors.Is(err, authorizer.ErrTokenUnknownKey) {
			t.Fatalf("got %v", err)
		}
		f.clock.Add(DefaultMinRefreshInterval)
	}
	if n := f.srv.fetches.Load() - 1; n != 1 {
		t.Errorf("one repeated unknown kid over 5 intervals made %d fetches; want 1", n)
	}
}

func TestRotatedKeyAcceptedAfterOneRefresh(t *testing.T) {
	f := newRemoteFixture(t)
	f.warm(t)
	f.srv.publish(jwkOf("k2", rsaKey(1)))
	if err := f.verify("k2", 1); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	if n := f.srv.fetches.Load(); n != 2 {
		t.Errorf("fetches = %d; want 2", n)
	}
	if err := f.verify("k1", 0); !errors.Is(err, authorizer.ErrTokenUnknownKey) {
		t.Errorf("removed key: got %v; want ErrTokenUnknownKey", err)
	}
}

// TestBurnThenRotate: a flood uses the refresh, then the provider rotates.
// The new key is refused (fast, no fetch) until the interval ends, then
// accepted: within one interval of the flood.
func TestBurnThenRotate(t *testing.T) {
	f := newRemoteFixture(t)
	f.warm(t)
	for range 100 {
		_ = f.verify(randomKid(), 0)
	}
	f.srv.publish(jwkOf("k1", rsaKey(0)), jwkOf("k2", rsaKey(1)))
	f.clock.Add(time.Second)
	if err := f.verify("k2", 1); !errors.Is(err, authorizer.ErrTokenUnknownKey) {
		t.Fatalf("within the burnt interval: got %v; want ErrTokenUnknownKey", err)
	}
	if n := f.srv.fetches.Load(); n != 2 {
		t.Fatalf("fetches = %d; want 2 (warm-up, flood)", n)
	}
	f.clock.Add(DefaultMinRefreshInterval - time.Second)
	if err := f.verify("k2", 1); err != nil {
		t.Fatalf("one interval after the flood: %v", err)
	}
	if n := f.srv.fetches.Load(); n != 3 {
		t.Errorf("fetches = %d; want 3", n)
	}
}

// waitFetches waits until the server has answered n fetches and the
// source has finished them; it polls, with a generous deadline.
func waitFetches(t *testing.T, f *remoteFixture, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for f.srv.fetches.Load() < n || f.keys.(*remoteSource).busy() {
		if time.Now().After(deadline) {
			t.Fatalf("fetches = %d; want %d", f.srv.fetches.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPeriodicRefreshHonoursMaxAge(t *testing.T) {
	for _, tc := range []struct {
		cacheControl string
		quiet, due   time.Duration
	}{
		{"max-age=1800", 29 * time.Minute, 31 * time.Minute},
		{"public, max-age=5", 14 * time.Minute, 16 * time.Minute}, // clamped up to 15 min
		{"max-age=86400", 59 * time.Minute, 61 * time.Minute},     // clamped down to 1 h
		{"", 14 * time.Minute, 16 * time.Minute},                  // none: 15 min
	} {
		t.Run(tc.cacheControl, func(t *testing.T) {
			f := newRemoteFixture(t)
			f.srv.cacheCtl = tc.cacheControl
			if err := f.verify("k1", 0); err != nil {
				t.Fatal(err)
			}
			f.srv.publish(jwkOf("k1", rsaKey(0)), jwkOf("k2", rsaKey(1)))
			f.clock.Add(tc.quiet)
			_ = f.verify("k1", 0)
			waitFetches(t, f, 1)
			if n := f.srv.fetches.Load(); n != 1 {
				t.Fatalf("after %v: fetches = %d; want 1", tc.quiet, n)
			}
			f.clock.Add(tc.due - tc.quiet)
			if err := f.verify("k1", 0); err != nil {
				t.Fatal(err) // served from the held keys while the refresh runs
			}
			waitFetches(t, f, 2)
			// The key published before use is now held: no further fetch.
			if err := f.verify("k2", 1); err != nil {
				t.Fatal(err)
			}
			if n := f.srv.fetches.Load(); n != 2 {
				t.Errorf("fetches = %d; want 2", n)
			}
		})
	}
}

func TestKeysURLDown(t *testing.T) {
	f := newRemoteFixture(t)
	f.warm(t)
	f.srv.setDown(true)
	// Unknown kid: one fetch fails; the held keys stay.
	err := f.verify("k2", 1)
	var ae *authorizer.AuthorizationError
	if !errors.Is(err, authorizer.ErrTokenUnknownKey) || !errors.As(err, &ae) || !ae.Temporary() {
		t.Fatalf("got %v; want ErrTokenUnknownKey wrapping a temporary AuthorizationError", err)
	}
	if err := f.verify("k1", 0); err != nil {
		t.Errorf("held key while down: %v", err)
	}
	if !strings.Contains(f.logs.String(), "fetching keys failed") {
		t.Errorf("failure not logged: %s", f.logs.String())
	}
	// Backoff: 10 s, then 20 s, then 40 s between attempts.
	for i, wait := range []time.Duration{10 * time.Second, 20 * time.Second, 40 * time.Second} {
		before := f.srv.fetches.Load()
		f.clock.Add(wait - time.Second)
		for range 20 {
			if err := f.verify(randomKid(), 0); !errors.Is(err, authorizer.ErrTokenUnknownKey) {
				t.Fatalf("got %v", err)
			}
		}
		if n := f.srv.fetches.Load() - before; n != 0 {
			t.Fatalf("attempt %d: %d fetches during the backoff", i, n)
		}
		f.clock.Add(time.Second)
		_ = f.verify(randomKid(), 0)
		if n := f.srv.fetches.Load() - before; n != 1 {
			t.Fatalf("attempt %d: %d fetches after the backoff; want 1", i, n)
		}
	}
	f.srv.setDown(false)
	f.clock.Add(80 * time.Second)
	f.srv.publish(jwkOf("k2", rsaKey(1)))
	if err := f.verify("k2", 1); err != nil {
		t.Errorf("after recovery: %v", err)
	}
}

func TestNoKeysEverIsTemporaryAuthorizationError(t *testing.T) {
	f := newRemoteFixture(t)
	f.srv.setDown(true)
	err := f.verify("k1", 0)
	var ae *authorizer.AuthorizationError
	var ite *authorizer.InvalidTokenError
	if !errors.As(err, &ae) || !ae.Temporary() || ae.StatusCode != 503 || errors.As(err, &ite) {
		t.Fatalf("got %T %v; want a temporary *AuthorizationError", err, err)
	}
	err = f.verify("k1", 0)
	if !errors.Is(err, authorizer.ErrBackoff) || !errors.As(err, &ae) || !ae.Temporary() {
		t.Fatalf("second try: got %v; want ErrBackoff", err)
	}
	if n := f.srv.fetches.Load(); n != 1 {
		t.Errorf("fetches = %d; want 1", n)
	}
}

func TestFetchLimits(t *testing.T) {
	big := strings.Repeat(" ", maxKeySetSize) + `{"keys":[]}`
	mux := http.NewServeMux()
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(big)) })
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace("http://"+r.Host, "127.0.0.1", "localhost", 1)+"/jwks", http.StatusFound)
	})
	mux.HandleFunc("/same", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/jwks", http.StatusFound) })
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		if a := r.Header.Get("Accept"); !strings.Contains(a, "json") {
			t.Errorf("Accept = %q", a)
		}
		w.Write([]byte(`{"keys":[` + mustJSON(jwkOf("k1", rsaKey(0))) + `]}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, tc := range []struct {
		path string
		ok   bool
	}{{"/big", false}, {"/elsewhere", false}, {"/same", true}, {"/jwks", true}} {
		keys := JWKS(srv.URL + tc.path)
		v := newTestVerifier(t, keys, newClock())
		err := verifyOnce(v, "k1")
		keys.Close()
		var ae *authorizer.AuthorizationError
		if tc.ok && err != nil || !tc.ok && !errors.As(err, &ae) {
			t.Errorf("%s: got %v; want ok=%v", tc.path, err, tc.ok)
		}
	}
}

func verifyOnce(v *Verifier, kid string) error {
	_, err := v.Verify(context.Background(), token(rsaKey(0), "RS256", kid, goodClaims()))
	return err
}

func TestFetchTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	keys := JWKS(srv.URL, WithFetchTimeout(50*time.Millisecond))
	defer keys.Close()
	err := verifyOnce(newTestVerifier(t, keys, newClock()), "k1")
	var ae *authorizer.AuthorizationError
	if !errors.As(err, &ae) || !errors.Is(err, context.DeadlineExceeded) || !ae.Temporary() {
		t.Fatalf("got %v; want a temporary AuthorizationError wrapping DeadlineExceeded", err)
	}
}

func TestUnusableKeysSkipped(t *testing.T) {
	enc := jwkOf("enc", rsaKey(1))
	enc["use"] = "enc"
	weak := jwkOf("weak", smallRSA())
	hs := map[string]any{"kty": "oct", "kid": "hs", "k": "c2VjcmV0"}
	f := newRemoteFixture(t)
	f.srv.publish(enc, weak, hs, jwkOf("k1", rsaKey(0)))
	if err := f.verify("k1", 0); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(f.logs.String(), "skipping a key"); n != 3 {
		t.Errorf("logged %d skipped keys; want 3:\n%s", n, f.logs.String())
	}
	if err := f.verify("enc", 1); !errors.Is(err, authorizer.ErrTokenUnknownKey) {
		t.Errorf("use=enc key: got %v; want ErrTokenUnknownKey", err)
	}
	_, err := f.v.Verify(context.Background(), token(smallRSA(), "RS256", "weak", goodClaims()))
	if !errors.Is(err, authorizer.ErrTokenUnknownKey) {
		t.Errorf("1024-bit key: got %v; want ErrTokenUnknownKey", err)
	}
}

func TestSharedFetchSurvivesCanceledCaller(t *testing.T) {
	f := newRemoteFixture(t)
	f.srv.gate = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := f.v.Verify(ctx, token(rsaKey(0), "RS256", "k1", goodClaims()))
		done <- err
	}()
	second := make(chan error, 1)
	go func() { second <- f.verify("k1", 0) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled caller: got %v; want context.Canceled", err)
	}
	f.srv.gate <- struct{}{}
	if err := <-second; err != nil {
		t.Fatalf("other caller: %v", err)
	}
	if n := f.srv.fetches.Load(); n != 1 {
		t.Errorf("fetches = %d; want 1", n)
	}
}

func TestCloseStopsFetchNoLeak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := &jwksServer{gate: make(chan struct{})}
	srv.publish(jwkOf("k1", rsaKey(0)))
	srv.Server = httptest.NewServer(http.HandlerFunc(srv.serve))
	defer srv.Close()
	defer close(srv.gate)
	keys := JWKS(srv.URL)
	v := newTestVerifier(t, keys, newClock())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- verifyOnce2(ctx, v) }()
	for srv.fetches.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	keys.Close() // cancels the fetch blocked in the server and waits for it
	cancel()
	<-done
	err := verifyOnce(v, "k1")
	if !errors.Is(err, authorizer.ErrClosed) {
		t.Errorf("after Close: got %v; want ErrClosed", err)
	}
}

func verifyOnce2(ctx context.Context, v *Verifier) error {
	_, err := v.Verify(ctx, token(rsaKey(0), "RS256", "k1", goodClaims()))
	return err
}

func TestPEMURLRotation(t *testing.T) {
	var mu sync.Mutex
	current := rsaKey(0)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		der, _ := x509.MarshalPKIXPublicKey(&current.PublicKey)
		mu.Unlock()
		pem.Encode(w, &pem.Block{Type: "PUBLIC KEY", Bytes: der})
	}))
	defer srv.Close()
	c := newClock()
	keys := PEMURL(srv.URL+"/auth/public-key", WithClock(c.Now))
	defer keys.Close()
	v := newTestVerifier(t, keys, c)
	sign := func(i int) error {
		_, err := v.Verify(context.Background(), token(rsaKey(i), "RS256", "", goodClaims()))
		return err
	}
	if err := sign(0); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	current = rsaKey(1) // the service restarted with a new key
	mu.Unlock()
	if err := sign(1); !errors.Is(err, authorizer.ErrTokenSignature) {
		t.Fatalf("within the interval: got %v; want ErrTokenSignature", err)
	}
	c.Add(DefaultMinRefreshInterval)
	if err := sign(1); err != nil {
		t.Fatalf("after one refresh: %v", err)
	}
	if err := sign(0); !errors.Is(err, authorizer.ErrTokenSignature) {
		t.Fatalf("old key: got %v; want ErrTokenSignature", err)
	}
}

func TestDiscover(t *testing.T) {
	var srv *httptest.Server
	issuer := ""
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, issuer, srv.URL+"/keys")
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"keys":[` + mustJSON(jwkOf("k1", rsaKey(0))) + `]}`))
	})
	srv = httptest.NewServer(mux)
	defer srv.Close()
	for _, tc := range []struct {
		name, metaIssuer string
		ok               bool
	}{{"same issuer", srv.URL, true}, {"other issuer", "https://evil.example", false}} {
		issuer = tc.metaIssuer
		keys := Discover(srv.URL)
		v, err := New(keys, Expect{Issuer: srv.URL, Audience: []string{testAudience}}, WithClock(newClock().Now))
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(context.Background(), token(rsaKey(0), "RS256", "k1", with(goodClaims(), "iss", srv.URL)))
		keys.Close()
		if (err == nil) != tc.ok {
			t.Errorf("%s: got %v; want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func TestRFC8414Fallback(t *testing.T) {
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/oauth-authorization-server/tenant", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, srv.URL+"/tenant", srv.URL+"/keys")
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"keys":[` + mustJSON(jwkOf("k1", rsaKey(0))) + `]}`))
	})
	srv = httptest.NewServer(mux)
	defer srv.Close()
	keys := Discover(srv.URL + "/tenant")
	defer keys.Close()
	v, err := New(keys, Expect{Issuer: srv.URL + "/tenant", Audience: []string{testAudience}}, WithClock(newClock().Now))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), token(rsaKey(0), "RS256", "k1", with(goodClaims(), "iss", srv.URL+"/tenant"))); err != nil {
		t.Fatal(err)
	}
}

// TestNoRequestOrGoroutineBeforeUse pins the docs: New makes no request,
// and a remote source runs no goroutine until a verification needs keys.
func TestNoRequestOrGoroutineBeforeUse(t *testing.T) {
	srv := newJWKSServer(t, jwkOf("k1", rsaKey(0)))
	ignore := goleak.IgnoreCurrent()
	keys := JWKS(srv.URL)
	newTestVerifier(t, keys, newClock())
	if err := goleak.Find(ignore); err != nil {
		t.Errorf("goroutine before use: %v", err)
	}
	if n := srv.fetches.Load(); n != 0 {
		t.Errorf("New made %d requests", n)
	}
	keys.Close()
	keys.Close() // twice is fine
}

// TestStaleKeysServedWhenPeriodicRefreshFails: a failed background refresh
// leaves the held keys in use and backs off.
func TestStaleKeysServedWhenPeriodicRefreshFails(t *testing.T) {
	f := newRemoteFixture(t)
	f.warm(t)
	f.srv.setDown(true)
	f.clock.Add(DefaultMinKeysAge)
	if err := f.verify("k1", 0); err != nil {
		t.Fatal(err)
	}
	waitFetches(t, f, 2)
	for range 10 {
		if err := f.verify("k1", 0); err != nil {
			t.Fatalf("held key after a failed refresh: %v", err)
		}
	}
	if n := f.srv.fetches.Load(); n != 2 {
		t.Errorf("fetches = %d; want 2 (no retry before the backoff ends)", n)
	}
	f.clock.Add(DefaultMinRefreshInterval)
	_ = f.verify("k1", 0)
	waitFetches(t, f, 3)
}

// TestKeyReplacedUnderSameKid: a provider that restarts with a new key but
// the old kid; a failed signature refreshes (within the interval rule).
func TestKeyReplacedUnderSameKid(t *testing.T) {
	f := newRemoteFixture(t)
	if err := f.verify("k1", 0); err != nil {
		t.Fatal(err)
	}
	f.srv.publish(jwkOf("k1", rsaKey(1)))
	if err := f.verify("k1", 1); !errors.Is(err, authorizer.ErrTokenSignature) {
		t.Fatalf("within the interval: got %v; want ErrTokenSignature", err)
	}
	f.clock.Add(DefaultMinRefreshInterval)
	if err := f.verify("k1", 1); err != nil {
		t.Fatalf("after one refresh: %v", err)
	}
	if n := f.srv.fetches.Load(); n != 2 {
		t.Errorf("fetches = %d; want 2", n)
	}
}

// TestForgedSignaturesBounded: tokens naming a held kid with a bad
// signature cost at most one fetch per interval, like random kids.
func TestForgedSignaturesBounded(t *testing.T) {
	f := newRemoteFixture(t)
	f.warm(t)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			for range 10 {
				if err := f.verify("k1", 2); !errors.Is(err, authorizer.ErrTokenSignature) {
					t.Errorf("got %v; want ErrTokenSignature", err)
				}
			}
		})
	}
	wg.Wait()
	if n := f.srv.fetches.Load() - 1; n != 1 {
		t.Errorf("100 forged tokens made %d fetches; want 1", n)
	}
}
