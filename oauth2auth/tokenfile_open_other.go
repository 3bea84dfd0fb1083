//go:build !unix

package oauth2auth

// openNonblock is 0 where opening a file cannot block on a FIFO writer.
const openNonblock = 0
