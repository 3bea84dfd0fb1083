// Command permissions runs the permission-service flow of dgp-oauth2 end
// to end, with nothing to set up: in this process on 127.0.0.1 it starts a
// permission service (internal/permsvc: RS256 permission tokens with
// userid, service, permissions and exp; its public key at
// /auth/public-key) and an orders service that verifies those tokens with
// verify.PEMURL, then calls the orders service as the signed-in user alice
// through base.NewClient with a custom base.Authorizer that gets alice's
// permission token for the orders service. Tokens are shown only as
// fingerprints.
//
//	go run ./examples/permissions
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/internal/permsvc"
	"github.com/seed-d44eba79/authorizer/verify"
)

// aliceSession is the session alice got when she signed in to the
// permission service (in dgp, through its login page).
const aliceSession = "alice-session-demo-secret"

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer) error {
	perms, err := permsvc.New(permsvc.WithLifetime(10*time.Minute), permsvc.WithSession(aliceSession, "alice"),
		permsvc.WithUser(permsvc.User{ID: "alice", Permissions: map[string][]string{"orders": {"orders:read"}}}))
	if err != nil {
		return err
	}
	permSrv := httptest.NewServer(perms)
	defer permSrv.Close()

	// The orders service: the permission service's key, its own name as aud.
	keys := verify.PEMURL(permSrv.URL + "/auth/public-key")
	defer keys.Close()
	v, err := verify.New(keys, verify.Expect{Issuer: perms.Issuer(), Audience: []string{"orders"}})
	if err != nil {
		return err
	}
	orders := httptest.NewServer(showToken(ordersService(v)))
	defer orders.Close()

	// The caller: alice's permission tokens, one authorizer per service.
	forOrders, err := newPermissionAuthorizer(permSrv.URL, perms.Issuer(), "orders", aliceSession)
	if err != nil {
		return err
	}
	defer forOrders.Close()
	client := base.NewClient(forOrders)
	defer client.Transport.(*base.Transport).Close()

	if err := steps(ctx, out, client, orders.URL, permSrv.URL, perms.Issuer()); err != nil {
		return err
	}
	fmt.Fprintf(out, "permission tokens issued: %d\n", perms.Issued())
	return nil
}

func steps(ctx context.Context, out io.Writer, client *http.Client, orders, permURL, issuer string) error {
	fmt.Fprintln(out, "1. three reads as alice: one permission token, verified by the orders service")
	for range 3 {
		if err := call(ctx, out, client, http.MethodGet, orders, http.StatusOK); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, "2. a write: alice lacks orders:write, the service answers 403")
	if err := call(ctx, out, client, http.MethodPost, orders, http.StatusForbidden); err != nil {
		return err
	}
	fmt.Fprintln(out, "3. a token for billing, where alice has no permissions: the permission service refuses")
	forBilling, err := newPermissionAuthorizer(permURL, issuer, "billing", aliceSession)
	if err != nil {
		return err
	}
	defer forBilling.Close()
	_, err = forBilling.Authorize(ctx)
	var ae *authorizer.AuthorizationError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusForbidden {
		return fmt.Errorf("examples/permissions: billing token: got %v; want a 403 AuthorizationError", err)
	}
	fmt.Fprintf(out, "   %v\n", err)
	fmt.Fprintln(out, "4. a session the permission service does not know: InvalidCredentialsError")
	stranger, err := newPermissionAuthorizer(permURL, issuer, "orders", "no-such-session")
	if err != nil {
		return err
	}
	defer stranger.Close()
	_, err = stranger.Authorize(ctx)
	var ice *authorizer.InvalidCredentialsError
	if !errors.As(err, &ice) {
		return fmt.Errorf("examples/permissions: unknown session: got %v; want an InvalidCredentialsError", err)
	}
	fmt.Fprintf(out, "   %v\n\n", err)
	return nil
}

// call sends method to orders/orders with the client's token and checks
// the status.
func call(ctx context.Context, out io.Writer, c *http.Client, method, orders string, want int) error {
	req, err := http.NewRequestWithContext(ctx, method, orders+"/orders", nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	fmt.Fprintf(out, "   %s /orders with token %s -> %d %s", method, resp.Header.Get("X-Token-Fingerprint"), resp.StatusCode, body)
	if resp.StatusCode != want {
		return fmt.Errorf("examples/permissions: %s /orders answered %d; want %d", method, resp.StatusCode, want)
	}
	return nil
}

// showToken is the demo's outer handler around the orders service: it
// names the token that arrived by its fingerprint, in a header call prints.
func showToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get(data.AuthorizationHeader)
		w.Header().Set("X-Token-Fingerprint", data.Fingerprint(strings.TrimPrefix(tok, "Bearer ")))
		next.ServeHTTP(w, r)
	})
}
