package oauth2auth

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

// brkRand is a mutex-guarded seeded source shared by the fakes.
type brkRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (b *brkRand) n(k int) int { b.mu.Lock(); defer b.mu.Unlock(); return b.r.IntN(k) }

// brkRandSubject randomly issues expired tokens, refuses or fails.
type brkRandSubject struct {
	rnd   *brkRand
	calls atomic.Int64
	seq   atomic.Int64
}

func (s *brkRandSubject) next() (*oauth2.Token, error) {
	s.calls.Add(1)
	switch s.rnd.n(20) {
	case 0:
		return nil, &authorizer.InvalidCredentialsError{}
	case 1:
		return nil, errors.New("subject backend down")
	case 2:
		return nil, nil
	}
	exp := time.Now().Add(time.Hour)
	if s.rnd.n(4) == 0 {
		exp = time.Now().Add(-time.Second) // expired at birth
	}
	return &oauth2.Token{AccessToken: "SUBJ" + strconv.FormatInt(s.seq.Add(1), 10), Expiry: exp}, nil
}
func (s *brkRandSubject) Authorize(context.Context) (*oauth2.Token, error) { return s.next() }
func (s *brkRandSubject) Refresh(context.Context, *oauth2.Token) (*oauth2.Token, error) {
	return s.next()
}
func (s *brkRandSubject) Expired(t *oauth2.Token) bool { return base.TokenExpired(t, time.Now()) }

// brkCounting wraps the exchange authorizer: it checks that the Transport
// makes one exchange at a time and counts what each costs.
type brkCounting struct {
	*TokenExchangeAuthorizer
	subj       *brkRandSubject
	posts      *atomic.Int64
	inFlight   atomic.Int32
	violations atomic.Int32
	t          *testing.T
}

func (c *brkCounting) call(ctx context.Context) (*oauth2.Token, error) {
	if n := c.inFlight.Add(1); n > 1 {
		c.violations.Add(1)
		c.t.Errorf("%d exchanges in flight on one Transport", n)
	}
	defer c.inFlight.Add(-1)
	s0, p0 := c.subj.calls.Load(), c.posts.Load()
	tok, err := c.TokenExchangeAuthorizer.Authorize(ctx)
	// subject: get (Refresh, Authorize on refusal) + one renewal (the same)
	if d := c.subj.calls.Load() - s0; d > 4 {
		c.t.Errorf("one exchange called the subject %d times", d)
	}
	if d := c.posts.Load() - p0; d > 2 {
		c.t.Errorf("one exchange sent %d requests (exchanged once, retried once)", d)
	}
	return tok, err
}
func (c *brkCounting) Authorize(ctx context.Context) (*oauth2.Token, error) { return c.call(ctx) }
func (c *brkCounting) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return c.call(ctx)
}

type brkCallKey struct{}

// brkCall is one top-level API call: when it started (epoch) and the
// tokens refused during it.
type brkCall struct {
	start   int64
	mu      sync.Mutex
	refused []string
}

func TestBreakTokenxRandomConcurrency(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { // last: after the servers close
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		goleak.VerifyNone(t, ignore)
	})
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("BRK_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (BRK_SEED=%d to replay)", seed, seed)
	rnd := &brkRand{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}

	var posts, xseq atomic.Int64
	idp := newExchangeServer(t, func(f url.Values) (int, string) {
		posts.Add(1)
		st := f.Get("subject_token")
		switch rnd.n(12) {
		case 0:
			return 400, `{"error":"invalid_grant","error_description":"subject ` + st + ` expired"}`
		case 1:
			return 400, `{"error":"invalid_request","error_description":"` + st + `"}`
		case 2:
			return 400, `{"error":"invalid_target","error_description":"no ` + st + `"}`
		case 3:
			return 500, `{"error":"server_error","error_description":"` + st + `"}`
		case 4:
			return 200, `{"access_token":"XCHbad","token_type":"DPoP","issued_token_type":"urn:` + st + `"}`
		}
		return 200, fmt.Sprintf(`{"access_token":"XCH%d","token_type":"Bearer","issued_token_type":%q,"expires_in":%d}`,
			xseq.Add(1), TokenTypeAccessToken, 1+rnd.n(600))
	})

	var epoch atomic.Int64
	var refusedMu sync.Mutex
	refusedAt := map[string]int64{} // token -> epoch once a call saw it refused and returned
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rnd.n(8) == 0 {
			w.WriteHeader(http.StatusUnauthorized) // revoked
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer api.Close()
	inner := brkRT(func(r *http.Request) (*http.Response, error) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		call, _ := r.Context().Value(brkCallKey{}).(*brkCall)
		refusedMu.Lock()
		at, seen := refusedAt[tok]
		refusedMu.Unlock()
		if call != nil && seen && at < call.start {
			t.Errorf("token %s sent after the API refused it", data4(tok))
		}
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil && resp.StatusCode == http.StatusUnauthorized && call != nil {
			call.mu.Lock()
			call.refused = append(call.refused, tok)
			call.mu.Unlock()
		}
		return resp, err
	})

	subj := &brkRandSubject{rnd: rnd}
	x, err := NewTokenExchangeAuthorizer(subj, idp.env(), WithExchangeClient(exchanger))
	require.NoError(t, err)
	counting := &brkCounting{TokenExchangeAuthorizer: x, subj: subj, posts: &posts, t: t}
	tr, err := base.New(counting, base.WithBase(inner), base.WithBackoff(time.Millisecond, 2*time.Millisecond), base.InsecureAllowHTTP())
	require.NoError(t, err)
	client := &http.Client{Transport: tr}

	var wg sync.WaitGroup
	var okN, errN atomic.Int64
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 150 {
				call := &brkCall{start: epoch.Load()}
				ctx := context.WithValue(context.Background(), brkCallKey{}, call)
				if rnd.n(10) == 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithCancel(ctx)
					cancel()
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api.URL+"/g"+strconv.Itoa(g), nil)
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
					okN.Add(1)
				} else {
					errN.Add(1)
					brkCheckErr(t, err)
				}
				call.mu.Lock()
				refusedMu.Lock()
				for _, tok := range call.refused {
					if _, ok := refusedAt[tok]; !ok {
						refusedAt[tok] = epoch.Add(1)
					}
				}
				refusedMu.Unlock()
				call.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	require.NoError(t, tr.Close())
	t.Logf("ok %d, failed %d, exchanges %d, subject calls %d", okN.Load(), errN.Load(), posts.Load(), subj.calls.Load())
	assert.Zero(t, counting.violations.Load())
	assert.Positive(t, okN.Load(), "some calls succeed")
}

func data4(s string) string {
	if len(s) > 4 {
		return s[:4] + "…"
	}
	return s
}

// brkCheckErr: a typed error, quoting no subject or exchanged token.
func brkCheckErr(t *testing.T, err error) {
	t.Helper()
	var ae *authorizer.AuthorizationError
	var ic *authorizer.InvalidCredentialsError
	var cl *authorizer.InvalidClientError
	var se *SubjectTokenError
	var it *IssuedTokenTypeError
	typed := errors.As(err, &ae) || errors.As(err, &ic) || errors.As(err, &cl) || errors.As(err, &se) ||
		errors.As(err, &it) || errors.Is(err, context.Canceled)
	if !typed {
		t.Errorf("untyped error %T: %v", err, err)
	}
	msg := err.Error()
	if strings.Contains(msg, "SUBJ") || strings.Contains(msg, "XCH") {
		t.Errorf("a token in an error: %s", msg)
	}
}

type brkRT func(*http.Request) (*http.Response, error)

func (f brkRT) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
