// Command quickstart shows the SDK's main job with nothing to set up: it
// starts an OAuth 2.0 token endpoint and a protected API in this process on
// 127.0.0.1, then calls the API through base.NewClient with a
// client-credentials ("service account") authorizer, and shows the token
// fetched once, reused, refreshed ahead of expiry without delaying a
// request, and recovered after the API revokes it (401). Tokens are shown
// only as fingerprints.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
)

// tokenLifetime is short so that the refresh ahead of expiry happens within
// the demo: it starts once less than half the lifetime remains.
const tokenLifetime = 4 * time.Second

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, w io.Writer) error {
	// The Transport's hook runs on its token-request goroutine: serialize.
	out := &syncWriter{w: w}
	idp := newIdentityProvider(tokenLifetime)
	defer idp.Close()

	info := data.ClientInfo{ClientID: "orders-service", ClientSecret: "demo-secret", APIKey: "demo-api-key"}
	env := oauth2auth.Environment{Name: "quickstart", TokenURL: idp.URL + "/token", Scopes: []string{"orders:read"}}
	authz, err := oauth2auth.NewServiceAccountAuthorizer(info, env)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "client: %v\n\n", info) // secrets print as REDACTED

	tr := base.NewTransport(authz, base.WithHook(func(e base.Event) { printEvent(out, e) }))
	defer tr.Close()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	call := func(step string) error { return callAPI(ctx, out, client, idp.URL+"/orders", step) }

	steps := []struct {
		name string
		do   func() error
	}{
		{"1. first call: a token is fetched", func() error { return call("first") }},
		{"2. five more calls: the token is reused", func() error {
			for range 5 {
				if err := call("again"); err != nil {
					return err
				}
			}
			return nil
		}},
		{"3. near expiry: refreshed in the background, the call does not wait", func() error {
			time.Sleep(tokenLifetime/2 + 300*time.Millisecond)
			if err := call("stale"); err != nil {
				return err
			}
			time.Sleep(200 * time.Millisecond) // let the background refresh land
			return call("fresh")
		}},
		{"4. the API revokes the token: 401, new token, request replayed once", func() error {
			idp.revokeAll()
			return call("after revoke")
		}},
	}
	for _, s := range steps {
		fmt.Fprintf(out, "%s\n", s.name)
		if err := s.do(); err != nil {
			return err
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintf(out, "token requests: %d, API calls: %d, answered 401: %d\n", idp.tokenRequests(), idp.apiCalls(), idp.rejected())
	return nil
}

func callAPI(ctx context.Context, out io.Writer, client *http.Client, url, step string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	fmt.Fprintf(out, "   GET /orders (%s) -> %d in %v, %s", step, resp.StatusCode, time.Since(start).Round(10*time.Microsecond), body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("quickstart: API answered %d", resp.StatusCode)
	}
	return nil
}

// syncWriter serializes writes from the caller and from the hook.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func printEvent(out io.Writer, e base.Event) {
	switch e.Kind {
	case base.EventFetched, base.EventRefreshed:
		mode := "while the caller waited"
		if e.Background {
			mode = "in the background"
		}
		fmt.Fprintf(out, "   [token %s %s in %v, valid until %s]\n", e.Kind, mode, e.Duration.Round(10*time.Microsecond), e.Expiry.Format("15:04:05.000"))
	case base.EventInvalidated:
		fmt.Fprintf(out, "   [token refused by the API (401): dropped]\n")
	default:
		fmt.Fprintf(out, "   [token %s: %v]\n", e.Kind, e.Err)
	}
}
