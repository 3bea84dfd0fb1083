package srp

import (
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"strings"
)

// The SRP-6a group Cognito uses: the 3072-bit MODP prime of RFC 5054
// appendix A (also RFC 3526 §4), with generator 2. The hex is the one in
// AWS Amplify's AuthenticationHelper.
const groupNHex = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1" +
	"29024E088A67CC74020BBEA63B139B22514A08798E3404DD" +
	"EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245" +
	"E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED" +
	"EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3D" +
	"C2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F" +
	"83655D23DCA3AD961C62F356208552BB9ED529077096966D" +
	"670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B" +
	"E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9" +
	"DE2BCBF6955817183995497CEA956AE515D2261898FA0510" +
	"15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64" +
	"ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7" +
	"ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6B" +
	"F12FFA06D98A0864D87602733EC86A64521F2B18177B200C" +
	"BBE117577A615D6C770988C0BAD946E208E24FA074E5AB31" +
	"43DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"

// group holds N, g and the multiplier k = H(pad(N) | pad(g)), computed once.
type group struct {
	n, g, k *big.Int
}

// srpGroup is the package's only group; it is never modified after init.
var srpGroup = newGroup()

func newGroup() group {
	n, _ := new(big.Int).SetString(groupNHex, 16)
	g := big.NewInt(2)
	// Amplify pads each value separately to whole bytes with a leading zero
	// byte when the top bit is set: "00"+N and "02" for g (not g padded to
	// the length of N as RFC 5054 would).
	k := new(big.Int).SetBytes(hashHex(padHex(n) + padHex(g)))
	return group{n: n, g: g, k: k}
}

// padHex returns the hex of a non-negative v the way Amplify's padHex
// does: an even number of digits, with "00" prepended when the first digit
// is 8 or more, so that the bytes read as a positive two's-complement number.
func padHex(v *big.Int) string {
	s := v.Text(16)
	if len(s)%2 == 1 {
		return "0" + s
	}
	if strings.ContainsRune("89abcdef", rune(s[0])) {
		return "00" + s
	}
	return s
}

// hashHex returns SHA-256 of the bytes that the hex string h encodes. h
// always comes from padHex or hash output, so it is valid hex.
func hashHex(h string) []byte {
	b, _ := hex.DecodeString(h)
	sum := sha256.Sum256(b)
	return sum[:]
}
