package oauth2auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
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
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

var exchanger = data.ClientInfo{ClientID: "exchanger", ClientSecret: "exchanger-secret"}

// exchangeServer is a fake token endpoint for the token-exchange grant: it
// records every form and answers with answer(form).
type exchangeServer struct {
	*httptest.Server
	mu     sync.Mutex // guards forms, auths
	forms  []url.Values
	auths  []string
	answer func(form url.Values) (int, string)
}

func newExchangeServer(t *testing.T, answer func(url.Values) (int, string)) *exchangeServer {
	s := &exchangeServer{answer: answer}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("got %s %q; want POST application/x-www-form-urlencoded", r.Method, r.Header.Get("Content-Type"))
		}
		_ = r.ParseForm()
		s.mu.Lock()
		s.forms = append(s.forms, r.PostForm)
		s.auths = append(s.auths, how(r))
		s.mu.Unlock()
		status, body := s.answer(r.PostForm)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *exchangeServer) requests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]url.Values(nil), s.forms...)
}

func (s *exchangeServer) env() Environment {
	return Environment{Name: "test", TokenURL: s.URL + "/token"}
}

// exchanged answers every exchange with a token named after the subject.
func exchanged(form url.Values) (int, string) {
	return http.StatusOK, `{"access_token":"x-` + form.Get("subject_token") +
		`","issued_token_type":"` + TokenTypeAccessToken + `","token_type":"Bearer","expires_in":300}`
}

// fakeSubject issues tokens s1, s2, … and counts its calls.
type fakeSubject struct {
	authorizes, refreshes atomic.Int32
	n                     atomic.Int32
	err                   error // returned by every call when set
}

func (f *fakeSubject) next() (*oauth2.Token, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &oauth2.Token{AccessToken: fmt.Sprintf("s%d", f.n.Add(1)), Expiry: time.Now().Add(time.Hour)}, nil
}
func (f *fakeSubject) Authorize(context.Context) (*oauth2.Token, error) {
	f.authorizes.Add(1)
	return f.next()
}
func (f *fakeSubject) Refresh(context.Context, *oauth2.Token) (*oauth2.Token, error) {
	f.refreshes.Add(1)
	return f.next()
}
func (f *fakeSubject) Expired(tok *oauth2.Token) bool { return base.TokenExpired(tok, time.Now()) }

func TestTokenExchangeWire(t *testing.T) {
	s := newExchangeServer(t, exchanged)
	env := s.env()
	env.Scopes, env.Audience, env.Resources = []string{"env:scope"}, "env-aud", []string{"https://env.res"}
	actor := &fakeSubject{}
	actor.n.Store(100)
	a, err := NewTokenExchangeAuthorizer(&fakeSubject{}, env, WithExchangeClient(exchanger),
		WithAudiences("svc-a", "svc-b"), WithExtraScopes("read"), WithExtraResources("https://res.b"),
		WithRequestedTokenType(TokenTypeAccessToken), WithActorToken(actor, ""))
	require.NoError(t, err)
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "x-s1", tok.AccessToken)
	assert.Equal(t, "Bearer", tok.TokenType)

	forms := s.requests()
	require.Len(t, forms, 1)
	f := forms[0]
	want := url.Values{
		"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":        {"s1"},
		"subject_token_type":   {TokenTypeAccessToken},
		"actor_token":          {"s101"},
		"actor_token_type":     {TokenTypeAccessToken},
		"requested_token_type": {TokenTypeAccessToken},
		"audience":             {"env-aud", "svc-a", "svc-b"},
		"resource":             {"https://env.res", "https://res.b"},
		"scope":                {"env:scope read"},
	}
	assert.Equal(t, want, f, "form")
	assert.Equal(t, "basic:exchanger:exchanger-secret", s.auths[0], "client authentication")
}

func TestTokenExchangeKeepsSubjectAndActor(t *testing.T) {
	s := newExchangeServer(t, exchanged)
	subject, actor := &fakeSubject{}, &fakeSubject{}
	a, err := NewTokenExchangeAuthorizer(subject, s.env(), WithExchangeClient(exchanger), WithActorToken(actor, TokenTypeJWT))
	require.NoError(t, err)
	for range 3 {
		_, err := a.Refresh(context.Background(), nil)
		require.NoError(t, err)
	}
	assert.Len(t, s.requests(), 3, "one exchange per call")
	assert.Equal(t, int32(1), subject.authorizes.Load(), "subject token kept while not stale")
	assert.Equal(t, int32(0), subject.refreshes.Load())
	assert.Equal(t, int32(1), actor.authorizes.Load(), "actor token kept while not stale")
	assert.Equal(t, TokenTypeJWT, s.requests()[0].Get("actor_token_type"))
}

