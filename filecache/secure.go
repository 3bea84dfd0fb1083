package filecache

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/seed-d44eba79/authorizer"
)

// currentUID is the user the files must belong to; tests swap it.
var currentUID = os.Geteuid

// checkDir refuses a cache directory that another user could write to or
// that belongs to another user: whoever can write there can plant a token
// file (their own session, which the victim then uses), a symbolic link or
// a FIFO. A symbolic link to a directory is judged by its target. insecure
// (InsecureAllowSharedDir) skips the owner and mode checks.
func checkDir(dir string, insecure bool) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return dirError(dir, "cannot be examined: "+err.Error())
	}
	if !fi.IsDir() {
		return dirError(dir, "is not a directory")
	}
	if insecure {
		return nil
	}
	if uid, ok := ownerOf(fi); ok && uid != currentUID() {
		return dirError(dir, fmt.Sprintf("belongs to uid %d, not to this user (uid %d); "+
			"use a directory of your own, or see filecache.InsecureAllowSharedDir", uid, currentUID()))
	}
	if perm := fi.Mode().Perm(); checkModes && perm&0o022 != 0 {
		return dirError(dir, fmt.Sprintf("is writable by other users (mode %s); "+
			"run chmod go-w on it, or see filecache.InsecureAllowSharedDir", perm))
	}
	return nil
}

func dirError(dir, problem string) error {
	return &authorizer.InvalidConfigError{Setting: "filecache: directory " + dir, Problem: problem}
}

// errNotOwnFile: the path holds something other than a regular file of
// this user (a FIFO, a device, a directory, another user's file).
var errNotOwnFile = errors.New("not a regular file owned by this user")

// errSymlink: the path is a symbolic link, which is never followed.
var errSymlink = errors.New("is a symbolic link, which is not followed")

// openOwn opens p without following a symbolic link and without blocking
// (a FIFO at p would otherwise block the open until a writer comes), and
// returns it only when it is a regular file owned by this user.
func openOwn(p string, flag int) (*os.File, error) {
	f, err := openNoFollow(p, flag, 0o600)
	if err != nil {
		if isSymlinkErr(p, err) {
			return nil, &fs.PathError{Op: "open", Path: p, Err: errSymlink}
		}
		return nil, err
	}
	if err := checkOwnFile(f); err != nil {
		_ = f.Close()
		return nil, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	return f, nil
}

// checkOwnFile accepts a regular file owned by this user.
func checkOwnFile(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w (mode %s)", errNotOwnFile, fi.Mode().Type())
	}
	if uid, ok := ownerOf(fi); ok && uid != currentUID() {
		return fmt.Errorf("%w (uid %d)", errNotOwnFile, uid)
	}
	return nil
}

// isSymlinkErr tells whether opening p failed because p is a symbolic link
// (ELOOP under O_NOFOLLOW on most systems, EMLINK on some BSDs).
func isSymlinkErr(p string, err error) bool {
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	fi, lerr := os.Lstat(p)
	return lerr == nil && fi.Mode()&fs.ModeSymlink != 0
}
