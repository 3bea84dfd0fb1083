package filecache_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/seed-d44eba79/authorizer/filecache"
	"golang.org/x/oauth2"
)

// A tool keeps its user's tokens between runs.
func Example() {
	dir, _ := os.MkdirTemp("", "filecache-example")
	defer os.RemoveAll(dir)

	cache, err := filecache.New(filecache.WithDir(dir))
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	key := filecache.Key("https://id.example.com", "my-cli", []string{"openid", "offline_access"})
	tok := &oauth2.Token{AccessToken: "at", RefreshToken: "rt", Expiry: time.Now().Add(time.Hour)}
	if err := cache.Store(ctx, key, tok); err != nil {
		fmt.Println(err)
		return
	}

	// Next run:
	again, _ := cache.Load(ctx, key)
	fmt.Println("refresh token kept:", again.RefreshToken == "rt")
	// Output: refresh token kept: true
}
