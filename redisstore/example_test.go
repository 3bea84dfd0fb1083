package redisstore_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/seed-d44eba79/authorizer/redisstore"
	"golang.org/x/oauth2"
)

// Two replicas share a token: the first stores it under the lease, the
// second finds it.
func Example() {
	mr, _ := miniredis.Run() // a real service: its Redis, Sentinel or Cluster
	defer mr.Close()
	key := bytes.Repeat([]byte{1}, 32) // a real service: 32 random bytes from its secret store
	replica := func() (*redisstore.Store, func()) {
		client := redis.NewUniversalClient(&redis.UniversalOptions{
			Addrs: []string{mr.Addr()}, ContextTimeoutEnabled: true})
		s, err := redisstore.New(client, key)
		if err != nil {
			panic(err)
		}
		return s, func() { client.Close() }
	}
	a, closeA := replica()
	defer closeA()
	b, closeB := replica()
	defer closeB()
	// In a service: base.NewTransport(authz, base.WithCache(store, cacheKey)).
	cacheKey := redisstore.Key(redisstore.Identity{TokenURL: "https://idp.example/token",
		ClientID: "orders", ClientSecret: "s3cret", Scopes: []string{"orders.read"}})

	ctx := context.Background()
	unlock, _ := a.Lock(ctx, cacheKey)
	_ = a.Store(ctx, cacheKey, &oauth2.Token{AccessToken: "from-the-idp", Expiry: time.Now().Add(time.Hour)})
	_ = unlock()

	unlock, _ = b.Lock(ctx, cacheKey)
	tok, _ := b.Load(ctx, cacheKey)
	_ = unlock()
	fmt.Println(tok.AccessToken)
	// Output: from-the-idp
}
