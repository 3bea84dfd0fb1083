package verify

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
)

// jwk is the part of an RFC 7517 JSON Web Key this package reads.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	D   string `json:"d"`
}

// maxSkipLogs bounds the log lines about unusable keys of one key set.
const maxSkipLogs = 8

// parseJWKS reads an RFC 7517 §5 key set. Keys that cannot be used (an
// unsupported type, curve or algorithm, RSA under 2048 bits, use "enc", a
// private key) are skipped and logged; a document that is not a key set,
// or that holds no usable key, is an error.
func parseJWKS(doc []byte, logger *slog.Logger) (*keySet, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(doc, &set); err != nil || set.Keys == nil {
		return nil, errors.New("verify: key set is not a JSON Web Key Set")
	}
	ks := &keySet{}
	skipped := 0
	for i, raw := range set.Keys {
		if len(ks.keys) == maxKeys {
			logger.Warn("verify: skipping the rest of the key set", slog.Int("index", i), slog.String("reason", fmt.Sprintf("more than %d keys", maxKeys)))
			break
		}
		k, err := parseJWK(raw)
		if err != nil {
			// one line per unusable key, for the first few: a hostile
			// key set must not flood the log on every fetch.
			if skipped++; skipped <= maxSkipLogs {
				logger.Warn("verify: skipping a key of the key set", slog.Int("index", i), slog.String("reason", err.Error()))
			}
			continue
		}
		ks.keys = append(ks.keys, k)
	}
	if skipped > maxSkipLogs {
		logger.Warn("verify: skipped further unusable keys of the key set", slog.Int("count", skipped-maxSkipLogs))
	}
	if len(ks.keys) == 0 {
		return nil, errors.New("verify: key set holds no usable signing key")
	}
	return ks, nil
}

// parseJWK reads one key; its error is a fixed reason, fit for a log line.
func parseJWK(raw json.RawMessage) (*key, error) {
	var j jwk
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, errors.New("not a JSON Web Key")
	}
	if j.Use != "" && j.Use != "sig" {
		return nil, errors.New("use is not sig")
	}
	if j.D != "" {
		return nil, errors.New("is a private key")
	}
	if j.Alg != "" && !knownAlg(j.Alg) {
		return nil, errors.New("alg is not supported")
	}
	pub, err := j.publicKey()
	if err != nil {
		return nil, err
	}
	return newKey(j.Kid, j.Alg, pub)
}

func (j *jwk) publicKey() (any, error) {
	switch j.Kty {
	case "RSA":
		n, e := b64int(j.N), b64int(j.E)
		if n == nil || e == nil || !e.IsInt64() || e.Int64() > 1<<31-1 {
			return nil, errors.New("RSA key has a bad n or e")
		}
		return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
	case "EC":
		return j.ecKey()
	case "OKP":
		x, err := base64.RawURLEncoding.Strict().DecodeString(j.X)
		if j.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("OKP key is not a valid Ed25519 key")
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, errors.New("kty is not supported")
}

func (j *jwk) ecKey() (any, error) {
	var c elliptic.Curve
	switch j.Crv {
	case "P-256":
		c = elliptic.P256()
	case "P-384":
		c = elliptic.P384()
	case "P-521":
		c = elliptic.P521()
	default:
		return nil, errors.New("EC curve is not supported")
	}
	size := (c.Params().BitSize + 7) / 8
	x, errX := base64.RawURLEncoding.Strict().DecodeString(j.X)
	y, errY := base64.RawURLEncoding.Strict().DecodeString(j.Y)
	if errX != nil || errY != nil || len(x) != size || len(y) != size {
		return nil, errors.New("EC key has a bad x or y")
	}
	point := append(append([]byte{4}, x...), y...)
	pub, err := ecdsa.ParseUncompressedPublicKey(c, point)
	if err != nil {
		return nil, errors.New("EC key is not on its curve")
	}
	return pub, nil
}

// b64int decodes a base64url big-endian unsigned integer without leading
// zero bytes padding it out; nil when invalid.
func b64int(s string) *big.Int {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil
	}
	return new(big.Int).SetBytes(b)
}
