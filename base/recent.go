package base

import (
	"crypto/sha256"
	"slices"
)

// recent is a bounded set of secrets (access or refresh tokens), kept as
// SHA-256 hashes, the oldest forgotten first: the Transport's memory of
// refused access tokens and of the refresh tokens it renewed. It is not
// safe for concurrent use; Transport.mu guards it.
type recent struct {
	hashes [][32]byte // oldest first
}

// add records s, forgetting the oldest entry beyond max.
func (r *recent) add(s string, max int) {
	h := sha256.Sum256([]byte(s))
	if slices.Contains(r.hashes, h) {
		return
	}
	if len(r.hashes) >= max {
		r.hashes = r.hashes[1:]
	}
	r.hashes = append(r.hashes, h)
}

// has reports whether s was recorded and not yet forgotten.
func (r *recent) has(s string) bool {
	return slices.Contains(r.hashes, sha256.Sum256([]byte(s)))
}
