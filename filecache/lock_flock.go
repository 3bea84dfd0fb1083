//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package filecache

import (
	"errors"
	"os"
	"syscall"
)

// fileLock is an flock(2) lock on an open lock file.
type fileLock struct{ f *os.File }

// openLock opens (creating, 0600) the lock file at p; see openOwn.
func openLock(p string) (*fileLock, error) {
	f, err := openOwn(p, os.O_RDONLY|os.O_CREATE)
	if err != nil {
		return nil, err
	}
	return &fileLock{f: f}, nil
}

// try takes the lock without waiting: false when another holder has it.
func (l *fileLock) try() (bool, error) {
	for {
		err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, syscall.EINTR):
			continue
		}
		return false, &os.PathError{Op: "flock", Path: l.f.Name(), Err: err}
	}
}

// close releases the lock (closing the file does) and the file.
func (l *fileLock) close() error { return l.f.Close() }
