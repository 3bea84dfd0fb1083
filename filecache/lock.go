package filecache

import (
	"context"

	"github.com/gofrs/flock"
)

// Lock implements base.CacheLocker with an exclusive advisory lock on
// "<token file>.lock", held until unlock is called. It blocks, trying again
// every lock-retry interval, until the lock is free or ctx ends (then the
// error wraps ctx.Err()). The lock works between processes and between
// goroutines of one process alike. unlock must be called exactly once.
func (c *Cache) Lock(ctx context.Context, key string) (unlock func() error, err error) {
	fl := flock.New(c.path(key)+".lock", flock.SetPermissions(0o600))
	ok, err := fl.TryLockContext(ctx, c.lockRetry)
	if err != nil {
		_ = fl.Close()
		if ctx.Err() != nil {
			return nil, ioError("waiting for the cache lock ended", ctx.Err())
		}
		return nil, ioError("locking failed", err)
	}
	if !ok {
		_ = fl.Close()
		return nil, ioError("the cache lock was not acquired", context.Cause(ctx))
	}
	return func() error {
		if err := fl.Unlock(); err != nil {
			return ioError("unlocking failed", err)
		}
		return nil
	}, nil
}
