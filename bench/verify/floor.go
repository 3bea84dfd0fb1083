package main

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
)

// floorVerify is the crypto/rsa floor: split, base64-decode the signature,
// SHA-256 the signing input, rsa.VerifyPKCS1v15. No JSON, no claim checks:
// no correct verifier can be cheaper.
func floorVerify(pub *rsa.PublicKey) verifyFunc {
	return func(tok string) error {
		dot := strings.LastIndexByte(tok, '.')
		if dot < 0 || strings.Count(tok, ".") != 2 {
			return errors.New("floor: not three segments")
		}
		sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
		if err != nil {
			return err
		}
		sum := sha256.Sum256([]byte(tok[:dot]))
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	}
}
