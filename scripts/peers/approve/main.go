// Command approve plays the user at the oidc-provider test peer
// (scripts/peers/oidc-provider) over plain HTTP, so that the device and
// browser sign-in flows can be tried without a browser.
//
// Approve a device code (what the device prompt shows):
//
//	go run ./scripts/peers/approve WDJB-MJHT
//	go run ./scripts/peers/approve 'http://127.0.0.1:9010/device?user_code=WDJB-MJHT'
//
// Complete a browser sign-in (the authorization URL the SDK would open;
// give the SDK a BrowserOpener that prints it). The redirect to the
// loopback callback is followed, so the waiting program gets its code:
//
//	go run ./scripts/peers/approve 'http://127.0.0.1:9010/auth?client_id=sdk-native&…'
//
// Flags: -issuer (default $AUTHORIZER_OIDC_ISSUER, else
// http://127.0.0.1:9010; ignored when the argument is a URL of the peer),
// -login (default alice: any name is an account, the password is ignored).
// The program prints what it did and exits 1 on failure. Test peer only:
// it types a login into the dev login pages, nothing else.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer/internal/peertest"
)

func main() {
	log.SetFlags(0)
	issuer := flag.String("issuer", defaultIssuer(), "issuer of the oidc-provider peer")
	login := flag.String("login", "alice", "login name to sign in as (any name works)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: approve [-issuer URL] [-login NAME] USER_CODE | DEVICE_URL | AUTH_URL")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	msg, err := run(ctx, *issuer, *login, flag.Arg(0))
	if err != nil {
		log.Fatal("approve: ", err)
	}
	fmt.Println(msg)
}

func defaultIssuer() string {
	if v := os.Getenv("AUTHORIZER_OIDC_ISSUER"); v != "" {
		return v
	}
	return "http://127.0.0.1:9010"
}

// run approves a user code or completes a sign-in at an authorization URL.
func run(ctx context.Context, issuer, login, arg string) (string, error) {
	u := peertest.NewUser(login)
	if !strings.HasPrefix(arg, "http://") && !strings.HasPrefix(arg, "https://") {
		return approve(ctx, u, issuer, arg)
	}
	target, err := url.Parse(arg)
	if err != nil {
		return "", err
	}
	origin := target.Scheme + "://" + target.Host
	if code := target.Query().Get("user_code"); code != "" {
		return approve(ctx, u, origin, code)
	}
	p, err := u.SignIn(ctx, arg)
	if err != nil {
		return "", err
	}
	if p.URL.Host == target.Host {
		return "", fmt.Errorf("sign-in ended at the provider (status %d at %s): %s", p.Status, p.URL.Path, p.Message())
	}
	return fmt.Sprintf("signed in as %s; the redirect to %s%s answered %d", login, p.URL.Host, p.URL.Path, p.Status), nil
}

func approve(ctx context.Context, u *peertest.User, issuer, code string) (string, error) {
	if err := u.ApproveDevice(ctx, issuer, code); err != nil {
		return "", err
	}
	return fmt.Sprintf("approved %s at %s as %s", code, issuer, u.Login), nil
}
