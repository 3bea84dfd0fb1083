//go:build linux

package redisstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer/web"
)

// Against a real redis-server (AUTHORIZER_REDIS_ADDR): the scripts, MULTI
// and TTLs as Redis itself runs them.
func TestPeerSessionStore(t *testing.T) {
	addr := peerEnv(t, "AUTHORIZER_REDIS_ADDR")
	prefix := fmt.Sprintf("test:session:%d:", time.Now().UnixNano())
	c := newClient(t, addr)
	a, err := NewSessionStore(c, WithSessionPrefix(prefix), WithSessionCallTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSessionStore(newClient(t, addr), WithSessionPrefix(prefix), WithSessionCallTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, id := range []string{"a1", "a2"} {
		if err := a.Put(ctx, id, []byte(id), []string{"sub:alice", "sid:" + id}, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Put(ctx, "moved", []byte("m"), []string{"sub:alice"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := a.Put(ctx, "moved", []byte("m"), []string{"sub:carol"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if ttl := c.PTTL(ctx, k).Val(); ttl <= 0 {
			t.Errorf("key %q has TTL %v", k, ttl)
		}
	}
	if ttl := c.PTTL(ctx, a.tagKey("sub:alice")).Val(); ttl < 59*time.Minute {
		t.Errorf("tag set TTL %v, lowered by a shorter session", ttl)
	}
	if err := b.DeleteTag(ctx, "sub:alice"); err != nil {
		t.Fatal(err)
	}
	for id, kept := range map[string]bool{"a1": false, "a2": false, "moved": true} {
		_, err := a.Get(ctx, id)
		if kept != (err == nil) || (!kept && !errors.Is(err, web.ErrSessionNotFound)) {
			t.Errorf("%s: %v, want kept=%v", id, err, kept)
		}
	}
	t.Cleanup(func() {
		if len(keys) > 0 {
			_ = c.Del(context.Background(), keys...).Err()
		}
	})
}

// The session lease and Replace against a real redis-server.
func TestPeerSessionGuard(t *testing.T) {
	addr := peerEnv(t, "AUTHORIZER_REDIS_ADDR")
	prefix := fmt.Sprintf("test:sguard:%d:", time.Now().UnixNano())
	c := newClient(t, addr)
	a, err := NewSessionStore(c, WithSessionPrefix(prefix), WithSessionCallTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewSessionStore(newClient(t, addr), WithSessionPrefix(prefix), WithSessionCallTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if keys, _ := c.Keys(context.Background(), prefix+"*").Result(); len(keys) > 0 {
			_ = c.Del(context.Background(), keys...).Err()
		}
	})
	checkSessionLease(t, a, b, func() { _ = c.Del(context.Background(), a.lockKey("id1")).Err() })
	checkSessionReplace(t, a)
}