func TestTokenExchangeRenewsRefusedSubjectOnce(t *testing.T) {
	tests := []struct {
		name      string
		refuse    string // the server refuses subject tokens up to this one
		answer    string // its error answer
		requests  int
		refreshes int32
		wantCode  string // "" for success
	}{
		{name: "invalid_request renews and succeeds", refuse: "s1", answer: `{"error":"invalid_request"}`, requests: 2, refreshes: 1},
		{name: "invalid_grant renews and succeeds", refuse: "s1", answer: `{"error":"invalid_grant"}`, requests: 2, refreshes: 1},
		{name: "invalid_token renews and succeeds", refuse: "s1", answer: `{"error":"invalid_token"}`, requests: 2, refreshes: 1},
		{name: "refused twice: one retry only", refuse: "s9", answer: `{"error":"invalid_request","error_description":"subject_token is invalid"}`,
			requests: 2, refreshes: 1, wantCode: "invalid_request"},
		{name: "invalid_target: no renewal", refuse: "s9", answer: `{"error":"invalid_target"}`, requests: 1, wantCode: "invalid_target"},
		{name: "invalid_scope: no renewal", refuse: "s9", answer: `{"error":"invalid_scope"}`, requests: 1, wantCode: "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newExchangeServer(t, func(f url.Values) (int, string) {
				if f.Get("subject_token") <= tt.refuse {
					return http.StatusBadRequest, tt.answer
				}
				return exchanged(f)
			})
			subject := &fakeSubject{}
			a, err := NewTokenExchangeAuthorizer(subject, s.env(), WithExchangeClient(exchanger))
			require.NoError(t, err)
			tok, err := a.Authorize(context.Background())
			assert.Len(t, s.requests(), tt.requests)
			assert.Equal(t, tt.refreshes, subject.refreshes.Load())
			if tt.wantCode == "" {
				require.NoError(t, err)
				assert.Equal(t, "x-s2", tok.AccessToken, "the renewed subject was exchanged")
				return
			}
			var ae *authorizer.AuthorizationError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.wantCode, ae.Code)
		})
	}
}

func TestTokenExchangeRefusedRenewalReturnsBothErrors(t *testing.T) {
	s := newExchangeServer(t, func(url.Values) (int, string) { return http.StatusBadRequest, `{"error":"invalid_grant"}` })
	subject := &fakeSubject{}
	a, err := NewTokenExchangeAuthorizer(subject, s.env(), WithExchangeClient(exchanger))
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	require.Error(t, err)
	subject.err = &authorizer.InvalidCredentialsError{Code: "invalid_grant", UserName: "alice"}
	_, err = a.Authorize(context.Background())
	var se *SubjectTokenError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "subject", se.Role)
	var ice *authorizer.InvalidCredentialsError
	require.ErrorAs(t, se, &ice)
	assert.Equal(t, "alice", ice.UserName)
}

func TestTokenExchangeSubjectFailure(t *testing.T) {
	s := newExchangeServer(t, exchanged)
	subject := &fakeSubject{err: &authorizer.AuthorizationError{StatusCode: 503, Message: "down"}}
	a, err := NewTokenExchangeAuthorizer(subject, s.env(), WithExchangeClient(exchanger))
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	var se *SubjectTokenError
	require.ErrorAs(t, err, &se)
	assert.True(t, se.Temporary(), "a 503 of the subject is temporary")
	assert.Empty(t, s.requests(), "no exchange without a subject token")
}

