package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/seed-d44eba79/authorizer/redisstore"
	"github.com/seed-d44eba79/authorizer/web"
)

// Two replicas share web sessions: a back-channel logout that reaches
// replica B (it calls DeleteTag) ends the session replica A stored.
func ExampleNewSessionStore() {
	mr, _ := miniredis.Run() // a real service: its Redis, Sentinel or Cluster
	defer mr.Close()
	replica := func() (*redisstore.SessionStore, func()) {
		client := redis.NewUniversalClient(&redis.UniversalOptions{
			Addrs: []string{mr.Addr()}, ContextTimeoutEnabled: true})
		s, err := redisstore.NewSessionStore(client)
		if err != nil {
			panic(err)
		}
		return s, func() { client.Close() }
	}
	a, closeA := replica()
	defer closeA()
	b, closeB := replica()
	defer closeB()
	// In a service: web.New(web.Config{..., SessionStore: a}).

	ctx := context.Background()
	_ = a.Put(ctx, "session-id", []byte("sealed by web"), []string{"sub:alice", "sid:s1"}, time.Hour)
	v, _ := b.Get(ctx, "session-id")
	fmt.Println(string(v))
	_ = b.DeleteTag(ctx, "sid:s1")
	_, err := a.Get(ctx, "session-id")
	fmt.Println(errors.Is(err, web.ErrSessionNotFound))
	// Output:
	// sealed by web
	// true
}
