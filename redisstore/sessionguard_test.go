package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/seed-d44eba79/authorizer/web"
)

// checkSessionLease: one holder at a time; unlock frees it; a late
// unlock after the lease expired and was taken over frees nothing.
func checkSessionLease(t *testing.T, a, b *SessionStore, expire func()) {
	t.Helper()
	ctx := context.Background()
	unlock, err := a.LockSession(ctx, "id1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.LockSession(ctx, "id1", time.Minute); !errors.Is(err, web.ErrSessionLocked) {
		t.Fatalf("second LockSession: %v; want web.ErrSessionLocked", err)
	}
	if u, err := b.LockSession(ctx, "id2", time.Minute); err != nil {
		t.Fatalf("another id's lease: %v", err)
	} else {
		u()
	}
	unlock()
	unlockB, err := b.LockSession(ctx, "id1", time.Minute)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlockB()
	late, err := a.LockSession(ctx, "id1", 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	expire()
	taken, err := b.LockSession(ctx, "id1", time.Minute)
	if err != nil {
		t.Fatalf("after the lease expired: %v", err)
	}
	defer taken()
	late()
	if _, err := a.LockSession(ctx, "id1", time.Minute); !errors.Is(err, web.ErrSessionLocked) {
		t.Errorf("a late unlock released the next holder's lease: %v", err)
	}
}

func TestSessionLease(t *testing.T) {
	mr := miniredis.RunT(t)
	checkSessionLease(t, newSessions(t, mr.Addr()), newSessions(t, mr.Addr()), func() { mr.FastForward(time.Second) })
}

// checkSessionReplace: Replace writes only over the value read, keeps the
// tags working, and reports a missing or changed session.
func checkSessionReplace(t *testing.T, s *SessionStore) {
	t.Helper()
	ctx := context.Background()
	if err := s.Replace(ctx, "r1", []byte("v1"), []byte("v2"), []string{"sid:x"}, time.Hour); !errors.Is(err, web.ErrSessionNotFound) {
		t.Fatalf("Replace of a missing id: %v; want web.ErrSessionNotFound", err)
	}
	if _, err := s.Get(ctx, "r1"); !errors.Is(err, web.ErrSessionNotFound) {
		t.Fatalf("a refused Replace created the session: %v", err)
	}
	if err := s.Put(ctx, "r1", []byte("v1"), []string{"sid:x"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := s.Replace(ctx, "r1", []byte("v0"), []byte("v2"), []string{"sid:x"}, time.Hour); !errors.Is(err, web.ErrSessionChanged) {
		t.Fatalf("Replace over another value: %v; want web.ErrSessionChanged", err)
	}
	if err := s.Replace(ctx, "r1", []byte("v1"), []byte("v2"), []string{"sid:y"}, time.Hour); err != nil {
		t.Fatalf("Replace over the value read: %v", err)
	}
	if got, _ := s.Get(ctx, "r1"); string(got) != "v2" {
		t.Fatalf("after Replace, Get = %q; want v2", got)
	}
	if err := s.DeleteTag(ctx, "sid:x"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "r1"); err != nil {
		t.Fatalf("the replaced session's old tag deleted it: %v", err)
	}
	if err := s.DeleteTag(ctx, "sid:y"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "r1"); !errors.Is(err, web.ErrSessionNotFound) {
		t.Fatalf("the replaced session's new tag did not delete it: %v", err)
	}
	if err := s.Replace(ctx, "r1", []byte("v2"), []byte("v3"), []string{"sid:y"}, time.Hour); !errors.Is(err, web.ErrSessionNotFound) {
		t.Errorf("Replace after a logout deleted it: %v; want web.ErrSessionNotFound (no resurrection)", err)
	}
}

func TestSessionReplace(t *testing.T) {
	mr := miniredis.RunT(t)
	checkSessionReplace(t, newSessions(t, mr.Addr()))
}

// While Redis is down, LockSession and Replace fail with ErrUnavailable
// (never ErrSessionLocked or a not-found, which the middleware acts on).
func TestSessionGuardRedisDown(t *testing.T) {
	mr := miniredis.RunT(t)
	s := newSessions(t, mr.Addr(), WithSessionCallTimeout(200*time.Millisecond))
	mr.Close()
	ctx := context.Background()
	if _, err := s.LockSession(ctx, "id", time.Minute); !errors.Is(err, ErrUnavailable) {
		t.Errorf("LockSession: %v; want ErrUnavailable", err)
	}
	if err := s.Replace(ctx, "id", []byte("a"), []byte("b"), nil, time.Minute); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Replace: %v; want ErrUnavailable", err)
	}
}
