// Command serviceaccount gets a token with the OAuth 2.0 client-credentials
// grant and calls an API with it, twice, through one base.Transport (the
// second call reuses the token). It prints token fingerprints only, never a
// token or the secret.
//
// The identity provider is read from the environment with the prefix given
// by -env (default SERVICE): SERVICE_ISSUER (the token endpoint is
// discovered) or SERVICE_TOKEN_URL, SERVICE_SCOPES, SERVICE_AUDIENCE,
// SERVICE_RESOURCES, SERVICE_PARAMS; the client from SERVICE_CLIENT_ID,
// SERVICE_CLIENT_SECRET and SERVICE_API_KEY, and how it authenticates from
// SERVICE_CLIENT_AUTH (client_secret_basic, client_secret_post, or
// private_key_jwt with SERVICE_CLIENT_KEY_FILE and SERVICE_CLIENT_KEY_ID;
// -auth overrides it). The secret is read from the environment only, so it
// does not show in the process list.
//
// Against the project's oidc-provider peer (scripts/peers/oidc-provider):
//
//	scripts/peers/oidc-provider/start.sh
//	SERVICE_ISSUER=http://127.0.0.1:9010 SERVICE_SCOPES=api:read SERVICE_RESOURCES=urn:sdk-test:api \
//	SERVICE_CLIENT_ID=sdk-cc-basic SERVICE_CLIENT_SECRET=sdk-cc-basic-secret \
//	    go run ./examples/serviceaccount -api http://127.0.0.1:9010/jwks
//
// Without -api (or SERVICE_API_URL) it only obtains the token.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
)

func main() {
	log.SetFlags(0)
	prefix := flag.String("env", "SERVICE", "prefix of the environment variables that describe the provider and client")
	apiURL := flag.String("api", "", "API URL to GET with the token (default $<PREFIX>_API_URL)")
	auth := flag.String("auth", "", "client authentication: client_secret_basic, client_secret_post or private_key_jwt (default $<PREFIX>_CLIENT_AUTH, else client_secret_basic)")
	verbose := flag.Bool("v", false, "log token lifecycle events (fingerprints only)")
	flag.Parse()
	if *apiURL == "" {
		*apiURL = os.Getenv(*prefix + "_API_URL")
	}
	if err := run(*prefix, *apiURL, *auth, *verbose); err != nil {
		log.Fatal(explain(err))
	}
}

func run(prefix, apiURL, authName string, verbose bool) error {
	env, err := oauth2auth.EnvironmentFromEnv(prefix)
	if err != nil {
		return err
	}
	info, err := oauth2auth.ClientInfoFromEnv(prefix)
	if err != nil {
		return err
	}
	if authName != "" {
		env.ClientAuth = authName
	}
	logger := slog.New(slog.DiscardHandler)
	if verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	authz, err := oauth2auth.NewServiceAccountAuthorizer(info, env, oauth2auth.WithLogger(logger))
	if err != nil {
		return err
	}
	transport := base.NewTransport(authz, base.WithLogger(logger))
	defer transport.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, err := transport.Token(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("environment %q, client %q: token %s (%s), expires %s\n", authz.Environment().Name,
		info.ClientID, data.Fingerprint(tok.AccessToken), tok.Type(), tok.Expiry.Format(time.RFC3339))
	if apiURL == "" {
		return nil
	}
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	for i := 1; i <= 2; i++ {
		if err := call(ctx, client, apiURL, i); err != nil {
			return err
		}
	}
	return nil
}

// call GETs url and prints the status and the size of the answer.
func call(ctx context.Context, client *http.Client, url string, n int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	size, _ := io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	fmt.Printf("call %d: GET %s: %s (%d bytes)\n", n, url, resp.Status, size)
	return nil
}

// explain adds a hint for the typed errors a user can act on.
func explain(err error) string {
	var (
		ic  *authorizer.InvalidClientError
		cfg *authorizer.InvalidConfigError
		ae  *authorizer.AuthorizationError
	)
	switch {
	case errors.As(err, &ic):
		return fmt.Sprintf("%v\nhint: check the client id and secret, and the -auth method", err)
	case errors.As(err, &cfg):
		return fmt.Sprintf("%v\nhint: see go doc ./examples/serviceaccount for the environment variables", err)
	case errors.As(err, &ae) && ae.Temporary():
		return fmt.Sprintf("%v\nhint: the identity provider is unreachable or busy; try again later", err)
	}
	return err.Error()
}
