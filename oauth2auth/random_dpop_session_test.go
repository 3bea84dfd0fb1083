package oauth2auth

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/internal/peertest"

	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/dpop"
	"github.com/seed-d44eba79/authorizer/filecache"
	"golang.org/x/oauth2"
)

// Randomized concurrent scenarios for WithDPoP against the fake IdP of
// usersession_fake_test.go, which (like oidc-provider) binds each refresh
// token to the key of the proof that obtained it and refuses it with
// another key, and here requires a nonce that rotates at random. A fixed
// seed set runs by default; DPOP_RANDOM_SEED=n replays one seed,
// DPOP_RANDOM_SEEDS=k adds k seeds from the clock.

func rdsSeeds(t *testing.T) []uint64 {
	return peertest.Seeds(t, "DPOP_RANDOM_SEED", 1, 2, 3, 5, 8, 13)
}

// rdsAudit checks, after the fact, every token request the fake IdP saw:
// a proof on each (htm POST, htu the token URL, no ath, a jti never
// repeated), and each refresh signed by the key its refresh token is bound
// to. It returns the number of successful issues and of token requests.
func rdsAudit(t *testing.T, seed uint64, f *fakeIdP, jwks map[string]bool) (posts int) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[string]bool{}
	for i, form := range f.requests {
		h, c := splitProof(f.dpop.proofs[i])
		switch {
		case f.dpop.proofs[i] == "":
			t.Errorf("seed %d: token request %d carries no proof", seed, i)
		case c.HTM != http.MethodPost || c.HTU != f.srv.URL+"/token" || c.ATH != nil:
			t.Errorf("seed %d: token request %d: htm %q htu %q ath %v", seed, i, c.HTM, c.HTU, c.ATH)
		case seen[c.JTI] || c.JTI == "":
			t.Errorf("seed %d: token request %d: jti %q repeated or empty", seed, i, c.JTI)
		case jwks != nil && !jwks[string(h.JWK)]:
			t.Errorf("seed %d: token request %d signed by a key of no authorizer", seed, i)
		}
		seen[c.JTI] = true
		if rt := form.Get("refresh_token"); rt != "" {
			if bound := f.dpop.bound[rt]; bound != string(h.JWK) {
				t.Errorf("seed %d: token request %d refreshes a refresh token bound to another key (or to none)", seed, i)
			}
		}
	}
	return len(f.requests)
}

// rdsBoundRight checks that tok is DPoP, carries a key, and that key is
// the one the IdP bound its refresh token to.
func rdsBoundRight(f *fakeIdP, tok *oauth2.Token) error {
	k := dpop.KeyOf(tok)
	if k == nil || !dpop.IsDPoP(tok) {
		return errors.New("a token without its DPoP key, or not of type DPoP")
	}
	f.mu.Lock()
	bound := f.dpop.bound[tok.RefreshToken]
	f.mu.Unlock()
	if bound != k.PublicJWK() {
		return errors.New("a token whose key is not the one its refresh token is bound to")
	}
	return nil
}

// rdsAPI is a resource server (an inner RoundTripper) that checks each
// request's DPoP presentation against the key the IdP bound the token's
// grant to, and refuses (401) the tokens in revoked.
type rdsAPI struct {
	f       *fakeIdP
	mu      sync.Mutex
	revoked map[string]bool
	fails   []string
	jtis    map[string]bool
}

