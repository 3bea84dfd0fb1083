package redisstore

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/seed-d44eba79/authorizer"
)

func TestStoreLoadRoundTrip(t *testing.T) {
	mr, s := newMini(t)
	ctx := context.Background()
	if tok, err := s.Load(ctx, "k"); tok != nil || err != nil {
		t.Fatalf("Load on empty = %v, %v; want nil, nil", tok, err)
	}
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	in := token("secret-access-token", exp).WithExtra(map[string]any{"id_token": "secret-id-token", "scope": "a b"})
	in.RefreshToken = "secret-refresh-token"
	if err := s.Store(ctx, "k", in); err != nil {
		t.Fatal(err)
	}
	got, err := s.Load(ctx, "k")
	if err != nil || got == nil {
		t.Fatalf("Load = %v, %v", got, err)
	}
	if got.AccessToken != in.AccessToken || got.RefreshToken != in.RefreshToken ||
		!got.Expiry.Equal(exp) || got.Extra("id_token") != "secret-id-token" || got.Extra("scope") != "a b" {
		t.Errorf("Load = %+v; want %+v", got, in)
	}
	assertNoPlaintext(t, mr.Dump(), "secret-", "\"k\"")
	// another cache key does not see it
	if tok, _ := s.Load(ctx, "other"); tok != nil {
		t.Errorf("Load(other) = %v; want nil", tok)
	}
}

func assertNoPlaintext(t *testing.T, dump string, needles ...string) {
	t.Helper()
	for _, n := range needles {
		if strings.Contains(dump, n) {
			t.Errorf("redis holds %q in plain text", n)
		}
	}
}

