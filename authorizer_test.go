package authorizer_test

// End-to-end tests of the whole SDK, black-box: authorizers from every
// package behind base.Transport and a real http.Client, against real peers
// (oidc-provider, moto_server) where the flow has one, and in-process
// servers where a failure must be staged.

import (
	"context"
	"encoding/json"

	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// tokenServer is a client-credentials token endpoint whose answers a test
// stages, and a protected API that accepts the tokens it issued.
type tokenServer struct {
	*httptest.Server
	requests atomic.Int32
	status   atomic.Int32 // non-zero: answer token requests with this status
	mu       sync.Mutex
	live     map[string]bool
}

func newTokenServer(t *testing.T) *tokenServer {
	s := &tokenServer{live: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("/api", s.api)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func (s *tokenServer) token(w http.ResponseWriter, r *http.Request) {
	n := s.requests.Add(1)
	w.Header().Set("Content-Type", "application/json")
	if st := s.status.Load(); st != 0 {
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(int(st))
		fmt.Fprint(w, `{"error":"temporarily_unavailable"}`)
		return
	}
	tok := fmt.Sprintf("tok-%d", n)
	s.mu.Lock()
	s.live[tok] = true
	s.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
}

func (s *tokenServer) api(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ok := s.live[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	s.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
	}
}

// httpAuthorizer is the smallest honest Authorizer: one POST per token.
type httpAuthorizer struct{ url string }

func (a httpAuthorizer) Authorize(ctx context.Context) (*oauth2.Token, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.url, strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, &authorizer.AuthorizationError{Message: "test: token request", Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &authorizer.AuthorizationError{Message: "test: token request", StatusCode: resp.StatusCode, RetryAfter: 3 * time.Second}
	}
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, &authorizer.AuthorizationError{Message: "test: token answer", Err: err}
	}
	return &oauth2.Token{AccessToken: body.AccessToken, TokenType: "Bearer", ExpiresIn: body.ExpiresIn,
		Expiry: time.Now().Add(time.Duration(body.ExpiresIn) * time.Second)}, nil
}

func (a httpAuthorizer) Expired(tok *oauth2.Token) bool { return base.TokenExpired(tok, time.Now()) }
func (a httpAuthorizer) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return a.Authorize(ctx)
}

// lockedCache is a shared TokenCache with a lock, as a Redis-backed store
// shared by every replica of a service would be.
type lockedCache struct {
	*base.MemoryCache
	mu sync.Mutex
}

func (c *lockedCache) Lock(ctx context.Context, key string) (func() error, error) {
	c.mu.Lock()
	return func() error { c.mu.Unlock(); return nil }, nil
}

// A fleet of replicas sharing one locked cache makes one token request per
// token lifetime, however many replicas and requests there are.
func TestFleetSharingACacheMakesOneTokenRequest(t *testing.T) {
	srv := newTokenServer(t)
	cache := &lockedCache{MemoryCache: base.NewMemoryCache()}
	var wg sync.WaitGroup
	for range 10 { // ten replicas, each with its own Transport
		tr := base.NewTransport(httpAuthorizer{srv.URL + "/token"}, base.WithCache(cache, "orders-service"))
		t.Cleanup(func() { tr.Close() })
		client := &http.Client{Transport: tr}
		for range 10 {
			wg.Go(func() {
				resp, err := client.Get(srv.URL + "/api")
				if assert.NoError(t, err) {
					assert.Equal(t, http.StatusOK, resp.StatusCode)
					resp.Body.Close()
				}
			})
		}
	}
	wg.Wait()
	assert.EqualValues(t, 1, srv.requests.Load(), "token requests for 10 replicas x 10 requests")
}

// An identity provider that is down does not become a request storm, and
// every failure reaches the caller typed, through http.Client's *url.Error.
func TestOutageIsTypedAndBounded(t *testing.T) {
	srv := newTokenServer(t)
	srv.status.Store(http.StatusServiceUnavailable)
	tr := base.NewTransport(httpAuthorizer{srv.URL + "/token"})
	t.Cleanup(func() { tr.Close() })
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			_, err := client.Get(srv.URL + "/api")
			var ae *authorizer.AuthorizationError
			if assert.ErrorAs(t, err, &ae) {
				assert.True(t, ae.Temporary(), "a 503 is temporary")
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, 1, srv.requests.Load(), "token requests for 200 requests during an outage")

	srv.status.Store(0)
	require.Eventually(t, func() bool {
		resp, err := client.Get(srv.URL + "/api")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 15*time.Second, 100*time.Millisecond, "recovers after Retry-After")
}

// Secrets never reach an error string or a printed value, end to end.
func TestNoSecretInErrorsOrPrints(t *testing.T) {
	info := data.ClientInfo{ClientID: "svc", ClientSecret: "top-secret-1", APIKey: "top-secret-2"}
	creds := data.UserCredentials{UserName: "alice", Password: "top-secret-3"}
	errs := []error{
		&authorizer.InvalidClientError{ClientID: info.ClientID, StatusCode: 401, Code: "invalid_client"},
		&authorizer.InvalidCredentialsError{UserName: creds.UserName, Code: "invalid_grant"},
		fmt.Errorf("wrapped: %w", &authorizer.AuthorizationError{Message: fmt.Sprint(info, creds)}),
	}
	for _, err := range errs {
		for _, s := range []string{"top-secret-1", "top-secret-2", "top-secret-3"} {
			assert.NotContains(t, err.Error(), s)
		}
	}
}