func (a *rdsAPI) RoundTrip(req *http.Request) (*http.Response, error) {
	auth := req.Header.Values("Authorization")
	fail := func(s string) (*http.Response, error) {
		a.mu.Lock()
		a.fails = append(a.fails, s)
		a.mu.Unlock()
		return &http.Response{StatusCode: 400, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
	}
	if len(auth) != 1 || !strings.HasPrefix(auth[0], "DPoP ACCESS-SECRET-") {
		return fail(fmt.Sprintf("Authorization %d values, not one DPoP presentation", len(auth)))
	}
	access := strings.TrimPrefix(auth[0], "DPoP ")
	h, c := splitProof(req.Header.Get("DPoP"))
	a.f.mu.Lock()
	bound := a.f.dpop.bound["REFRESH-SECRET-"+strings.TrimPrefix(access, "ACCESS-SECRET-")]
	a.f.mu.Unlock()
	switch {
	case len(req.Header.Values("DPoP")) != 1:
		return fail("not exactly one proof")
	case string(h.JWK) != bound:
		return fail("proof signed by a key the token is not bound to")
	case c.HTM != req.Method || c.HTU != dpop.TargetURI(req.URL) || c.ATH == nil || *c.ATH != dpop.AccessTokenHash(access):
		return fail("proof htm, htu or ath wrong")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.jtis[c.JTI] {
		a.fails = append(a.fails, "jti repeated")
	}
	a.jtis[c.JTI] = true
	status := http.StatusOK
	hdr := http.Header{}
	if a.revoked[access] {
		status = http.StatusUnauthorized
		hdr.Set("WWW-Authenticate", `DPoP error="invalid_token"`)
	}
	return &http.Response{StatusCode: status, Header: hdr, Body: http.NoBody, Request: req}, nil
}

// Client credentials with WithDPoP through one base.Transport: bursts of
// goroutines, between them the IdP's nonce rotates at random (silently:
// the next token request meets use_dpop_nonce) and the API revokes the
// current token at random. Per revocation (or start) exactly one token is
// issued and at most two token requests made (the nonce retry); every
// token is bound to the authorizer's key and every API request is a valid
// DPoP presentation of it.
func TestRandomDPoPServiceAccountNonceRotation(t *testing.T) {
	for _, seed := range rdsSeeds(t) {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			rnd := mrand.New(mrand.NewPCG(seed, 31))
			f := newFakeIdP(t)
			f.dpop = fakeDPoP{on: true, nonce: "nonce-0", bound: map[string]string{}}
			var key *dpop.Key
			if rnd.IntN(2) == 0 {
				key = mustKey(t)
			}
			a, err := NewServiceAccountAuthorizer(data.ClientInfo{ClientID: "client", ClientSecret: "client-secret-1"},
				Environment{TokenURL: f.srv.URL + "/token"}, WithDPoP(key))
			must(t, err)
			api := &rdsAPI{f: f, revoked: map[string]bool{}, jtis: map[string]bool{}}
			tr := base.NewTransport(a, base.WithBase(api), base.WithRefreshAhead(0))
			defer tr.Close()
			events, rotations := 1, 0
			for phase := range 8 {
				if phase > 0 && rnd.IntN(2) == 0 {
					f.mu.Lock()
					f.dpop.nonce = fmt.Sprintf("nonce-%d-%d", phase, rnd.IntN(1000))
					f.mu.Unlock()
					rotations++
				}
				issuedBefore, postsBefore := rdsCounts(f)
				revoke := phase > 0 && rnd.IntN(2) == 0
				if revoke {
					f.mu.Lock()
					cur := fmt.Sprintf("ACCESS-SECRET-%d", f.tokenCount)
					f.mu.Unlock()
					api.mu.Lock()
					api.revoked[cur] = true
					api.mu.Unlock()
				}
				var wg sync.WaitGroup
				var failed atomic.Int32
				for range 2 + rnd.IntN(24) {
					wg.Go(func() {
						req, _ := http.NewRequest(http.MethodGet, "https://api.example/things?x=1", nil)
						resp, err := tr.RoundTrip(req)
						if err != nil || resp.StatusCode != http.StatusOK {
							failed.Add(1)
							return
						}
						resp.Body.Close()
					})
				}
				wg.Wait()
				issued, posts := rdsCounts(f)
				want := map[bool]int{true: 1, false: 0}[revoke || phase == 0]
				if revoke || phase == 0 {
					events++
				}
				if issued-issuedBefore != want || posts-postsBefore > 2*want {
					t.Errorf("seed %d phase %d (revoke=%v): %d tokens issued in %d token requests; want %d in at most %d",
						seed, phase, revoke, issued-issuedBefore, posts-postsBefore, want, 2*want)
				}
				if n := failed.Load(); n > 0 {
					t.Errorf("seed %d phase %d: %d requests failed", seed, phase, n)
				}
			}
			tok, err := a.Authorize(context.Background())
			must(t, err)
			if key != nil && !dpop.KeyOf(tok).Equal(key) {
				t.Errorf("seed %d: token bound to another key than WithDPoP's", seed)
			}
			posts := rdsAudit(t, seed, f, map[string]bool{dpop.KeyOf(tok).PublicJWK(): true})
			api.mu.Lock()
			for _, s := range api.fails {
				t.Errorf("seed %d: API: %s", seed, s)
			}
			api.mu.Unlock()
			if t.Failed() {
				t.Logf("replay with DPOP_RANDOM_SEED=%d", seed)
			}
			t.Logf("seed %d: %d token requests, %d nonce rotations, %d token events", seed, posts, rotations, events)
		})
	}
}

