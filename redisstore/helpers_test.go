package redisstore

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

func TestMain(m *testing.M) {
	redis.SetLogger(quiet{}) // go-redis logs every failed dial; the tests cause them on purpose
	goleak.VerifyTestMain(m)
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

var testKey = bytes.Repeat([]byte{7}, 32)

// fakeClock is a controllable now for the breaker and TTLs.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func withClock(now func() time.Time) Option {
	return func(c *config) error { c.now = now; return nil }
}

func newClient(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true,
		MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newMini starts a miniredis and a Store on it.
func newMini(t *testing.T, opts ...Option) (*miniredis.Miniredis, *Store) {
	t.Helper()
	mr := miniredis.RunT(t)
	return mr, newStoreOn(t, mr.Addr(), opts...)
}

func newStoreOn(t *testing.T, addr string, opts ...Option) *Store {
	t.Helper()
	s, err := New(newClient(t, addr), testKey, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func token(access string, expiry time.Time) *oauth2.Token {
	return &oauth2.Token{AccessToken: access, TokenType: "Bearer", Expiry: expiry}
}
