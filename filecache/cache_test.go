package filecache

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

const (
	testAccess  = "access-SECRET-1234567890"
	testRefresh = "refresh-SECRET-0987654321"
	testID      = "eyJhbGciOiJSUzI1NiJ9.id-SECRET.sig"
)

func testToken() *oauth2.Token {
	tok := &oauth2.Token{AccessToken: testAccess, TokenType: "Bearer", RefreshToken: testRefresh,
		Expiry: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC), ExpiresIn: 60}
	return tok.WithExtra(map[string]any{"id_token": testID, "scope": "openid api:read"})
}

// newTestCache returns a cache in a temp dir and a buffer with its log.
func newTestCache(t *testing.T, opts ...Option) (*Cache, *bytes.Buffer) {
	t.Helper()
	var logBuf bytes.Buffer
	opts = append([]Option{WithDir(t.TempDir()), WithLogger(slog.New(slog.NewTextHandler(&logBuf, nil)))}, opts...)
	c, err := New(opts...)
	require.NoError(t, err)
	return c, &logBuf
}

func testKey32() []byte { return bytes.Repeat([]byte{7}, 32) }

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{name: "plain"},
		{name: "aes-gcm", opts: []Option{WithEncryptionKey(testKey32())}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newTestCache(t, tc.opts...)
			ctx := context.Background()
			key := Key("http://issuer", "client", []string{"openid"})
			got, err := c.Load(ctx, key)
			require.NoError(t, err)
			assert.Nil(t, got, "empty cache")

			require.NoError(t, c.Store(ctx, key, testToken()))
			got, err = c.Load(ctx, key)
			require.NoError(t, err)
			require.NotNil(t, got)
			assert.Equal(t, testAccess, got.AccessToken)
			assert.Equal(t, testRefresh, got.RefreshToken)
			assert.Equal(t, "Bearer", got.TokenType)
			assert.Equal(t, int64(60), got.ExpiresIn)
			assert.True(t, got.Expiry.Equal(testToken().Expiry))
			assert.Equal(t, testID, got.Extra("id_token"))
			assert.Equal(t, "openid api:read", got.Extra("scope"))

			other, err := c.Load(ctx, Key("http://issuer", "client", []string{"email"}))
			require.NoError(t, err)
			assert.Nil(t, other, "another key")

			require.NoError(t, c.Delete(ctx, key))
			got, err = c.Load(ctx, key)
			require.NoError(t, err)
			assert.Nil(t, got)
			require.NoError(t, c.Delete(ctx, key), "deleting a missing key")
		})
	}
}

func TestEncryptedFileHidesEverything(t *testing.T) {
	c, _ := newTestCache(t, WithEncryptionKey(testKey32()))
	key := Key("http://issuer.example", "my-client", []string{"api:read"})
	require.NoError(t, c.Store(context.Background(), key, testToken()))
	b, err := os.ReadFile(c.path(key))
	require.NoError(t, err)
	for _, s := range []string{"SECRET", "issuer.example", "my-client", "api:read", "Bearer"} {
		assert.NotContains(t, string(b), s)
	}
}

func TestPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "cache")
	c, err := New(WithDir(dir))
	require.NoError(t, err)
	fi, err := os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), "dir mode")

	key := Key("i", "c", nil)
	require.NoError(t, c.Store(context.Background(), key, testToken()))
	fi, err = os.Stat(c.path(key))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "file mode")

	// A rewrite keeps 0600 even if someone loosened the file.
	require.NoError(t, os.Chmod(c.path(key), 0o644))
	require.NoError(t, c.Store(context.Background(), key, testToken()))
	fi, err = os.Stat(c.path(key))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "file mode after rewrite")

	unlock, err := c.Lock(context.Background(), key)
	require.NoError(t, err)
	require.NoError(t, unlock())
	fi, err = os.Stat(c.path(key) + ".lock")
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "lock file mode")
}

func TestDefaultDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", home)
	t.Setenv("HOME", home)
	c, err := New()
	require.NoError(t, err)
	want, err := os.UserCacheDir()
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(want, DefaultDirName), c.Dir())
}

func TestAtomicWrite(t *testing.T) {
	c, _ := newTestCache(t)
	ctx := context.Background()
	key := Key("i", "c", nil)
	old := &oauth2.Token{AccessToken: "old-token"}
	require.NoError(t, c.Store(ctx, key, old))

	var sawTemp bool
	rename = func(from, to string) error {
		sawTemp = true
		assert.Equal(t, c.Dir(), filepath.Dir(from), "temp file in the same directory")
		fi, err := os.Stat(from)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "temp file mode")
		// Before the rename, readers still see the whole old token.
		got, err := c.Load(ctx, key)
		require.NoError(t, err)
		require.NotNil(t, got)
		assert.Equal(t, "old-token", got.AccessToken)
		return os.Rename(from, to)
	}
	t.Cleanup(func() { rename = os.Rename })
	require.NoError(t, c.Store(ctx, key, testToken()))
	assert.True(t, sawTemp)
	got, err := c.Load(ctx, key)
	require.NoError(t, err)
	assert.Equal(t, testAccess, got.AccessToken)

	entries, err := os.ReadDir(c.Dir())
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

func TestAtomicWriteFailureLeavesNoTemp(t *testing.T) {
	c, _ := newTestCache(t)
	rename = func(string, string) error { return os.ErrPermission }
	t.Cleanup(func() { rename = os.Rename })
	err := c.Store(context.Background(), Key("i", "c", nil), testToken())
	require.ErrorIs(t, err, os.ErrPermission)
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.True(t, strings.HasPrefix(err.Error(), "filecache: "), err.Error())
	entries, err := os.ReadDir(c.Dir())
	require.NoError(t, err)
	assert.Empty(t, entries)
}

func TestUnusableFilesAreIgnored(t *testing.T) {
	key := Key("http://issuer", "client", []string{"openid"})
	otherKey := Key("http://issuer", "client", []string{"email"})
	plain := func(t *testing.T) []byte {
		b, err := encode(newRecord(key, testToken()), nil)
		require.NoError(t, err)
		return b
	}
	sealed := func(k []byte, forKey string) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			c, _ := newTestCache(t, WithEncryptionKey(k))
			b, err := encode(newRecord(forKey, testToken()), c.aead)
			require.NoError(t, err)
			return b
		}
	}
	for _, tc := range []struct {
		name     string
		contents func(t *testing.T) []byte
		opts     []Option
	}{
		{name: "empty", contents: func(*testing.T) []byte { return nil }},
		{name: "garbage", contents: func(*testing.T) []byte { return []byte("\x00\x01garbage{") }},
		{name: "truncated", contents: func(t *testing.T) []byte { b := plain(t); return b[:len(b)/2] }},
		{name: "JSON of something else", contents: func(*testing.T) []byte { return []byte(`{"hello":"world"}`) }},
		{name: "future version", contents: func(t *testing.T) []byte {
			return bytes.Replace(plain(t), []byte(`"version":1`), []byte(`"version":2`), 1)
		}},
		{name: "written for another key", contents: func(t *testing.T) []byte {
			b, err := encode(newRecord(otherKey, testToken()), nil)
			require.NoError(t, err)
			return b
		}},
		{name: "no token", contents: func(*testing.T) []byte {
			b, _ := json.Marshal(envelope{Version: 1, Format: formatPlain, Record: &record{Key: key}})
			return b
		}},
		{name: "too large", contents: func(*testing.T) []byte { return bytes.Repeat([]byte(" "), maxFileSize+1) }},
		{name: "encrypted, no key configured", contents: sealed(testKey32(), key)},
		{name: "encrypted with another key", contents: sealed(bytes.Repeat([]byte{9}, 32), key),
			opts: []Option{WithEncryptionKey(testKey32())}},
		{name: "encrypted for another cache key", contents: sealed(testKey32(), otherKey),
			opts: []Option{WithEncryptionKey(testKey32())}},
		{name: "plain where encryption is configured", contents: plain,
			opts: []Option{WithEncryptionKey(testKey32())}},
		{name: "tampered ciphertext", contents: func(t *testing.T) []byte {
			b := sealed(testKey32(), key)(t)
			var env envelope
			require.NoError(t, json.Unmarshal(b, &env))
			env.Sealed[0] ^= 1
			b, _ = json.Marshal(env)
			return b
		}, opts: []Option{WithEncryptionKey(testKey32())}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, logBuf := newTestCache(t, tc.opts...)
			require.NoError(t, os.WriteFile(c.path(key), tc.contents(t), 0o600))
			got, err := c.Load(context.Background(), key)
			require.NoError(t, err)
			assert.Nil(t, got)
			assert.Contains(t, logBuf.String(), "level=WARN")
			assert.NotContains(t, logBuf.String(), "SECRET")
			// The next Store replaces the bad file.
			require.NoError(t, c.Store(context.Background(), key, testToken()))
			got, err = c.Load(context.Background(), key)
			require.NoError(t, err)
			require.NotNil(t, got)
			assert.Equal(t, testAccess, got.AccessToken)
		})
	}
}

