package filecache

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/seed-d44eba79/authorizer/dpop"
	"golang.org/x/oauth2"
)

// formatVersion is written in every file; a file of another version is
// ignored.
const formatVersion = 1

// maxFileSize caps what Load reads: a token file is a few KiB at most.
const maxFileSize = 1 << 20

// Envelope formats.
const (
	formatPlain  = "plain"
	formatAESGCM = "aes-gcm"
)

// envelope is the outer JSON of a token file.
type envelope struct {
	Version int    `json:"version"`
	Format  string `json:"format"`
	// Record is set for formatPlain.
	Record *record `json:"record,omitempty"`
	// Nonce and Sealed are set for formatAESGCM: Sealed is the AES-GCM
	// sealed JSON of a record.
	Nonce  []byte `json:"nonce,omitempty"`
	Sealed []byte `json:"sealed,omitempty"`
}

// record is what is kept of an oauth2.Token. oauth2.Token's Extra is not
// serialised by encoding/json, so the fields that matter are copied out.
type record struct {
	Key          string    `json:"key"`
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	ExpiresIn    int64     `json:"expires_in,omitempty"`
	IDToken      string    `json:"id_token,omitempty"`
	Scope        string    `json:"scope,omitempty"`
	// DPoPKey is the private key (PKCS #8 DER) of a DPoP-bound token
	// (dpop.KeyOf), kept beside the refresh token bound to it: inside the
	// sealed record when the cache is encrypted. Absent for a token without
	// a key, and for a key that cannot be exported (a hardware signer).
	DPoPKey []byte `json:"dpop_key,omitempty"`
}

// errForeign: the file is well-formed but not for this key, or not ours.
var errForeign = errors.New("file is not a token file for this key")

// newRecord copies tok's fields for key.
func newRecord(key string, tok *oauth2.Token) *record {
	r := &record{Key: key, AccessToken: tok.AccessToken, TokenType: tok.TokenType,
		RefreshToken: tok.RefreshToken, Expiry: tok.Expiry, ExpiresIn: tok.ExpiresIn}
	r.IDToken, _ = tok.Extra("id_token").(string)
	r.Scope, _ = tok.Extra("scope").(string)
	if k := dpop.KeyOf(tok); k != nil {
		r.DPoPKey, _ = k.MarshalBinary() // nil for a key that cannot leave its signer
	}
	return r
}

// token rebuilds the oauth2.Token, with id_token and scope in Extra, and
// the DPoP key it is bound to (dpop.KeyOf); a key that does not parse is
// an error.
func (r *record) token() (*oauth2.Token, error) {
	tok := &oauth2.Token{AccessToken: r.AccessToken, TokenType: r.TokenType,
		RefreshToken: r.RefreshToken, Expiry: r.Expiry, ExpiresIn: r.ExpiresIn}
	extra := map[string]any{}
	if r.IDToken != "" {
		extra["id_token"] = r.IDToken
	}
	if r.Scope != "" {
		extra["scope"] = r.Scope
	}
	if len(r.DPoPKey) > 0 {
		k, err := dpop.ParseKey(r.DPoPKey)
		if err != nil {
			return nil, fmt.Errorf("%w: its DPoP key is not a valid key", errForeign)
		}
		dpop.SetKey(extra, k)
	}
	return tok.WithExtra(extra), nil
}

// additionalData binds a sealed record to its key.
func additionalData(key string) []byte {
	return []byte("authorizer/filecache v1\x00" + key)
}

// encode returns the file contents for rec; aead may be nil (plain).
func encode(rec *record, aead cipher.AEAD) ([]byte, error) {
	env := envelope{Version: formatVersion, Format: formatPlain, Record: rec}
	if aead != nil {
		plain, err := json.Marshal(rec)
		if err != nil {
			return nil, err
		}
		nonce := make([]byte, aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		env = envelope{Version: formatVersion, Format: formatAESGCM, Nonce: nonce,
			Sealed: aead.Seal(nil, nonce, plain, additionalData(rec.Key))}
	}
	return json.Marshal(env)
}

// decode parses file contents written for key. It never panics; any
// problem is an error that names no secret.
func decode(b []byte, key string, aead cipher.AEAD) (*oauth2.Token, error) {
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if env.Version != formatVersion {
		return nil, fmt.Errorf("%w: version %d", errForeign, env.Version)
	}
	rec, err := openRecord(&env, key, aead)
	if err != nil {
		return nil, err
	}
	if rec.Key != key {
		return nil, fmt.Errorf("%w: written for another key", errForeign)
	}
	if rec.AccessToken == "" && rec.RefreshToken == "" {
		return nil, fmt.Errorf("%w: no token in it", errForeign)
	}
	return rec.token()
}

// openRecord returns the envelope's record, decrypting it when sealed.
func openRecord(env *envelope, key string, aead cipher.AEAD) (*record, error) {
	switch {
	case env.Format == formatPlain && aead == nil && env.Record != nil:
		return env.Record, nil
	case env.Format == formatAESGCM && aead != nil:
		if len(env.Nonce) != aead.NonceSize() {
			return nil, fmt.Errorf("%w: bad nonce length", errForeign)
		}
		plain, err := aead.Open(nil, env.Nonce, env.Sealed, additionalData(key))
		if err != nil {
			return nil, fmt.Errorf("cannot decrypt (wrong key, another cache key, or tampered): %w", err)
		}
		var rec record
		if err := json.Unmarshal(plain, &rec); err != nil {
			return nil, fmt.Errorf("sealed record is not valid JSON: %w", err)
		}
		return &rec, nil
	case env.Format == formatAESGCM:
		return nil, fmt.Errorf("%w: file is encrypted and no key is configured", errForeign)
	case env.Format == formatPlain && aead != nil:
		return nil, fmt.Errorf("%w: file is not encrypted but a key is configured", errForeign)
	default:
		return nil, fmt.Errorf("%w: format %q", errForeign, env.Format)
	}
}
