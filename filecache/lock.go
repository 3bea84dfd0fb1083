package filecache

import (
	"context"
	"time"
)

// Lock implements [base.CacheLocker] with an exclusive advisory lock on
// "<token file>.lock", held until unlock is called. It blocks, trying again
// every lock-retry interval (WithLockRetry), until the lock is free or ctx
// ends (then the error wraps ctx.Err()). The lock works between processes
// and between goroutines of one process alike. unlock must be called
// exactly once.
//
// The lock file is opened without following a symbolic link and without
// blocking, and must be a regular file of this user: a link or a FIFO
// planted at its name is an error, and nothing at the path can hold Lock
// past ctx.
func (c *Cache) Lock(ctx context.Context, key string) (unlock func() error, err error) {
	if err := ctx.Err(); err != nil {
		return nil, ioError("waiting for the cache lock ended", err)
	}
	l, err := openLock(c.path(key) + ".lock")
	if err != nil {
		return nil, ioError("opening the lock file failed", err)
	}
	if err := l.wait(ctx, c.lockRetry); err != nil {
		_ = l.close()
		return nil, err
	}
	return func() error {
		if err := l.close(); err != nil {
			return ioError("unlocking failed", err)
		}
		return nil
	}, nil
}

// wait tries the lock every retry until it is taken or ctx ends.
func (l *fileLock) wait(ctx context.Context, retry time.Duration) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		ok, err := l.try()
		if err != nil {
			return ioError("locking failed", err)
		}
		if ok {
			return nil
		}
		t.Reset(retry)
		select {
		case <-ctx.Done():
			return ioError("waiting for the cache lock ended", ctx.Err())
		case <-t.C:
		}
	}
}