func TestUnreadableFileIsIgnored(t *testing.T) {
	c, logBuf := newTestCache(t)
	key := Key("i", "c", nil)
	require.NoError(t, os.Mkdir(c.path(key), 0o700)) // a directory where the file should be
	got, err := c.Load(context.Background(), key)
	require.NoError(t, err)
	assert.Nil(t, got)
	assert.Contains(t, logBuf.String(), "level=WARN")
}

func TestInvalidOptions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opt    Option
		option string
	}{
		{name: "empty dir", opt: WithDir(""), option: "WithDir"},
		{name: "short key", opt: WithEncryptionKey([]byte("short")), option: "WithEncryptionKey"},
		{name: "zero lock retry", opt: WithLockRetry(0), option: "WithLockRetry"},
		{name: "negative lock retry", opt: WithLockRetry(-time.Second), option: "WithLockRetry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(WithDir(t.TempDir()), tc.opt)
			var ce *authorizer.InvalidConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "filecache: "+tc.option, ce.Setting, "names the option")
		})
	}
}

// TestNilLoggerMeansDefault: nil for an optional dependency is its
// documented default, slog.Default().
func TestNilLoggerMeansDefault(t *testing.T) {
	var logBuf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logBuf, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	c, err := New(WithDir(t.TempDir()), WithLogger(nil))
	require.NoError(t, err)
	key := Key("i", "c", nil)
	require.NoError(t, os.WriteFile(c.path(key), []byte("garbage"), 0o600))
	got, err := c.Load(context.Background(), key)
	require.NoError(t, err)
	assert.Nil(t, got)
	assert.Contains(t, logBuf.String(), "level=WARN", "the warning went to slog.Default()")
}

func TestDirThatCannotBeCreated(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err := New(WithDir(filepath.Join(file, "sub")))
	var ce *authorizer.InvalidConfigError
	require.ErrorAs(t, err, &ce)
}

func TestKey(t *testing.T) {
	a := Key("https://issuer", "client", []string{"openid", "email", "openid"})
	b := Key("https://issuer", "client", []string{"email", "openid"})
	assert.Equal(t, a, b, "order and duplicates do not matter")
	assert.NotEqual(t, Key("https://issuer", "client", nil), Key("https://issuer", "client2", nil))
	assert.NotEqual(t, Key("a|b", "c", nil), Key("a", "b|c", nil), "parts cannot run together")
	assert.Regexp(t, `^[0-9a-f]{32}\.token$`, fileName(a))
}
