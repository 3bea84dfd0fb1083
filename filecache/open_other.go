//go:build !unix

package filecache

import (
	"io/fs"
	"os"
)

// openNoFollow refuses a symbolic link at p (checked just before the open:
// there is no O_NOFOLLOW here) and opens p.
func openNoFollow(p string, flag int, perm fs.FileMode) (*os.File, error) {
	if fi, err := os.Lstat(p); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, &fs.PathError{Op: "open", Path: p, Err: errSymlink}
	}
	return os.OpenFile(p, flag, perm)
}

// ownerOf does not know file owners on this system: the owner checks are
// skipped, the mode and type checks stay.
func ownerOf(fs.FileInfo) (int, bool) { return 0, false }

// checkModes: the permission bits do not describe who may write here
// (Windows reports 0777 for every directory); the mode check is skipped.
const checkModes = false