func rdsCounts(f *fakeIdP) (issued, posts int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenCount, len(f.requests)
}

// rdsClock is a settable clock for the authorizers.
type rdsClock struct{ ns atomic.Int64 }

func (c *rdsClock) Now() time.Time { return time.Unix(0, c.ns.Load()) }

// User sessions (device flow) of several authorizers in one process
// sharing one filecache directory (sealed or not), restarted at random
// with WithDPoP(nil), the shared explicit key, or a key of their own;
// concurrent Authorize and Refresh; the fake clock passing expiry; the
// IdP's nonce rotating. Checked: every token returned is bound to the key
// its refresh token is bound to (so the key restored from the cache always
// matches), every refresh is signed by that key (the IdP never sees a
// refresh token with another key), and no call fails.
func TestRandomDPoPSharedFileCache(t *testing.T) {
	for _, seed := range rdsSeeds(t) {
		t.Run(strconv.FormatUint(seed, 10), func(t *testing.T) {
			rnd := mrand.New(mrand.NewPCG(seed, 37))
			f := newFakeIdP(t)
			f.dpop = fakeDPoP{on: true, nonce: "nonce-0", bound: map[string]string{}}
			clock := &rdsClock{}
			clock.ns.Store(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixNano())
			dir := t.TempDir()
			var seal []byte
			if rnd.IntN(2) == 0 {
				seal = make([]byte, 32)
			}
			shared := mustKey(t)
			jwks := map[string]bool{shared.PublicJWK(): true}
			var calls atomic.Int32
			open := func() *DeviceAuthorizer {
				opts := []filecache.Option{filecache.WithDir(dir), filecache.WithLockRetry(time.Millisecond)}
				if seal != nil {
					opts = append(opts, filecache.WithEncryptionKey(seal))
				}
				cache, err := filecache.New(opts...)
				must(t, err)
				var key *dpop.Key
				switch rnd.IntN(3) {
				case 0:
					key = shared
				case 1:
					key = mustKey(t)
				}
				a, err := NewDeviceAuthorizer(data.ClientInfo{ClientID: "native"}, f.env("openid"), WithTokenCache(cache),
					WithDPoP(key), WithClock(clock.Now), withPollInterval(time.Millisecond),
					WithDevicePrompt(func(context.Context, DevicePrompt) error { calls.Add(1); return nil }))
				must(t, err)
				jwks[a.sessionKey().PublicJWK()] = true
				return a
			}
			auths := []*DeviceAuthorizer{open(), open()}
			last := make([]*oauth2.Token, len(auths))
			var mu sync.Mutex // guards last
			errs := 0
			for step := range 24 {
				switch op := rnd.IntN(6); op {
				case 0:
					clock.ns.Add(int64(time.Hour + time.Minute))
				case 1:
					i := rnd.IntN(len(auths))
					auths[i] = open()     // a restart: a new process on the same files
					if rnd.IntN(2) == 0 { // or the old process's token handed to Refresh
						mu.Lock()
						last[i] = nil
						mu.Unlock()
					}
				case 2:
					f.mu.Lock()
					f.dpop.nonce = fmt.Sprintf("nonce-%d", step)
					f.mu.Unlock()
				default:
					var wg sync.WaitGroup
					var failed atomic.Int32
					for g := range 2 + rnd.IntN(6) {
						i, refresh := rnd.IntN(len(auths)), g%2 == 1
						a := auths[i]
						mu.Lock()
						prev := last[i]
						mu.Unlock()
						wg.Go(func() {
							var tok *oauth2.Token
							var err error
							if refresh && prev != nil {
								tok, err = a.Refresh(context.Background(), prev)
							} else {
								tok, err = a.Authorize(context.Background())
							}
							if err == nil {
								err = rdsBoundRight(f, tok)
							}
							if err != nil {
								failed.Add(1)
								t.Errorf("seed %d step %d: authorizer %d (refresh=%v): %v", seed, step, i, refresh, err)
								return
							}
							mu.Lock()
							last[i] = tok
							mu.Unlock()
						})
					}
					wg.Wait()
					errs += int(failed.Load())
				}
			}
			posts := rdsAudit(t, seed, f, jwks)
			if t.Failed() {
				t.Logf("replay with DPOP_RANDOM_SEED=%d", seed)
			}
			t.Logf("seed %d: sealed=%v, %d token requests, %d device sign-ins, %d failures", seed, seal != nil, posts, calls.Load(), errs)
		})
	}
}
