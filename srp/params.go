package srp

import (
	"encoding/base64"
	"math/big"
)

// Caps on the challenge parameters the server sends. SRP_B is at most N
// (768 hex digits) plus a little slack for padding; the others are far
// larger than Cognito's and only stop a hostile or broken endpoint from
// making the client hash megabytes.
const (
	maxSRPBHex        = 1024
	maxSaltHex        = 1024
	maxSecretBlockB64 = 64 << 10
	maxUserIDLen      = 1024
)

// verifierChallenge is a checked PASSWORD_VERIFIER challenge.
type verifierChallenge struct {
	userID         string   // USER_ID_FOR_SRP: hashed into x and the signature
	userName       string   // USERNAME: the canonical name, sent back
	bigB           *big.Int // SRP_B, 0 < B mod N
	salt           *big.Int // SALT
	secretBlock    []byte   // SECRET_BLOCK, decoded
	secretBlockB64 string   // SECRET_BLOCK as sent, returned verbatim
}

// parseVerifierChallenge checks the parameters of a PASSWORD_VERIFIER
// challenge. It never panics: a missing, oversized or malformed value, or an
// SRP_B that is 0 mod N (which would let a fake server learn the session
// key), is an error naming the parameter, never its value.
func parseVerifierChallenge(p map[string]string) (*verifierChallenge, error) {
	c := &verifierChallenge{userID: p["USER_ID_FOR_SRP"], userName: p["USERNAME"]}
	if c.userID == "" || len(c.userID) > maxUserIDLen {
		return nil, paramError("USER_ID_FOR_SRP", "is missing or too long")
	}
	if c.userName == "" {
		c.userName = c.userID
	}
	if len(c.userName) > maxUserIDLen {
		return nil, paramError("USERNAME", "is too long")
	}
	var err error
	if c.bigB, err = parseHexInt("SRP_B", p["SRP_B"], maxSRPBHex); err != nil {
		return nil, err
	}
	if new(big.Int).Mod(c.bigB, srpGroup.n).Sign() == 0 {
		return nil, paramError("SRP_B", "is 0 mod N")
	}
	if c.salt, err = parseHexInt("SALT", p["SALT"], maxSaltHex); err != nil {
		return nil, err
	}
	return c, c.parseSecretBlock(p["SECRET_BLOCK"])
}

func (c *verifierChallenge) parseSecretBlock(s string) error {
	if s == "" || len(s) > maxSecretBlockB64 {
		return paramError("SECRET_BLOCK", "is missing or too long")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return paramError("SECRET_BLOCK", "is not base64")
	}
	c.secretBlock, c.secretBlockB64 = b, s
	return nil
}

// parseHexInt parses a non-empty string of hex digits (no sign, no prefix,
// unlike big.Int.SetString) of at most limit characters.
func parseHexInt(name, s string, limit int) (*big.Int, error) {
	if s == "" || len(s) > limit {
		return nil, paramError(name, "is missing or too long")
	}
	for i := 0; i < len(s); i++ {
		if !isHexDigit(s[i]) {
			return nil, paramError(name, "is not hexadecimal")
		}
	}
	v, _ := new(big.Int).SetString(s, 16)
	return v, nil
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
