package base_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"golang.org/x/oauth2"
)

// sessionAuthorizer is a custom Authorizer: it exchanges a long-lived API
// secret for a short-lived session token at a made-up endpoint. The
// Transport does the caching, sharing, refresh ahead, backoff and 401
// handling; the Authorizer only talks to its issuer.
type sessionAuthorizer struct {
	login func(ctx context.Context) (string, time.Duration, error)
}

var _ base.Authorizer = (*sessionAuthorizer)(nil)

func (a *sessionAuthorizer) Authorize(ctx context.Context) (*oauth2.Token, error) {
	tok, ttl, err := a.login(ctx)
	if err != nil {
		return nil, &authorizer.AuthorizationError{Message: "session: login failed", Err: err}
	}
	return &oauth2.Token{AccessToken: tok, TokenType: "Bearer", Expiry: time.Now().Add(ttl), ExpiresIn: int64(ttl / time.Second)}, nil
}

func (a *sessionAuthorizer) Expired(tok *oauth2.Token) bool {
	return base.TokenExpired(tok, time.Now())
}

func (a *sessionAuthorizer) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return a.Authorize(ctx)
}

// Write your own Authorizer and let base.NewClient apply it to every request.
func Example_customAuthorizer() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "API saw %q", r.Header.Get("Authorization"))
	}))
	defer api.Close()

	logins := 0
	authz := &sessionAuthorizer{login: func(ctx context.Context) (string, time.Duration, error) {
		logins++
		return fmt.Sprintf("session-%d", logins), time.Hour, nil
	}}
	client := base.NewClient(authz)
	defer client.Transport.(*base.Transport).Close()

	for range 3 {
		resp, err := client.Get(api.URL)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(string(body))
	}
	fmt.Println("logins:", logins)
	// Output:
	// API saw "Bearer session-1"
	// API saw "Bearer session-1"
	// API saw "Bearer session-1"
	// logins: 1
}

// Credentials never go over plain http to a host that is not loopback.
func ExampleInsecureAllowHTTP() {
	authz := base.FromTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"}))
	client := base.NewClient(authz)
	_, err := client.Get("http://api.example.com/")
	fmt.Println(errors.Is(err, authorizer.ErrInsecureTransport))
	// Output: true
}

// Branch on the typed errors through the *url.Error that http.Client adds.
func ExampleTransport_errors() {
	authz := &sessionAuthorizer{login: func(ctx context.Context) (string, time.Duration, error) {
		return "", 0, &authorizer.InvalidClientError{ClientID: "orders-service", StatusCode: 401, Code: "invalid_client"}
	}}
	tr := base.NewTransport(authz)
	defer tr.Close()
	_, err := (&http.Client{Transport: tr}).Get("https://api.example.com/orders")
	var ice *authorizer.InvalidClientError
	fmt.Println(errors.As(err, &ice), ice.ClientID)
	// Again right away: the Transport backs off instead of asking again.
	_, err = (&http.Client{Transport: tr}).Get("https://api.example.com/orders")
	fmt.Println(errors.Is(err, authorizer.ErrBackoff), errors.As(err, &ice))
	// Output:
	// true orders-service
	// true true
}

// Call Token once at start-up to fail fast on configuration: a refused
// client is a typed error before the first request, not a backoff later.
func ExampleTransport_Token() {
	authz := &sessionAuthorizer{login: func(ctx context.Context) (string, time.Duration, error) {
		return "", 0, &authorizer.InvalidClientError{ClientID: "orders-service", StatusCode: 401, Code: "invalid_client"}
	}}
	tr, err := base.New(authz)
	if err != nil {
		fmt.Println(err) // an invalid option
		return
	}
	defer tr.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := tr.Token(ctx); err != nil {
		var ice *authorizer.InvalidClientError
		fmt.Println("start-up check failed:", errors.As(err, &ice))
		fmt.Println(err)
	}
	// Output:
	// start-up check failed: true
	// session: login failed: authorizer: client "orders-service" was refused (status 401, invalid_client)
}

// New reports an invalid option value instead of dropping it.
func ExampleNew() {
	authz := base.FromTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"}))
	_, err := base.New(authz, base.WithBackoff(5*time.Second, time.Second))
	var ice *authorizer.InvalidConfigError
	fmt.Println(errors.As(err, &ice), err)
	// Output: true base: WithBackoff needs 0 < min <= max
}