func TestTokenExchangeChecksTheAnswer(t *testing.T) {
	tests := []struct {
		name, requested, body string
		check                 func(t *testing.T, err error)
	}{
		{"no issued_token_type", "", `{"access_token":"at","token_type":"Bearer"}`, issuedErr("", "")},
		{"id_token when none requested", "", `{"access_token":"at","token_type":"Bearer","issued_token_type":"` + TokenTypeIDToken + `"}`,
			issuedErr("", TokenTypeIDToken)},
		{"jwt when access_token requested", TokenTypeAccessToken, `{"access_token":"at","token_type":"Bearer","issued_token_type":"` + TokenTypeJWT + `"}`,
			issuedErr(TokenTypeAccessToken, TokenTypeJWT)},
		{"token_type N_A", TokenTypeIDToken, `{"access_token":"at","token_type":"N_A","issued_token_type":"` + TokenTypeIDToken + `"}`,
			func(t *testing.T, err error) {
				var ue *UnsupportedTokenTypeError
				require.ErrorAs(t, err, &ue)
				assert.Equal(t, "N_A", ue.TokenType)
			}},
		{"jwt accepted when none requested", "", `{"access_token":"at","token_type":"bearer","issued_token_type":"` + TokenTypeJWT + `"}`,
			func(t *testing.T, err error) { require.NoError(t, err) }},
		{"requested type issued", TokenTypeIDToken, `{"access_token":"at","token_type":"Bearer","issued_token_type":"` + TokenTypeIDToken + `"}`,
			func(t *testing.T, err error) { require.NoError(t, err) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newExchangeServer(t, func(url.Values) (int, string) { return http.StatusOK, tt.body })
			var opts []Option
			if tt.requested != "" {
				opts = append(opts, WithRequestedTokenType(tt.requested))
			}
			a, err := NewTokenExchangeAuthorizer(&fakeSubject{}, s.env(), append(opts, WithExchangeClient(exchanger))...)
			require.NoError(t, err)
			_, err = a.Authorize(context.Background())
			tt.check(t, err)
			assert.Len(t, s.requests(), 1, "a wrong answer is not retried")
		})
	}
}

func issuedErr(requested, issued string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		var ie *IssuedTokenTypeError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, requested, ie.Requested)
		assert.Equal(t, issued, ie.Issued)
		assert.False(t, ie.Temporary())
		assert.NotContains(t, err.Error(), "at\"", "no token in the message")
	}
}

func TestTokenExchangeOptions(t *testing.T) {
	env := Environment{TokenURL: "https://idp.example/token"}
	sa, err := NewServiceAccountAuthorizer(exchanger, env)
	require.NoError(t, err)
	public := &fakeSubject{}
	tests := []struct {
		name    string
		subject base.Authorizer
		opts    []Option
		setting string // in the InvalidConfigError's Setting
	}{
		{"nil subject", nil, nil, "subject"},
		{"no client", public, nil, "WithExchangeClient"},
		{"public client", public, []Option{WithExchangeClient(data.ClientInfo{ClientID: "public"})}, "exchanging client"},
		{"empty client id", sa, []Option{WithExchangeClient(data.ClientInfo{})}, "WithExchangeClient"},
		{"empty subject type", sa, []Option{WithSubjectTokenType("")}, "WithSubjectTokenType"},
		{"subject type with space", sa, []Option{WithSubjectTokenType("a b")}, "WithSubjectTokenType"},
		{"nil actor", sa, []Option{WithActorToken(nil, "")}, "WithActorToken"},
		{"actor type with space", sa, []Option{WithActorToken(sa, "a b")}, "WithActorToken"},
		{"empty requested type", sa, []Option{WithRequestedTokenType("")}, "WithRequestedTokenType"},
		{"empty audience", sa, []Option{WithAudiences("a", "")}, "WithAudiences"},
		{"empty extra scope", sa, []Option{WithExtraScopes("")}, "WithExtraScopes"},
		{"user-flow option", sa, []Option{WithTokenCache(base.NewMemoryCache())}, "WithTokenCache"},
		{"device option", sa, []Option{WithDevicePrompt(nil)}, "WithDevicePrompt"},
		{"empty assertion file", sa, []Option{WithClientAssertionFile("")}, "WithClientAssertionFile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewTokenExchangeAuthorizer(tt.subject, env, tt.opts...)
			var ce *authorizer.InvalidConfigError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, ce.Setting, tt.setting)
		})
	}
	for _, opt := range []Option{WithExchangeClient(exchanger), WithSubjectTokenType(TokenTypeJWT),
		WithActorToken(sa, ""), WithRequestedTokenType(TokenTypeJWT), WithAudiences("a")} {
		_, err := NewServiceAccountAuthorizer(exchanger, env, opt)
		var ce *authorizer.InvalidConfigError
		require.ErrorAs(t, err, &ce, "an exchange option given to another flow")
		assert.Contains(t, ce.Problem, "NewServiceAccountAuthorizer")
	}
	a, err := NewTokenExchangeAuthorizer(sa, env)
	require.NoError(t, err, "the client defaults to the subject's")
	assert.Equal(t, exchanger.ClientID, a.ClientInfo().ClientID)
}

