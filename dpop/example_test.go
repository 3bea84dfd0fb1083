package dpop_test

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer/dpop"
	"golang.org/x/oauth2"
)

// A key signs one proof per request; a token bound to it carries it.
func ExampleKey_Proof() {
	key, err := dpop.GenerateKey()
	if err != nil {
		panic(err)
	}
	target, _ := url.Parse("https://api.example.test/orders?page=2")
	proof, err := key.Proof("GET", target, "the-access-token", "", time.Now())
	if err != nil {
		panic(err)
	}
	fmt.Println(key.Algorithm(), strings.Count(proof, "."), len(key.Thumbprint()))

	tok := dpop.Bind(&oauth2.Token{AccessToken: "the-access-token", TokenType: "DPoP"}, key)
	fmt.Println(dpop.IsDPoP(tok), dpop.KeyOf(tok).Equal(key))
	// Output:
	// ES256 2 43
	// true true
}

// What a client sends, and the htu a server compares: no query, no fragment.
func ExampleTargetURI() {
	u, _ := url.Parse("HTTPS://API.Example.test:443/orders?page=2#top")
	fmt.Println(dpop.TargetURI(u))
	fmt.Println(dpop.Origin(u))
	// Output:
	// https://api.example.test/orders
	// https://api.example.test
}
