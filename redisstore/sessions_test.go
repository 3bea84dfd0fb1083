package redisstore

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/web"
)

func newSessions(t *testing.T, addr string, opts ...SessionOption) *SessionStore {
	t.Helper()
	s, err := NewSessionStore(newClient(t, addr), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSessionRoundTrip(t *testing.T) {
	mr := miniredis.RunT(t)
	s := newSessions(t, mr.Addr())
	ctx := context.Background()
	if _, err := s.Get(ctx, "id1"); !errors.Is(err, web.ErrSessionNotFound) {
		t.Fatalf("Get of a missing id: %v, want web.ErrSessionNotFound", err)
	}
	if err := s.Put(ctx, "id1", []byte("sealed-1"), []string{"sub:alice", "sid:s1"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "id1")
	if err != nil || string(got) != "sealed-1" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if err := s.Put(ctx, "id1", []byte("sealed-2"), nil, time.Hour); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(ctx, "id1"); string(got) != "sealed-2" {
		t.Fatalf("after a second Put, Get = %q", got)
	}
	if err := s.Delete(ctx, "id1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "id1"); err != nil {
		t.Fatalf("deleting a missing id: %v", err)
	}
	if _, err := s.Get(ctx, "id1"); !errors.Is(err, web.ErrSessionNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
}

// No id, tag, subject or value in plain text reaches Redis, and the keys
// are under the session prefix, not the token store's.
func TestSessionKeysAreHashedAndPrefixed(t *testing.T) {
	mr := miniredis.RunT(t)
	s := newSessions(t, mr.Addr())
	if err := s.Put(context.Background(), "the-id", []byte("v"), []string{"sub:alice"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	keys := mr.Keys()
	if len(keys) != 2 {
		t.Fatalf("keys %q, want a session and a tag set", keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, DefaultSessionPrefix) || strings.HasPrefix(k, DefaultPrefix) ||
			strings.Contains(k, "the-id") || strings.Contains(k, "alice") {
			t.Errorf("key %q", k)
		}
		if k[len(DefaultSessionPrefix)] == 't' {
			for _, m := range must(mr.Members(k)) {
				if strings.Contains(m, "the-id") {
					t.Errorf("tag member %q", m)
				}
			}
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Every key has a TTL; a tag set's TTL is at least that of each of its
// sessions, and never lowered by a shorter one.
func TestSessionTTLOnEveryKey(t *testing.T) {
	mr := miniredis.RunT(t)
	s := newSessions(t, mr.Addr())
	ctx := context.Background()
	if err := s.Put(ctx, "long", []byte("v"), []string{"sub:alice", "sid:s1"}, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "short", []byte("v"), []string{"sub:alice"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, k := range mr.Keys() {
		ttl := mr.TTL(k)
		if ttl <= 0 {
			t.Errorf("key %q has no TTL", k)
		}
		if k[len(DefaultSessionPrefix)] == 't' && ttl < 2*time.Hour {
			t.Errorf("tag set %q TTL %v, below its longest session's", k, ttl)
		}
	}
	if got := mr.TTL(s.sessionKey("short")); got != time.Minute {
		t.Errorf("short session TTL %v", got)
	}
	mr.FastForward(time.Minute)
	if _, err := s.Get(ctx, "short"); !errors.Is(err, web.ErrSessionNotFound) {
		t.Errorf("an expired session: %v", err)
	}
	if _, err := s.Get(ctx, "long"); err != nil {
		t.Errorf("the long session: %v", err)
	}
	// ttl <= 0: the session has already expired.
	if err := s.Put(ctx, "long", []byte("v"), nil, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "long"); !errors.Is(err, web.ErrSessionNotFound) {
		t.Errorf("after Put with ttl 0: %v", err)
	}
}

func TestSessionDeleteTag(t *testing.T) {
	mr := miniredis.RunT(t)
	s := newSessions(t, mr.Addr())
	ctx := context.Background()
	put := func(id string, tags ...string) {
		t.Helper()
		if err := s.Put(ctx, id, []byte(id), tags, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	put("a1", "sub:alice", "sid:s1")
	put("a2", "sub:alice", "sid:s2")
	put("b1", "sub:bob", "sid:s3")
	put("moved", "sub:alice") // stored again below without sub:alice
	put("moved", "sub:carol")
	if err := s.DeleteTag(ctx, "sub:alice"); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"a1": false, "a2": false, "b1": true, "moved": true} {
		_, err := s.Get(ctx, id)
		if (err == nil) != want {
			t.Errorf("%s: Get err %v, want kept=%v", id, err, want)
		}
	}
	if err := s.DeleteTag(ctx, "sid:s3"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "b1"); !errors.Is(err, web.ErrSessionNotFound) {
		t.Errorf("b1 after DeleteTag(sid): %v", err)
	}
	if err := s.DeleteTag(ctx, "sub:nobody"); err != nil {
		t.Errorf("DeleteTag of an unknown tag: %v", err)
	}
	if mr.Exists(s.tagKey("sub:alice")) {
		t.Error("the deleted tag's set is still there")
	}
}

// A key of another type where a session or a tag set would be reads as
// absent, never as an error or a panic.
func TestSessionForeignKeys(t *testing.T) {
	mr := miniredis.RunT(t)
	s := newSessions(t, mr.Addr())
	ctx := context.Background()
	if err := mr.Set(s.sessionKey("x"), "a string"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "x"); !errors.Is(err, web.ErrSessionNotFound) {
		t.Errorf("Get of a string key: %v", err)
	}
	if err := mr.Set(s.tagKey("sub:x"), "a string"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTag(ctx, "sub:x"); err != nil {
		t.Errorf("DeleteTag of a string key: %v", err)
	}
}

// Two replicas, each with its own client and SessionStore on one Redis: a
// DeleteTag through B (what B's back-channel logout does) ends the session
// A stored, as A sees it.
func TestSessionDeleteTagReachesEveryReplica(t *testing.T) {
	mr := miniredis.RunT(t)
	a, b := newSessions(t, mr.Addr()), newSessions(t, mr.Addr())
	ctx := context.Background()
	if err := a.Put(ctx, "id", []byte("v"), []string{"sub:alice", "sid:s1"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, "id"); err != nil {
		t.Fatalf("B does not see A's session: %v", err)
	}
	if err := b.DeleteTag(ctx, "sid:s1"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(ctx, "id"); !errors.Is(err, web.ErrSessionNotFound) {
		t.Fatalf("A still has the session: %v", err)
	}
}

// Two web.Login replicas accept a shared SessionStore (it type-checks as
// web.SessionStore and passes web.New), and a request with a cookie the
// store does not know is challenged, not served and not a panic.
func TestSessionStoreServesTwoLogins(t *testing.T) {
	mr := miniredis.RunT(t)
	store := newSessions(t, mr.Addr())
	cfg := web.Config{
		Issuer:         "https://id.example.com",
		Client:         data.ClientInfo{ClientID: "app"},
		ExternalURL:    "https://app.example.com",
		ProtectedPaths: []string{"/"},
		SessionSecret:  strings.Repeat("s", web.MinSecretLength),
		SessionStore:   store,
	}
	for _, name := range []string{"A", "B"} {
		l, err := web.New(cfg)
		if err != nil {
			t.Fatalf("replica %s: %v", name, err)
		}
		served := false
		h := l.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served = true }))
		r := httptest.NewRequest("GET", "https://app.example.com/", nil)
		r.AddCookie(&http.Cookie{Name: "__Host-" + web.DefaultCookieName, Value: "not-a-session"})
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if served {
			t.Errorf("replica %s served an unknown session", name)
		}
		_ = l.Close()
	}
}

// Redis down: every method returns an error wrapping ErrUnavailable (not
// ErrSessionNotFound, not a panic), and the open breaker stops calls.
func TestSessionRedisDown(t *testing.T) {
	mr := miniredis.RunT(t)
	clock := &fakeClock{t: time.Unix(1e9, 0)}
	s := newSessions(t, mr.Addr(), WithSessionBreaker(2, time.Minute), withSessionClock(clock.now))
	mr.Close()
	ctx := context.Background()
	calls := map[string]func() error{
		"Get":       func() error { _, err := s.Get(ctx, "id"); return err },
		"Put":       func() error { return s.Put(ctx, "id", []byte("v"), []string{"sub:a"}, time.Hour) },
		"Delete":    func() error { return s.Delete(ctx, "id") },
		"DeleteTag": func() error { return s.DeleteTag(ctx, "sub:a") },
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(err, ErrUnavailable) || errors.Is(err, web.ErrSessionNotFound) {
			t.Errorf("%s with Redis down: %v", name, err)
		}
	}
	mr.Restart() // Redis is back, but the breaker stays open for its cooldown
	if _, err := s.Get(ctx, "id"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Get with the breaker open: %v", err)
	}
	clock.add(time.Minute)
	if _, err := s.Get(ctx, "id"); !errors.Is(err, web.ErrSessionNotFound) {
		t.Errorf("Get after the cooldown: %v", err)
	}
}

func withSessionClock(now func() time.Time) SessionOption {
	return func(c *sessionConfig) error { c.now = now; return nil }
}

func TestNewSessionStoreValidation(t *testing.T) {
	good := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	noCtx := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = good.Close(); _ = noCtx.Close() })
	var nilClient *redis.Client
	cases := map[string]struct {
		client  redis.UniversalClient
		opts    []SessionOption
		setting string
	}{
		"nil client":         {nil, nil, "NewSessionStore client"},
		"typed nil client":   {nilClient, nil, "NewSessionStore client"},
		"no context timeout": {noCtx, nil, "NewSessionStore client"},
		"nil option":         {good, []SessionOption{nil}, "NewSessionStore option"},
		"empty prefix":       {good, []SessionOption{WithSessionPrefix("")}, "WithSessionPrefix"},
		"brace prefix":       {good, []SessionOption{WithSessionPrefix("a{b")}, "WithSessionPrefix"},
		"token prefix":       {good, []SessionOption{WithSessionPrefix(DefaultPrefix)}, "WithSessionPrefix"},
		"zero timeout":       {good, []SessionOption{WithSessionCallTimeout(0)}, "WithSessionCallTimeout"},
		"zero failures":      {good, []SessionOption{WithSessionBreaker(0, time.Second)}, "WithSessionBreaker"},
		"zero cooldown":      {good, []SessionOption{WithSessionBreaker(1, 0)}, "WithSessionBreaker"},
	}
	for name, c := range cases {
		_, err := NewSessionStore(c.client, c.opts...)
		var ice *authorizer.InvalidConfigError
		if !errors.As(err, &ice) || ice.Setting != "redisstore: "+c.setting {
			t.Errorf("%s: %v, want InvalidConfigError for %s", name, err, c.setting)
		}
	}
	s, err := NewSessionStore(good, WithSessionPrefix("app:s:"), WithSessionCallTimeout(time.Second),
		WithSessionBreaker(3, time.Second), WithSessionLogger(nil))
	if err != nil || s.cfg.prefix != "app:s:" || s.cfg.callTimeout != time.Second || s.cfg.breakerFailures != 3 {
		t.Fatalf("valid options: %v %+v", err, s)
	}
}
