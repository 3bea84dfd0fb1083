// Command cognito signs a user in to an AWS Cognito user pool with SRP,
// refreshes the session once, and optionally calls an API with the user's
// token. It prints token fingerprints only, never a token.
//
// The password is read from the environment (COGNITO_PASSWORD), never from
// a flag, so that it does not show in the process list or shell history.
//
//	COGNITO_PASSWORD='…' go run ./examples/cognito \
//	    -region eu-west-1 -pool eu-west-1_AbCdEf123 -client 3n4b5urk1ft4fl3mg5e62d9ado -user alice
//
// Against the project's moto peer (scripts/peers/moto):
//
//	scripts/peers/moto/start.sh && python3 scripts/peers/moto/seed.py > /tmp/seed.json
//	COGNITO_PASSWORD='Alice-Passw0rd!' go run ./examples/cognito -endpoint http://127.0.0.1:9020 \
//	    -region us-east-1 -pool "$(jq -r .userPoolId /tmp/seed.json)" \
//	    -client "$(jq -r '.clients["sdk-public"].clientId' /tmp/seed.json)" -user alice
//
// Every flag has an environment variable: COGNITO_REGION, COGNITO_USER_POOL_ID,
// COGNITO_ENDPOINT, COGNITO_CLIENT_ID, COGNITO_CLIENT_SECRET (the secret is
// read from the environment only), COGNITO_USERNAME, COGNITO_API_URL.
//
// With -cache the session is kept between runs in a file cache (srp has no
// cache option: base.WithCache with a filecache.Cache is the way); the next
// run with -cache uses the cached token without signing in again.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/filecache"
	"github.com/seed-d44eba79/authorizer/srp"
)

func main() {
	log.SetFlags(0)
	env, _ := srp.EnvironmentFromEnv("COGNITO") // unset variables may come as flags; NewAuthorizer checks
	flag.StringVar(&env.Region, "region", env.Region, "AWS region of the user pool (COGNITO_REGION)")
	flag.StringVar(&env.UserPoolID, "pool", env.UserPoolID, "user pool id, <region>_<id> (COGNITO_USER_POOL_ID)")
	flag.StringVar(&env.Endpoint, "endpoint", env.Endpoint, "Cognito endpoint override (COGNITO_ENDPOINT)")
	clientID := flag.String("client", os.Getenv("COGNITO_CLIENT_ID"), "app client id (COGNITO_CLIENT_ID)")
	user := flag.String("user", os.Getenv("COGNITO_USERNAME"), "user name or alias (COGNITO_USERNAME)")
	apiURL := flag.String("api", os.Getenv("COGNITO_API_URL"), "optional API URL to GET with the token (COGNITO_API_URL)")
	idToken := flag.Bool("id-token", false, "send the ID token instead of the access token")
	cache := flag.Bool("cache", false, "keep the session in a file cache between runs (base.WithCache + filecache)")
	flag.Parse()
	if env.Region == "" { // the pool id starts with it
		env.Region, _, _ = strings.Cut(env.UserPoolID, "_")
	}

	var err error
	if *cache {
		err = runCached(env, *clientID, *user, *apiURL)
	} else {
		err = run(env, *clientID, *user, *apiURL, *idToken)
	}
	if err != nil {
		log.Fatal(explain(err))
	}
}

// newAuthorizer builds the Authorizer from the flags and COGNITO_*.
func newAuthorizer(env srp.Environment, clientID, user string, idToken bool) (*srp.Authorizer, error) {
	opts := []srp.Option{srp.WithNewPasswordHandler(func(context.Context) (string, error) {
		if pw := os.Getenv("COGNITO_NEW_PASSWORD"); pw != "" {
			return pw, nil
		}
		return "", errors.New("set COGNITO_NEW_PASSWORD to choose the new password")
	})}
	if idToken {
		opts = append(opts, srp.WithIDToken())
	}
	return srp.NewAuthorizer(
		data.ClientInfo{ClientID: clientID, ClientSecret: os.Getenv("COGNITO_CLIENT_SECRET")},
		data.UserCredentials{UserName: user, Password: os.Getenv("COGNITO_PASSWORD")},
		env, opts...)
}

