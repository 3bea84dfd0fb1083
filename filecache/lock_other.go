//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package filecache

import (
	"os"

	"github.com/gofrs/flock"
)

// fileLock is a github.com/gofrs/flock lock where flock(2) is missing.
type fileLock struct{ fl *flock.Flock }

// openLock checks the lock file at p (creating it, 0600; see openOwn) and
// locks it with gofrs/flock, which opens it again by name.
func openLock(p string) (*fileLock, error) {
	f, err := openOwn(p, os.O_RDONLY|os.O_CREATE)
	if err != nil {
		return nil, err
	}
	_ = f.Close()
	return &fileLock{fl: flock.New(p, flock.SetPermissions(0o600))}, nil
}

func (l *fileLock) try() (bool, error) { return l.fl.TryLock() }

func (l *fileLock) close() error {
	err := l.fl.Unlock()
	_ = l.fl.Close()
	return err
}
