package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/filecache"
)

// session is one environment's authorizer with its file cache.
type session struct {
	cfg   *envConfig
	info  data.ClientInfo
	cache *filecache.Cache
	key   string
	// user is set for the device and browser flows (they cache themselves).
	user userAuthorizer
	// transport serves the client-credentials and SRP flows from the cache.
	transport *base.Transport
}

// cacheDir is --cache-dir, else $AUTHORIZER_CACHE_DIR, else the user's cache dir.
func cacheDir(flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if d := os.Getenv("AUTHORIZER_CACHE_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", &authorizer.InvalidConfigError{Setting: "cache directory", Problem: "is unknown: set --cache-dir or AUTHORIZER_CACHE_DIR"}
	}
	return filepath.Join(d, filecache.DefaultDirName), nil
}

// cacheKeyFile is the name of the key file created beside the cache.
const cacheKeyFile = "cache.key"

// encryptionKey is $AUTHORIZER_CACHE_KEY (32 bytes as hex or base64), else the
// key file beside the cache, created 0600 with 32 random bytes on first use.
func encryptionKey(dir string) ([]byte, error) {
	if v := strings.TrimSpace(os.Getenv("AUTHORIZER_CACHE_KEY")); v != "" {
		if k, err := hex.DecodeString(v); err == nil && len(k) == 32 {
			return k, nil
		}
		if k, err := base64.StdEncoding.DecodeString(v); err == nil && len(k) == 32 {
			return k, nil
		}
		return nil, &authorizer.InvalidConfigError{Setting: "AUTHORIZER_CACHE_KEY", Problem: "is not 32 bytes in hex or base64"}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, &authorizer.InvalidConfigError{Setting: "cache directory " + dir, Problem: "cannot be created"}
	}
	if err := checkKeyDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, cacheKeyFile)
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		if err := createKeyFile(dir, path); err != nil {
			return nil, err
		}
	}
	return readKeyFile(path)
}

// createKeyFile writes 32 random bytes to a temporary file (0600) and links
// it into place, so that a run reading the key at the same time sees either
// no file or the whole key, never a half-written one; when another run got
// there first, its key stays.
func createKeyFile(dir, path string) error {
	f, err := os.CreateTemp(dir, ".cache.key-*")
	if err != nil {
		return &authorizer.InvalidConfigError{Setting: "cache key file " + path, Problem: "cannot be created"}
	}
	defer os.Remove(f.Name())
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	_, werr := f.Write([]byte(hex.EncodeToString(k)))
	if cerr := f.Close(); werr != nil || cerr != nil {
		return &authorizer.InvalidConfigError{Setting: "cache key file " + path, Problem: "cannot be written"}
	}
	if err := os.Link(f.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return &authorizer.InvalidConfigError{Setting: "cache key file " + path, Problem: "cannot be created"}
	}
	return nil
}

// checkKeyDir refuses, before a key file is written into it, a cache
// directory another user owns or may write to (filecache refuses it too,
// but only after the key would have been created there).
func checkKeyDir(dir string) error {
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return &authorizer.InvalidConfigError{Setting: "cache directory " + dir, Problem: "is not a directory"}
	}
	if ownedByOther(st) || writableByOthers(st) {
		return &authorizer.InvalidConfigError{Setting: "cache directory " + dir,
			Problem: "belongs to another user or is writable by others (chmod go-w, or use a directory of your own)"}
	}
	return nil
}

// readKeyFile reads an existing key file, refusing one others may read,
// one another user owns and a symbolic link.
func readKeyFile(path string) ([]byte, error) {
	if lst, err := os.Lstat(path); err == nil && !lst.Mode().IsRegular() {
		return nil, &authorizer.InvalidConfigError{Setting: "cache key file " + path, Problem: "must be a regular file of mode 0600, not a link"}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &authorizer.InvalidConfigError{Setting: "cache key file " + path, Problem: "cannot be read"}
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Mode().Perm()&0o077 != 0 || !st.Mode().IsRegular() || ownedByOther(st) {
		return nil, &authorizer.InvalidConfigError{Setting: "cache key file " + path, Problem: "must be a regular file of mode 0600"}
	}
	raw, _ := io.ReadAll(io.LimitReader(f, 256))
	k, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(k) != 32 {
		return nil, &authorizer.InvalidConfigError{Setting: "cache key file " + path, Problem: "does not hold 32 bytes in hex (delete it and run authorizer reset)"}
	}
	return k, nil
}

// openCache opens the encrypted file cache.
func openCache(dirFlag string) (*filecache.Cache, error) {
	dir, err := cacheDir(dirFlag)
	if err != nil {
		return nil, err
	}
	k, err := encryptionKey(dir)
	if err != nil {
		return nil, err
	}
	return filecache.New(filecache.WithDir(dir), filecache.WithEncryptionKey(k))
}

// cacheKey names everything the token depends on (never a secret), as
// JSON so that no value can run into the next (an audience holding
// "\nres=" or resources holding spaces once gave two environments one key).
// An SRP environment's Endpoint is part of it: a stand-in (moto) and the
// real pool never share a token.
func cacheKey(c *envConfig) string {
	b, _ := json.Marshal(struct {
		Base      string   `json:"k"`
		Flow      string   `json:"flow"`
		Audience  string   `json:"aud,omitempty"`
		Resources []string `json:"res,omitempty"`
		Params    string   `json:"params,omitempty"`
		TokenURL  string   `json:"token_url,omitempty"`
		Endpoint  string   `json:"endpoint,omitempty"`
		User      string   `json:"user,omitempty"`
	}{filecache.Key(c.issuer(), c.ClientID, c.OAuth.Scopes), c.Flow, c.OAuth.Audience, c.OAuth.Resources,
		c.OAuth.Params.Encode(), c.OAuth.TokenURL, c.SRP.Endpoint, c.UserName})
	return string(b)
}
