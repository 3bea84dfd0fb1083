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
	"github.com/seed-d44eba79/authorizer/srp"
)

func main() {
	log.SetFlags(0)
	env := srp.EnvironmentFromEnv("COGNITO")
	flag.StringVar(&env.Region, "region", env.Region, "AWS region of the user pool (COGNITO_REGION)")
	flag.StringVar(&env.UserPoolID, "pool", env.UserPoolID, "user pool id, <region>_<id> (COGNITO_USER_POOL_ID)")
	flag.StringVar(&env.Endpoint, "endpoint", env.Endpoint, "Cognito endpoint override (COGNITO_ENDPOINT)")
	clientID := flag.String("client", os.Getenv("COGNITO_CLIENT_ID"), "app client id (COGNITO_CLIENT_ID)")
	user := flag.String("user", os.Getenv("COGNITO_USERNAME"), "user name or alias (COGNITO_USERNAME)")
	apiURL := flag.String("api", os.Getenv("COGNITO_API_URL"), "optional API URL to GET with the token (COGNITO_API_URL)")
	idToken := flag.Bool("id-token", false, "send the ID token instead of the access token")
	flag.Parse()
	if env.Region == "" { // the pool id starts with it
		env.Region, _, _ = strings.Cut(env.UserPoolID, "_")
	}

	if err := run(env, *clientID, *user, *apiURL, *idToken); err != nil {
		log.Fatal(explain(err))
	}
}

func run(env srp.Environment, clientID, user, apiURL string, idToken bool) error {
	opts := []srp.Option{srp.WithNewPasswordHandler(func(context.Context) (string, error) {
		if pw := os.Getenv("COGNITO_NEW_PASSWORD"); pw != "" {
			return pw, nil
		}
		return "", errors.New("set COGNITO_NEW_PASSWORD to choose the new password")
	})}
	if idToken {
		opts = append(opts, srp.WithIDToken())
	}
	a, err := srp.NewAuthorizer(
		data.ClientInfo{ClientID: clientID, ClientSecret: os.Getenv("COGNITO_CLIENT_SECRET")},
		data.UserCredentials{UserName: user, Password: os.Getenv("COGNITO_PASSWORD")},
		env, opts...)
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
		return fmt.Sprintf("%v (check the flags and COGNITO_PASSWORD)", err)
	case errors.As(err, &cred):
		return fmt.Sprintf("%v (not retried: Cognito locks accounts after repeated failures)", err)
	case errors.As(err, &cl):
		return fmt.Sprintf("%v (check -client and -pool)", err)
	case errors.As(err, &chall):
		return fmt.Sprintf("%v (this example answers NEW_PASSWORD_REQUIRED only)", err)
	}
	return err.Error()
}
