//go:build unix

package filecache

import (
	"io/fs"
	"os"
	"syscall"
)

// openNoFollow opens p with O_NOFOLLOW (a symbolic link fails) and
// O_NONBLOCK (a FIFO does not block the open; on a regular file the flag
// changes nothing).
func openNoFollow(p string, flag int, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(p, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, perm)
}

// ownerOf returns the uid that owns fi.
func ownerOf(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

// checkModes: the permission bits mean what they say here.
const checkModes = true