// runCached keeps the user signed in between runs: srp has no cache option
// of its own; the Transport gets one (base.WithCache with a filecache.Cache
// in the user's cache directory). The first run signs in; the next ones use
// the cached token, or its refresh token, without the password proof.
func runCached(env srp.Environment, clientID, user, apiURL string) error {
	a, err := newAuthorizer(env, clientID, user, false)
	if err != nil {
		return err
	}
	cache, err := filecache.New() // filecache.WithEncryptionKey(key) to seal the file
	if err != nil {
		return err
	}
	key := filecache.Key(env.UserPoolID, clientID, []string{"user=" + user}) // one entry per pool, client and user
	t := base.NewTransport(a, base.WithCache(cache, key))
	defer t.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := t.Token(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("token %s (cache %s), expires %s\n", data.Fingerprint(tok.AccessToken), cache.Dir(), tok.Expiry.Format(time.RFC3339))
	if apiURL == "" {
		return nil
	}
	return get(ctx, &http.Client{Transport: t}, apiURL)
}

func run(env srp.Environment, clientID, user, apiURL string, idToken bool) error {
	a, err := newAuthorizer(env, clientID, user, idToken)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	tok, err := a.Authorize(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("signed in: token %s, refresh token %s, expires %s\n",
		data.Fingerprint(tok.AccessToken), data.Fingerprint(tok.RefreshToken), tok.Expiry.Format(time.RFC3339))
	tok2, err := a.Refresh(ctx, tok)
	if err != nil {
		return err
	}
	fmt.Printf("refreshed: token %s, refresh token %s (kept)\n",
		data.Fingerprint(tok2.AccessToken), data.Fingerprint(tok2.RefreshToken))
	if apiURL == "" {
		return nil
	}
	return callAPI(ctx, a, apiURL)
}

// callAPI sends one GET through base.NewClient, which adds the token.
func callAPI(ctx context.Context, a *srp.Authorizer, url string) error {
	client := base.NewClient(a)
	defer client.CloseIdleConnections()
	return get(ctx, client, url)
}

// get sends one GET with client and prints the status.
func get(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	fmt.Printf("GET %s: %s (%d bytes)\n", url, resp.Status, n)
	return nil
}

// explain adds a hint for the typed errors.
func explain(err error) string {
	var (
		cfg   *authorizer.InvalidConfigError
		cred  *authorizer.InvalidCredentialsError
		cl    *authorizer.InvalidClientError
		chall *srp.ChallengeError
	)
	switch {
	case errors.As(err, &cfg):
		return fmt.Sprintf("%v (%s)", err, configHint(cfg.Setting))
	case errors.As(err, &cred):
		return fmt.Sprintf("%v (not retried: Cognito locks accounts after repeated failures)", err)
	case errors.As(err, &cl):
		return fmt.Sprintf("%v (check -client and -pool)", err)
	case errors.As(err, &chall):
		return fmt.Sprintf("%v (this example answers NEW_PASSWORD_REQUIRED only)", err)
	}
	return err.Error()
}

// configHint says which flag or variable sets what an InvalidConfigError
// names.
func configHint(setting string) string {
	switch {
	case strings.HasSuffix(setting, "ClientInfo.ClientID"):
		return "set -client or COGNITO_CLIENT_ID"
	case strings.HasSuffix(setting, "UserCredentials.UserName"):
		return "set -user or COGNITO_USERNAME"
	case strings.HasSuffix(setting, "UserCredentials.Password"):
		return "set COGNITO_PASSWORD"
	case strings.HasSuffix(setting, "Environment.Region"):
		return "set -region or COGNITO_REGION, or a -pool that starts with the region"
	case strings.HasSuffix(setting, "Environment.UserPoolID"):
		return "set -pool or COGNITO_USER_POOL_ID"
	case strings.HasSuffix(setting, "Environment.Endpoint"):
		return "check -endpoint or COGNITO_ENDPOINT"
	case strings.HasPrefix(setting, "filecache:"):
		return "the -cache directory"
	}
	return "check the flags and COGNITO_* variables"
}
