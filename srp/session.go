package srp

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"math/big"
	"time"
)

// derivedKeyInfo is the HKDF info string of Cognito's SRP variant.
const derivedKeyInfo = "Caldera Derived Key"

// timestampLayout is the TIMESTAMP Cognito checks: Java's
// "EEE MMM d HH:mm:ss z yyyy" in English and UTC, 24-hour clock, day of the
// month not zero-padded. (Go's "03" would be the 12-hour clock, the bug of
// github.com/alexrudd/cognito-srp.)
const timestampLayout = "Mon Jan 2 15:04:05 UTC 2006"

// formatTimestamp formats t as Cognito's PASSWORD_VERIFIER TIMESTAMP.
func formatTimestamp(t time.Time) string {
	return t.UTC().Format(timestampLayout)
}

// clientSession is the client half of one SRP-6a exchange: the secret a and
// the public A = g^a mod N. It is used for one sign-in and then dropped.
type clientSession struct {
	a, bigA *big.Int
}

// newClientSession draws a from random (crypto/rand in production).
func newClientSession(random io.Reader) (*clientSession, error) {
	buf := make([]byte, 128)
	if _, err := io.ReadFull(random, buf); err != nil {
		return nil, err
	}
	a := new(big.Int).SetBytes(buf)
	a.Mod(a, srpGroup.n)
	bigA := new(big.Int).Exp(srpGroup.g, a, srpGroup.n)
	if a.Sign() == 0 || bigA.Sign() == 0 {
		return nil, errors.New("srp: random value unusable")
	}
	return &clientSession{a: a, bigA: bigA}, nil
}

// srpA returns A as Cognito's SRP_A parameter (lower-case hex).
func (s *clientSession) srpA() string { return s.bigA.Text(16) }

// passwordKey derives the 16-byte key that signs the password claim:
//
//	u = H(pad(A) | pad(B))
//	x = H(pad(salt) | H(poolName | userID | ":" | password))
//	S = (B - k*g^x) ^ (a + u*x) mod N
//	key = HKDF-SHA256(ikm = pad(S), salt = pad(u), info = "Caldera Derived Key")[:16]
//
// B must already be checked (B mod N != 0).
func (s *clientSession) passwordKey(poolName, userID, password string, bigB, salt *big.Int) ([]byte, error) {
	u := new(big.Int).SetBytes(hashHex(padHex(s.bigA) + padHex(bigB)))
	if u.Sign() == 0 {
		return nil, errors.New("srp: scrambling parameter u is zero")
	}
	inner := sha256.Sum256([]byte(poolName + userID + ":" + password))
	x := new(big.Int).SetBytes(hashHex(padHex(salt) + hex.EncodeToString(inner[:])))

	gx := new(big.Int).Exp(srpGroup.g, x, srpGroup.n)
	base := new(big.Int).Mul(srpGroup.k, gx)
	base.Sub(bigB, base)
	base.Mod(base, srpGroup.n) // Euclidean: non-negative
	exp := new(big.Int).Mul(u, x)
	exp.Add(exp, s.a)
	bigS := new(big.Int).Exp(base, exp, srpGroup.n)

	ikm, _ := hex.DecodeString(padHex(bigS))
	hsalt, _ := hex.DecodeString(padHex(u))
	return hkdf.Key(sha256.New, ikm, hsalt, derivedKeyInfo, 16)
}

// claimSignature returns PASSWORD_CLAIM_SIGNATURE:
// base64(HMAC-SHA256(key, poolName | userID | secretBlock | timestamp)),
// where secretBlock is the base64-decoded SECRET_BLOCK.
func claimSignature(key []byte, poolName, userID string, secretBlock []byte, timestamp string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(poolName))
	m.Write([]byte(userID))
	m.Write(secretBlock)
	m.Write([]byte(timestamp))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// secretHash returns SECRET_HASH: base64(HMAC-SHA256(key = client secret,
// message = userName | clientID)).
func secretHash(clientSecret, userName, clientID string) string {
	m := hmac.New(sha256.New, []byte(clientSecret))
	m.Write([]byte(userName))
	m.Write([]byte(clientID))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
