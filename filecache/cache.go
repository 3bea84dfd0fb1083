package filecache

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"golang.org/x/oauth2"
)

// DefaultDirName is the directory created under [os.UserCacheDir] when no
// [WithDir] option is given.
const DefaultDirName = "authorizer"

// Cache is a [base.TokenCache] and [base.CacheLocker] backed by one file per
// key. It is safe for concurrent use by goroutines and by processes sharing
// the directory. Load and Lock return at once when ctx has ended, and Lock
// honours ctx while it waits; file reads and writes are short and not
// interrupted (nothing planted at a path can make them block).
type Cache struct {
	dir       string
	aead      cipher.AEAD // nil: files are plain JSON
	logger    *slog.Logger
	lockRetry time.Duration // how often Lock retries a held lock
}

var (
	_ base.TokenCache  = (*Cache)(nil)
	_ base.CacheLocker = (*Cache)(nil)
)

// Option configures a Cache.
type Option func(*config) error

type config struct {
	dir         string
	key         []byte
	logger      *slog.Logger
	lockRetry   time.Duration
	insecureDir bool
}

// WithDir keeps the files in dir instead of the default,
// [os.UserCacheDir]()/authorizer ([DefaultDirName]). The directory is created
// 0700 when missing. It must belong to this user and not be writable by
// group or others (see [InsecureAllowSharedDir]); a symbolic link to such a
// directory is fine. An empty dir is an [*authorizer.InvalidConfigError].
func WithDir(dir string) Option {
	return func(c *config) error {
		if dir == "" {
			return &authorizer.InvalidConfigError{Setting: "filecache: WithDir", Problem: "is empty"}
		}
		c.dir = dir
		return nil
	}
}

// WithEncryptionKey seals the files with AES-GCM under key, which must be
// 16, 24 or 32 bytes (AES-128/192/256; 32 is recommended); any other length
// is an [*authorizer.InvalidConfigError]. The slice is copied. Default: no
// encryption (plain JSON, protected by the file modes). See the package
// documentation for what protects the key.
func WithEncryptionKey(key []byte) Option {
	return func(c *config) error {
		switch len(key) {
		case 16, 24, 32:
			c.key = append([]byte(nil), key...)
			return nil
		}
		return &authorizer.InvalidConfigError{Setting: "filecache: WithEncryptionKey",
			Problem: fmt.Sprintf("must be 16, 24 or 32 bytes, not %d", len(key))}
	}
}

// WithLogger sets where warnings about unusable files go (never with
// token contents). Default, and what nil means: slog.Default() at the time
// of New.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		c.logger = l
		return nil
	}
}

// InsecureAllowSharedDir accepts a cache directory that belongs to another
// user or that group or others may write to. Whoever can write there can
// replace the token file with their own session (which this user then
// uses without noticing) or delete it. Token and lock files are still
// opened without following symbolic links and must still be regular files
// of this user. Only for directories shared on purpose, e.g. a container
// volume whose owner cannot be chosen.
func InsecureAllowSharedDir() Option {
	return func(c *config) error {
		c.insecureDir = true
		return nil
	}
}

// WithLockRetry sets how often Lock tries again while another process
// holds the lock. It must be positive; zero or less is an
// [*authorizer.InvalidConfigError]. Default: 50 ms.
func WithLockRetry(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return &authorizer.InvalidConfigError{Setting: "filecache: WithLockRetry", Problem: "must be positive"}
		}
		c.lockRetry = d
		return nil
	}
}

// New returns a Cache, creating its directory (0700) if needed. A bad
// option, a directory that cannot be created, or one that belongs to
// another user or is writable by others (unless [InsecureAllowSharedDir])
// is an [*authorizer.InvalidConfigError] naming it.
func New(opts ...Option) (*Cache, error) {
	cfg := config{lockRetry: 50 * time.Millisecond}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	if cfg.dir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return nil, &authorizer.InvalidConfigError{Setting: "filecache: directory",
				Problem: "cannot be chosen (no user cache directory; use WithDir): " + err.Error()}
		}
		cfg.dir = filepath.Join(base, DefaultDirName)
	}
	if err := os.MkdirAll(cfg.dir, 0o700); err != nil {
		return nil, &authorizer.InvalidConfigError{Setting: "filecache: directory " + cfg.dir,
			Problem: "cannot be created: " + err.Error()}
	}
	if err := checkDir(cfg.dir, cfg.insecureDir); err != nil {
		return nil, err
	}
	c := &Cache{dir: cfg.dir, logger: cfg.logger, lockRetry: cfg.lockRetry}
	if cfg.key != nil {
		block, err := aes.NewCipher(cfg.key)
		if err != nil {
			return nil, &authorizer.InvalidConfigError{Setting: "filecache: WithEncryptionKey", Problem: err.Error()}
		}
		if c.aead, err = cipher.NewGCM(block); err != nil {
			return nil, &authorizer.InvalidConfigError{Setting: "filecache: WithEncryptionKey", Problem: err.Error()}
		}
	}
	return c, nil
}

// Dir returns the directory the files are kept in.
func (c *Cache) Dir() string { return c.dir }

// path returns the token file of key.
func (c *Cache) path(key string) string { return filepath.Join(c.dir, fileName(key)) }

// Load implements [base.TokenCache]. A missing file gives (nil, nil); a file
// that cannot be used is logged and also gives (nil, nil): a damaged file,
// a symbolic link (never followed), anything but a regular file of this
// user (a FIFO, a device, a directory, another user's file). Nothing at
// the path can block Load: the file is opened without blocking. An ended
// ctx gives its error.
func (c *Cache) Load(ctx context.Context, key string) (*oauth2.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, ioError("loading the token ended", err)
	}
	p := c.path(key)
	b, err := readCapped(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		c.logger.Warn("filecache: ignoring unreadable token file", slog.String("file", p), slog.Any("error", err))
		return nil, nil
	}
	tok, err := decode(b, key, c.aead)
	if err != nil {
		c.logger.Warn("filecache: ignoring unusable token file", slog.String("file", p), slog.Any("error", err))
		return nil, nil
	}
	return tok, nil
}

// readCapped reads a regular file of this user of at most maxFileSize
// bytes; see openOwn.
func readCapped(p string) ([]byte, error) {
	f, err := openOwn(p, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFileSize {
		return nil, errors.New("file is larger than 1 MiB")
	}
	return b, nil
}

// Store implements [base.TokenCache]: it writes tok atomically, 0600.
func (c *Cache) Store(_ context.Context, key string, tok *oauth2.Token) error {
	if tok == nil {
		return c.Delete(context.Background(), key)
	}
	b, err := encode(newRecord(key, tok), c.aead)
	if err != nil {
		return ioError("encoding the token failed", err)
	}
	if err := writeAtomic(c.path(key), b); err != nil {
		return ioError("writing the token file failed", err)
	}
	return nil
}

// Delete implements [base.TokenCache].
func (c *Cache) Delete(_ context.Context, key string) error {
	if err := os.Remove(c.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return ioError("deleting the token file failed", err)
	}
	return nil
}

// ioError reports a failure to use the cache's files. It is an
// [*authorizer.AuthorizationError] whose Err is the cause (e.g. an
// *fs.PathError, or ctx's error while waiting for a lock).
func ioError(msg string, err error) error {
	return &authorizer.AuthorizationError{Message: "filecache: " + msg, Err: err}
}
