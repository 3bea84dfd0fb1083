package verify

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"sync/atomic"
	"time"
)

// Resource-server DPoP nonces (RFC 9449 §9), stateless: the nonce of a time
// slot is an HMAC of the slot's number under a secret, so servers sharing
// the secret (and, within a slot, a clock) accept each other's nonces and
// nothing is stored. A nonce is accepted in its own slot and the next one.

// MinDPoPNonceSecret is the shortest secret [WithDPoPNonces] accepts.
const MinDPoPNonceSecret = 32

type nonceSource struct {
	// at is the nonce of slot n. A closure holds the secret: fmt prints a
	// func as an address, so no verb shows the secret through a Verifier.
	at   func(n int64) string
	slot time.Duration
	cur  atomic.Pointer[nonceSlot] // the newest slot's nonces, computed once per slot
}

type nonceSlot struct {
	n         int64
	cur, prev string
}

// newNonceSource makes nonces from a copy of secret: the nonce of slot n is
// 32 base64url characters of HMAC-SHA256(secret, label || n).
func newNonceSource(secret []byte, slot time.Duration) *nonceSource {
	key := bytes.Clone(secret)
	return &nonceSource{slot: slot, at: func(n int64) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte("authorizer/verify DPoP nonce\x00"))
		m.Write(binary.BigEndian.AppendUint64(nil, uint64(n)))
		return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:24])
	}}
}

// slotAt returns the nonces of now's slot and the one before.
func (s *nonceSource) slotAt(now time.Time) *nonceSlot {
	n := now.UnixNano() / int64(s.slot)
	if c := s.cur.Load(); c != nil && c.n == n {
		return c
	}
	c := &nonceSlot{n: n, cur: s.at(n), prev: s.at(n - 1)}
	s.cur.Store(c)
	return c
}

// current is the nonce to send at now.
func (s *nonceSource) current(now time.Time) string { return s.slotAt(now).cur }

// valid reports whether nonce is the nonce of now's slot or the one before.
func (s *nonceSource) valid(nonce string, now time.Time) bool {
	c := s.slotAt(now)
	return nonce != "" && (hmac.Equal([]byte(nonce), []byte(c.cur)) || hmac.Equal([]byte(nonce), []byte(c.prev)))
}

// DPoPNonce returns the nonce a client must put in its next DPoP proof
// (send it as the DPoP-Nonce header), or "" when [WithDPoPNonces] is not
// set. [Middleware] sends it on every response; a handler calling
// [Verifier.VerifyDPoP] itself sends it when that fails with
// [authorizer.ErrTokenDPoPNonce]. Safe for concurrent use.
func (v *Verifier) DPoPNonce() string {
	if v.nonces == nil {
		return ""
	}
	return v.nonces.current(v.cfg.now())
}
