package oauth2auth

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"os"
	"strings"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
)

// maxKeyFile caps the size of a private-key file.
const maxKeyFile = 64 << 10

// clientAuthNames maps Environment.ClientAuth's accepted names (the
// registered ones, RFC 8414, and short forms) to methods.
var clientAuthNames = map[string]ClientAuth{
	"client_secret_basic": ClientSecretBasic, "basic": ClientSecretBasic,
	"client_secret_post": ClientSecretPost, "post": ClientSecretPost,
	"private_key_jwt": PrivateKeyJWT, "none": ClientAuthNone,
}

// applyEnvironment takes the client-authentication method from
// e.ClientAuth (and its key from e.ClientKeyFile), unless it is unset.
func (o *options) applyEnvironment(e *Environment) error {
	if e.ClientAuth == "" {
		if e.ClientKeyFile != "" {
			return envAuthError(e, "ClientKeyFile", "is set but ClientAuth is not private_key_jwt")
		}
		return nil
	}
	method, ok := clientAuthNames[strings.ToLower(e.ClientAuth)]
	switch {
	case !ok:
		return envAuthError(e, "ClientAuth", "is not one of client_secret_basic, client_secret_post, private_key_jwt, none")
	case o.authSet:
		return envAuthError(e, "ClientAuth", "is set and so is WithClientAuth or WithPrivateKeyJWT: choose one")
	case method != PrivateKeyJWT && e.ClientKeyFile != "":
		return envAuthError(e, "ClientKeyFile", "is set but ClientAuth is not private_key_jwt")
	case method != PrivateKeyJWT:
		o.auth, o.authSet = method, true
		return nil
	case e.ClientKeyFile == "":
		return envAuthError(e, "ClientKeyFile", "is needed for private_key_jwt")
	}
	key, err := loadPrivateKey(e.ClientKeyFile)
	if err != nil {
		return envAuthError(e, "ClientKeyFile", err.Error())
	}
	signer := tokenwire.KeySigner{Key: key, KeyID: e.ClientKeyID}
	o.auth, o.authSet, o.assertion = PrivateKeyJWT, true, signer.Sign
	return nil
}

func envAuthError(e *Environment, field, problem string) error {
	return &authorizer.InvalidConfigError{Setting: e.label() + "." + field, Problem: problem}
}

// loadPrivateKey reads a PEM private key from path.
func loadPrivateKey(path string) (crypto.Signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.New("cannot be read: " + err.Error())
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil || len(b) > maxKeyFile {
		return nil, errors.New("cannot be read or is larger than 64 KiB")
	}
	return parsePrivateKey(b)
}

// parsePrivateKey decodes the first PEM block of b: a PKCS #8 "PRIVATE
// KEY", a PKCS #1 "RSA PRIVATE KEY" or a SEC 1 "EC PRIVATE KEY", of a type
// private_key_jwt can sign with. Errors never quote b.
func parsePrivateKey(b []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("holds no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, errors.New("holds a PEM block that is not a private key")
	}
	if err != nil {
		return nil, errors.New("holds a private key that cannot be parsed")
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, errors.New("holds a key that cannot sign")
	}
	if err := (tokenwire.KeySigner{Key: signer}).Check(); err != nil {
		return nil, err
	}
	return signer, nil
}
