// Package srptest is the server half of Cognito's SRP-6a variant and a
// fake Cognito built on it, for tests of package srp. It is written apart
// from the client code it checks (its own constants, its own padding and
// hashing) and is itself cross-checked against
// github.com/alexrudd/cognito-srp.
package srptest

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// nHex is RFC 5054's 3072-bit group prime (generator 2).
const nHex = "" +
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74" +
	"020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437" +
	"4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05" +
	"98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB" +
	"9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
	"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718" +
	"3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33" +
	"A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
	"ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864" +
	"D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2" +
	"08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"

// TimestampLayout is the TIMESTAMP format the verifier accepts (and the
// only one): English, UTC, 24-hour, day of the month not zero-padded.
const TimestampLayout = "Mon Jan 2 15:04:05 UTC 2006"

// MaxClockSkew is how far the TIMESTAMP may be from the verifier's clock.
const MaxClockSkew = 5 * time.Minute

var (
	bigN, _ = new(big.Int).SetString(nHex, 16)
	bigG    = big.NewInt(2)
	bigK    = new(big.Int).SetBytes(sha(toBytes(bigN), []byte{2})) // H(pad(N) | pad(g))
)

// toBytes is Amplify's padHex as bytes: big-endian, with a zero byte in
// front when the top bit is set.
func toBytes(v *big.Int) []byte {
	b := v.Bytes()
	if len(b) == 0 {
		return []byte{0}
	}
	if b[0]&0x80 != 0 {
		return append([]byte{0}, b...)
	}
	return b
}

func sha(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// Verifier is what a user pool stores for one user: the salt and
// v = g^x, with x = H(salt | H(poolName | userID | ":" | password)).
type Verifier struct {
	PoolName string
	UserID   string // USER_ID_FOR_SRP, the canonical user name
	Salt     *big.Int
	V        *big.Int
}

// NewVerifier makes a Verifier for a password with a fresh random salt.
func NewVerifier(poolName, userID, password string) *Verifier {
	salt := randInt(16)
	inner := sha([]byte(poolName + userID + ":" + password))
	x := new(big.Int).SetBytes(sha(toBytes(salt), inner))
	return &Verifier{PoolName: poolName, UserID: userID, Salt: salt, V: new(big.Int).Exp(bigG, x, bigN)}
}

// Exchange is one server-side SRP exchange.
type Exchange struct {
	v           *Verifier
	bigA, b     *big.Int
	BigB        *big.Int
	SecretBlock []byte
}

// Begin starts an exchange for the client's SRP_A (hex): b random,
// B = k*v + g^b mod N.
func (v *Verifier) Begin(srpA string) (*Exchange, error) {
	bigA, ok := new(big.Int).SetString(srpA, 16)
	if !ok || new(big.Int).Mod(bigA, bigN).Sign() == 0 {
		return nil, errors.New("srptest: bad SRP_A")
	}
	b := randInt(128)
	bigB := new(big.Int).Exp(bigG, b, bigN)
	bigB.Add(bigB, new(big.Int).Mul(bigK, v.V))
	bigB.Mod(bigB, bigN)
	block := make([]byte, 64)
	rand.Read(block)
	return &Exchange{v: v, bigA: bigA, b: b, BigB: bigB, SecretBlock: block}, nil
}

// Params returns the PASSWORD_VERIFIER challenge parameters.
func (x *Exchange) Params() map[string]string {
	return map[string]string{
		"USER_ID_FOR_SRP": x.v.UserID,
		"USERNAME":        x.v.UserID,
		"SALT":            x.v.Salt.Text(16),
		"SRP_B":           x.BigB.Text(16),
		"SECRET_BLOCK":    base64.StdEncoding.EncodeToString(x.SecretBlock),
	}
}

// Verify checks the client's answer at the server time now: the secret
// block is the one sent, the TIMESTAMP has exactly Cognito's format and is
// within MaxClockSkew of now, and the signature proves the password.
func (x *Exchange) Verify(answer map[string]string, now time.Time) error {
	if answer["PASSWORD_CLAIM_SECRET_BLOCK"] != base64.StdEncoding.EncodeToString(x.SecretBlock) {
		return errors.New("srptest: wrong PASSWORD_CLAIM_SECRET_BLOCK")
	}
	ts := answer["TIMESTAMP"]
	if err := CheckTimestamp(ts, now); err != nil {
		return err
	}
	want := x.Signature(ts)
	got, err := base64.StdEncoding.DecodeString(answer["PASSWORD_CLAIM_SIGNATURE"])
	if err != nil || !hmac.Equal(got, want) {
		return errors.New("srptest: password claim signature does not verify")
	}
	return nil
}

// Signature is the server's expected signature for timestamp:
// S = (A * v^u)^b mod N, key = HKDF(S, salt = u), HMAC over
// poolName | userID | secretBlock | timestamp.
func (x *Exchange) Signature(timestamp string) []byte {
	u := new(big.Int).SetBytes(sha(toBytes(x.bigA), toBytes(x.BigB)))
	s := new(big.Int).Exp(x.v.V, u, bigN)
	s.Mul(s, x.bigA)
	s.Exp(s, x.b, bigN)
	key, _ := hkdf.Key(sha256.New, toBytes(s), toBytes(u), "Caldera Derived Key", 16)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(x.v.PoolName + x.v.UserID))
	m.Write(x.SecretBlock)
	m.Write([]byte(timestamp))
	return m.Sum(nil)
}

// CheckTimestamp accepts only TimestampLayout, formatted exactly (so a
// zero-padded day or a wrong weekday fails), within MaxClockSkew of now.
func CheckTimestamp(s string, now time.Time) error {
	t, err := time.Parse(TimestampLayout, s)
	if err != nil || t.Format(TimestampLayout) != s {
		return fmt.Errorf("srptest: TIMESTAMP %q is not in Cognito's format", s)
	}
	if d := t.Sub(now); d > MaxClockSkew || d < -MaxClockSkew {
		return fmt.Errorf("srptest: TIMESTAMP %q is %v away from the server clock", s, d)
	}
	return nil
}

func randInt(n int) *big.Int {
	b := make([]byte, n)
	rand.Read(b)
	return new(big.Int).SetBytes(b)
}
