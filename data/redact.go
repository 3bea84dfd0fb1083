package data

import (
	"crypto/sha256"
	"encoding/hex"
)

// Redacted is what a secret prints as.
const Redacted = "REDACTED"

// redact returns Redacted for a non-empty secret and "" for an empty one, so
// that a printed value still tells whether the secret was set.
func redact(secret string) string {
	if secret == "" {
		return ""
	}
	return Redacted
}

// Fingerprint returns a short, stable, non-reversible label for a secret
// (the first 8 hex digits of its SHA-256), safe for logs and examples that
// need to tell two tokens apart without showing either. It returns "" for "".
func Fingerprint(secret string) string {
	if secret == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:4])
}
