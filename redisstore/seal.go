package redisstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// keyLen is the length of an AES-256 key.
const keyLen = 32

// sealVersion starts every sealed value; a value of another version is
// treated as absent.
const sealVersion = 1

// errUnreadable: a stored value that no key of the ring opens, or that is
// not a sealed record.
var errUnreadable = errors.New("redisstore: stored value cannot be opened")

// keyring seals with its first AEAD and opens with any.
type keyring struct {
	aeads []cipher.AEAD
}

func newKeyring(primary []byte, older [][]byte) (*keyring, error) {
	if len(primary) != keyLen {
		return nil, invalid("New key", "must be 32 bytes (AES-256)")
	}
	r := &keyring{}
	for _, k := range append([][]byte{primary}, older...) {
		b, err := aes.NewCipher(k)
		if err != nil {
			return nil, invalid("New key", "is not an AES key")
		}
		g, err := cipher.NewGCM(b)
		if err != nil {
			return nil, invalid("New key", "is not an AES key")
		}
		r.aeads = append(r.aeads, g)
	}
	return r, nil
}

// additionalData binds a sealed value to its Redis key and its fence: a
// value copied under another key, or under another fence, does not open.
func additionalData(redisKey string, fence int64) []byte {
	return []byte("authorizer/redisstore v1\x00" + redisKey + "\x00" + strconv.FormatInt(fence, 10))
}

// seal returns version || nonce || AES-256-GCM(record).
func (r *keyring) seal(redisKey string, fence int64, tok *oauth2.Token) ([]byte, error) {
	plain, err := json.Marshal(newRecord(tok))
	if err != nil {
		return nil, err
	}
	g := r.aeads[0]
	out := make([]byte, 1+g.NonceSize(), 1+g.NonceSize()+len(plain)+g.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, err
	}
	return g.Seal(out, out[1:], plain, additionalData(redisKey, fence)), nil
}

// open reverses seal with any key of the ring.
func (r *keyring) open(redisKey string, fence int64, v []byte) (*oauth2.Token, error) {
	ad := additionalData(redisKey, fence)
	for _, g := range r.aeads {
		n := 1 + g.NonceSize()
		if len(v) < n+g.Overhead() || v[0] != sealVersion {
			return nil, errUnreadable
		}
		plain, err := g.Open(nil, v[1:n], v[n:], ad)
		if err != nil {
			continue
		}
		var rec record
		if json.Unmarshal(plain, &rec) != nil || rec.AccessToken == "" {
			return nil, errUnreadable
		}
		return rec.token(), nil
	}
	return nil, errUnreadable
}

// record is what is kept of an oauth2.Token (encoding/json does not
// serialise its Extra).
type record struct {
	AccessToken  string    `json:"access_token"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	Expiry       time.Time `json:"expiry,omitzero"`
	ExpiresIn    int64     `json:"expires_in,omitempty"`
	IDToken      string    `json:"id_token,omitempty"`
	Scope        string    `json:"scope,omitempty"`
}

func newRecord(tok *oauth2.Token) *record {
	r := &record{AccessToken: tok.AccessToken, TokenType: tok.TokenType,
		RefreshToken: tok.RefreshToken, Expiry: tok.Expiry, ExpiresIn: tok.ExpiresIn}
	r.IDToken, _ = tok.Extra("id_token").(string)
	r.Scope, _ = tok.Extra("scope").(string)
	return r
}

func (r *record) token() *oauth2.Token {
	tok := &oauth2.Token{AccessToken: r.AccessToken, TokenType: r.TokenType,
		RefreshToken: r.RefreshToken, Expiry: r.Expiry, ExpiresIn: r.ExpiresIn}
	extra := map[string]any{}
	if r.IDToken != "" {
		extra["id_token"] = r.IDToken
	}
	if r.Scope != "" {
		extra["scope"] = r.Scope
	}
	return tok.WithExtra(extra)
}
