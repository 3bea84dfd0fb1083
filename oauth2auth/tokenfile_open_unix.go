//go:build unix

package oauth2auth

import "syscall"

// openNonblock opens a token file without blocking: opening a FIFO for
// reading would otherwise wait, past any context, for a writer.
const openNonblock = syscall.O_NONBLOCK
