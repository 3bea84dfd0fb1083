package srp_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	authorizer "github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/filecache"
	"github.com/seed-d44eba79/authorizer/srp"
	"github.com/seed-d44eba79/authorizer/srp/internal/srptest"
)

// The usual setup: an app client, the user, the pool; base.NewClient(a)
// then authorizes every request. Here a fake pool stands in for Cognito
// (WithCognitoClient), as in tests.
func ExampleNewAuthorizer() {
	cognito := srptest.NewFake("AbCdEf123", "my-app-client", "", map[string]*srptest.User{
		"alice": {Password: "Alice-Passw0rd!"},
	})
	a, err := srp.NewAuthorizer(
		data.ClientInfo{ClientID: "my-app-client"},
		data.UserCredentials{UserName: "alice", Password: "Alice-Passw0rd!"},
		srp.Environment{Region: "eu-west-1", UserPoolID: "eu-west-1_AbCdEf123"},
		srp.WithCognitoClient(cognito),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	tok, err := a.Authorize(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.TokenType, tok.ExpiresIn, tok.RefreshToken != "")
	fmt.Println(srptest.ClaimsOf(tok.AccessToken)["username"])
	// Output:
	// Bearer 3600 true
	// alice
}

// A challenge without a handler stops the sign-in with a ChallengeError.
func ExampleChallengeError() {
	cognito := srptest.NewFake("AbCdEf123", "my-app-client", "", map[string]*srptest.User{
		"mallory": {Password: "Mallory-Passw0rd!", MFA: "SOFTWARE_TOKEN_MFA", MFACode: "123456"},
	})
	a, _ := srp.NewAuthorizer(
		data.ClientInfo{ClientID: "my-app-client"},
		data.UserCredentials{UserName: "mallory", Password: "Mallory-Passw0rd!"},
		srp.Environment{Region: "eu-west-1", UserPoolID: "eu-west-1_AbCdEf123"},
		srp.WithCognitoClient(cognito),
	)
	_, err := a.Authorize(context.Background())
	var ce *srp.ChallengeError
	if errors.As(err, &ce) {
		fmt.Println("needs:", ce.Name)
	}
	// Output: needs: SOFTWARE_TOKEN_MFA
}

// Settings are checked before any call.
func ExampleNewAuthorizer_invalidPoolID() {
	_, err := srp.NewAuthorizer(
		data.ClientInfo{ClientID: "my-app-client"},
		data.UserCredentials{UserName: "alice", Password: "Alice-Passw0rd!"},
		srp.Environment{Region: "eu-west-1", UserPoolID: "AbCdEf123"},
	)
	var ce *authorizer.InvalidConfigError
	fmt.Println(errors.As(err, &ce), err)
	// Output: true srp: Environment.UserPoolID is not of the form "<region>_<id>"
}

// The clock option pins the time of day, e.g. for tests of the TIMESTAMP.
func ExampleWithClock() {
	at := time.Date(2026, 3, 4, 13, 5, 0, 0, time.UTC)
	cognito := srptest.NewFake("AbCdEf123", "my-app-client", "", map[string]*srptest.User{"alice": {Password: "Alice-Passw0rd!"}})
	cognito.Now = func() time.Time { return at }
	a, _ := srp.NewAuthorizer(
		data.ClientInfo{ClientID: "my-app-client"},
		data.UserCredentials{UserName: "alice", Password: "Alice-Passw0rd!"},
		srp.Environment{Region: "eu-west-1", UserPoolID: "eu-west-1_AbCdEf123"},
		srp.WithCognitoClient(cognito), srp.WithClock(func() time.Time { return at }),
	)
	tok, err := a.Authorize(context.Background())
	fmt.Println(err, tok.Expiry, cognito.Calls()[1].Params["TIMESTAMP"])
	// Output: <nil> 2026-03-04 14:05:00 +0000 UTC Wed Mar 4 13:05:00 UTC 2026
}

// srp has no cache option of its own: a command-line tool that keeps its
// user signed in between runs gives the Transport a cache, base.WithCache
// with a filecache.Cache (files 0600 in a directory only the user may
// write; filecache.WithEncryptionKey to seal them). The second run below
// uses the cached token: no sign-in, no password proof sent again.
func Example_tokenCache() {
	dir, _ := os.MkdirTemp("", "srp-example")
	defer os.RemoveAll(dir)
	cognito := srptest.NewFake("AbCdEf123", "my-app-client", "", map[string]*srptest.User{
		"alice": {Password: "Alice-Passw0rd!"},
	})
	env := srp.Environment{Region: "eu-west-1", UserPoolID: "eu-west-1_AbCdEf123"}
	info := data.ClientInfo{ClientID: "my-app-client"}
	creds := data.UserCredentials{UserName: "alice", Password: "Alice-Passw0rd!"}
	// One cache entry per pool, app client and user.
	key := filecache.Key(env.UserPoolID, info.ClientID, []string{"user=" + creds.UserName})

	run := func() {
		cache, err := filecache.New(filecache.WithDir(dir)) // default: the user's cache directory
		if err != nil {
			fmt.Println(err)
			return
		}
		a, err := srp.NewAuthorizer(info, creds, env, srp.WithCognitoClient(cognito))
		if err != nil {
			fmt.Println(err)
			return
		}
		t := base.NewTransport(a, base.WithCache(cache, key))
		defer t.Close()
		if _, err := t.Token(context.Background()); err != nil {
			fmt.Println(err)
		}
	}
	run()
	run() // the next start of the tool
	fmt.Println("sign-ins:", cognito.Count("InitiateAuth", "USER_SRP_AUTH"))
	// Output: sign-ins: 1
}