func TestTokenExchangeConcurrent(t *testing.T) {
	s := newExchangeServer(t, exchanged)
	subject := &fakeSubject{}
	a, err := NewTokenExchangeAuthorizer(subject, s.env(), WithExchangeClient(exchanger))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			tok, err := a.Authorize(context.Background())
			if assert.NoError(t, err) {
				assert.True(t, strings.HasPrefix(tok.AccessToken, "x-s"))
			}
		})
	}
	wg.Wait()
	assert.Len(t, s.requests(), 20)
	assert.LessOrEqual(t, subject.authorizes.Load(), int32(20))
}

func TestTokenExchangeHonoursContext(t *testing.T) {
	s := newExchangeServer(t, exchanged)
	a, err := NewTokenExchangeAuthorizer(&fakeSubject{}, s.env(), WithExchangeClient(exchanger))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = a.Authorize(ctx)
	assert.True(t, errors.Is(err, context.Canceled), "got %v", err)
}

func TestTokenExchangeErrorsQuoteNoToken(t *testing.T) {
	s := newExchangeServer(t, func(f url.Values) (int, string) {
		return http.StatusBadRequest, `{"error":"invalid_target","error_description":"audience for ` +
			f.Get("subject_token") + ` acting as ` + f.Get("actor_token") + ` not allowed"}`
	})
	subject, actor := &fakeSubject{}, &fakeSubject{}
	subject.n.Store(1000)
	actor.n.Store(2000)
	a, err := NewTokenExchangeAuthorizer(subject, s.env(), WithExchangeClient(exchanger), WithActorToken(actor, ""))
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s1001", "subject token quoted")
	assert.NotContains(t, err.Error(), "s2001", "actor token quoted")
	assert.Contains(t, err.Error(), "[redacted]")
}

// Through a Transport: the exchanged token is cached (one exchange for
// many requests), and nothing is left running after Close.
func TestTokenExchangeThroughTransport(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	s := newExchangeServer(t, exchanged)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "Bearer x-s1" {
			t.Errorf("got Authorization %q; want %q", got, "Bearer x-s1")
		}
	}))
	a, err := NewTokenExchangeAuthorizer(&fakeSubject{}, s.env(), WithExchangeClient(exchanger))
	require.NoError(t, err)
	tr := base.NewTransport(a)
	c := &http.Client{Transport: tr}
	for range 5 {
		resp, err := c.Get(api.URL)
		require.NoError(t, err)
		resp.Body.Close()
	}
	assert.Len(t, s.requests(), 1, "one exchange for five requests")
	require.NoError(t, tr.Close())
	tr.CloseIdleConnections()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections() // the token requests' connections
	api.Close()
	s.Close()
	goleak.VerifyNone(t, opt)
}

// staleSubject is a fakeSubject whose tokens are stale when stale is set.
type staleSubject struct {
	fakeSubject
	stale atomic.Bool
}

func (s *staleSubject) Expired(*oauth2.Token) bool { return s.stale.Load() }

func TestTokenExchangeRenewsStaleSubjectFirst(t *testing.T) {
	s := newExchangeServer(t, exchanged)
	subject := &staleSubject{}
	a, err := NewTokenExchangeAuthorizer(subject, s.env(), WithExchangeClient(exchanger))
	require.NoError(t, err)
	tok, err := a.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "x-s1", tok.AccessToken)
	subject.stale.Store(true)
	tok, err = a.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "x-s2", tok.AccessToken, "the stale subject token was refreshed before the exchange")
	assert.Equal(t, int32(1), subject.refreshes.Load())
	assert.Len(t, s.requests(), 2, "no refused exchange needed")
}

func TestTokenExchangeActorFailureDoesNotRenewSubject(t *testing.T) {
	s := newExchangeServer(t, exchanged)
	subject := &fakeSubject{}
	actor := &fakeSubject{err: &authorizer.InvalidCredentialsError{Code: "invalid_grant"}}
	a, err := NewTokenExchangeAuthorizer(subject, s.env(), WithExchangeClient(exchanger), WithActorToken(actor, ""))
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	var se *SubjectTokenError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, "actor", se.Role)
	assert.Equal(t, int32(0), subject.refreshes.Load(), "the subject is not renewed for the actor's failure")
	assert.Empty(t, s.requests())
}