func TestEveryKeyHasTTL(t *testing.T) {
	mr, s := newMini(t)
	ctx := context.Background()
	unlock, err := s.Lock(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Store(ctx, "k", token("a", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	for _, k := range mr.Keys() {
		if ttl := mr.TTL(k); ttl <= 0 {
			t.Errorf("key %s has no TTL", k)
		}
	}
	if len(mr.Keys()) != 3 {
		t.Errorf("keys = %v; want tok, lock, fence", mr.Keys())
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	// no expiry: the default TTL
	if err := s.Store(ctx, "n", token("b", time.Time{})); err != nil {
		t.Fatal(err)
	}
	if ttl := mr.TTL(s.keys("n").tok); ttl != DefaultNoExpiryTTL {
		t.Errorf("TTL without expiry = %v; want %v", ttl, DefaultNoExpiryTTL)
	}
}

func TestTokenTTLFollowsExpiry(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	mr, s := newMini(t, withClock(clk.now), WithTTLMargin(10*time.Second))
	ctx := context.Background()
	unlock, _ := s.Lock(ctx, "k")
	defer unlock()
	if err := s.Store(ctx, "k", token("a", clk.now().Add(50*time.Second))); err != nil {
		t.Fatal(err)
	}
	if ttl := mr.TTL(s.keys("k").tok); ttl != time.Minute {
		t.Errorf("TTL = %v; want 1m0s (expiry + margin)", ttl)
	}
}

func TestMovedOrTamperedValueIsAbsent(t *testing.T) {
	mr, s := newMini(t)
	ctx := context.Background()
	unlock, _ := s.Lock(ctx, "a")
	if err := s.Store(ctx, "a", token("tok-a", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	_ = unlock()
	a, b := s.keys("a"), s.keys("b")
	v, f := mr.HGet(a.tok, "v"), mr.HGet(a.tok, "f")
	tests := []struct {
		name, key, v, f string
	}{
		{"copied under another key", "b", v, f},
		{"replayed under another fence", "a", v, "99"},
		{"bit flipped", "a", v[:len(v)-1] + string(v[len(v)-1]^1), f},
		{"truncated", "a", v[:10], f},
		{"not a number fence", "a", v, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := a
			if tt.key == "b" {
				k = b
			}
			mr.HSet(k.tok, "v", tt.v)
			mr.HSet(k.tok, "f", tt.f)
			tok, err := s.Load(ctx, tt.key)
			if tok != nil || err != nil {
				t.Errorf("Load = %v, %v; want nil, nil", tok, err)
			}
			mr.HSet(a.tok, "v", v)
			mr.HSet(a.tok, "f", f)
		})
	}
}

func TestKeyRotation(t *testing.T) {
	mr, old := newMini(t)
	ctx := context.Background()
	if err := old.Store(ctx, "k", token("a", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	newKey := bytes.Repeat([]byte{9}, 32)
	rotated, err := New(newClient(t, mr.Addr()), newKey, WithOlderKeys(testKey))
	if err != nil {
		t.Fatal(err)
	}
	if tok, _ := rotated.Load(ctx, "k"); tok == nil || tok.AccessToken != "a" {
		t.Fatalf("rotated Load = %v; want the token sealed with the older key", tok)
	}
	stranger, _ := New(newClient(t, mr.Addr()), newKey)
	if tok, _ := stranger.Load(ctx, "k"); tok != nil {
		t.Errorf("Load with an unrelated key = %v; want nil", tok)
	}
	_ = rotated.Delete(ctx, "k")
	if err := rotated.Store(ctx, "k", token("b", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if tok, _ := old.Load(ctx, "k"); tok != nil {
		t.Errorf("a store without the new key opened the new value")
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	mr, _ := newMini(t)
	ok := newClient(t, mr.Addr())
	noCtx := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer noCtx.Close()
	tests := []struct {
		name    string
		client  redis.UniversalClient
		key     []byte
		opt     Option
		setting string
	}{
		{"nil client", nil, testKey, nil, "redisstore: New client"},
		{"no ContextTimeoutEnabled", noCtx, testKey, nil, "redisstore: New client"},
		{"short key", ok, testKey[:16], nil, "redisstore: New key"},
		{"empty prefix", ok, testKey, WithPrefix(""), "redisstore: WithPrefix"},
		{"braced prefix", ok, testKey, WithPrefix("a{b}"), "redisstore: WithPrefix"},
		{"short older key", ok, testKey, WithOlderKeys([]byte("x")), "redisstore: WithOlderKeys"},
		{"tiny lease", ok, testKey, WithLeaseTTL(time.Millisecond), "redisstore: WithLeaseTTL"},
		{"zero max hold", ok, testKey, WithMaxHold(0), "redisstore: WithMaxHold"},
		{"zero wait", ok, testKey, WithMaxWait(0), "redisstore: WithMaxWait"},
		{"zero call timeout", ok, testKey, WithCallTimeout(0), "redisstore: WithCallTimeout"},
		{"zero failures", ok, testKey, WithBreaker(0, time.Second), "redisstore: WithBreaker"},
		{"zero cooldown", ok, testKey, WithBreaker(1, 0), "redisstore: WithBreaker"},
		{"negative margin", ok, testKey, WithTTLMargin(-1), "redisstore: WithTTLMargin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []Option
			if tt.opt != nil {
				opts = append(opts, tt.opt)
			}
			_, err := New(tt.client, tt.key, opts...)
			var ice *authorizer.InvalidConfigError
			if !errors.As(err, &ice) || ice.Setting != tt.setting {
				t.Errorf("New = %v; want InvalidConfigError for %q", err, tt.setting)
			}
		})
	}
}

// Every key of one token shares one hash tag: one hash slot on Cluster,
// so the scripts may touch them together.
func TestKeysShareOneHashTag(t *testing.T) {
	_, s := newMini(t)
	k := s.keys("some cache key")
	tag := func(key string) string {
		i, j := strings.IndexByte(key, '{'), strings.IndexByte(key, '}')
		if i < 0 || j < i || strings.Count(key, "{") != 1 {
			t.Fatalf("key %q has no single hash tag", key)
		}
		return key[i : j+1]
	}
	if tag(k.tok) != tag(k.lock) || tag(k.tok) != tag(k.fence) {
		t.Errorf("keys %v span more than one hash tag", k)
	}
	if strings.Contains(k.tok, "some cache key") {
		t.Error("the cache key reaches Redis")
	}
}
