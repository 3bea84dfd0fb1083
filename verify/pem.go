package verify

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// parsePEMKeys reads public keys from PEM: "PUBLIC KEY" (PKIX), "RSA PUBLIC
// KEY" (PKCS #1) and "CERTIFICATE" blocks (the certificate's key; its
// validity dates and chain are not checked). Any other block, a private key
// in particular, is an error, as is input with no block.
func parsePEMKeys(data []byte) (*keySet, error) {
	if len(data) > maxKeySetSize {
		return nil, errors.New("verify: PEM is larger than 1 MiB")
	}
	ks := &keySet{}
	var prev *x509.Certificate // the last certificate taken, to spot its issuer
	for n := 1; ; n++ {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if ca := issuerOf(prev, b); ca != nil {
			prev = ca // a chain's CA certificates sign certificates, not tokens
			continue
		}
		prev = nil
		pub, err := pemPublicKey(b)
		if err == nil && b.Type == "CERTIFICATE" {
			prev, _ = x509.ParseCertificate(b.Bytes)
		}
		if err == nil && len(ks.keys) == maxKeys {
			err = fmt.Errorf("more than %d keys", maxKeys)
		}
		if err != nil {
			return nil, fmt.Errorf("verify: PEM block %d: %w", n, err)
		}
		k, err := newKey("", "", pub)
		if err != nil {
			return nil, fmt.Errorf("verify: PEM block %d: %w", n, err)
		}
		ks.keys = append(ks.keys, k)
	}
	if len(ks.keys) == 0 {
		return nil, errors.New("verify: no PEM public key found")
	}
	return ks, nil
}

// issuerOf returns block b's certificate when it is the CA certificate
// that signed cert: in a certificate chain (leaf, then its issuers) only
// the leaf's key is a signing key, never an issuing CA's. Separate
// self-signed certificates (one per rotated key) all count.
func issuerOf(cert *x509.Certificate, b *pem.Block) *x509.Certificate {
	if cert == nil || b.Type != "CERTIFICATE" {
		return nil
	}
	ca, err := x509.ParseCertificate(b.Bytes)
	if err != nil || !ca.IsCA || cert.CheckSignatureFrom(ca) != nil {
		return nil
	}
	return ca
}

func pemPublicKey(b *pem.Block) (any, error) {
	switch b.Type {
	case "PUBLIC KEY":
		pub, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, errors.New("not a valid PKIX public key")
		}
		return pub, nil
	case "RSA PUBLIC KEY":
		pub, err := x509.ParsePKCS1PublicKey(b.Bytes)
		if err != nil {
			return nil, errors.New("not a valid PKCS #1 public key")
		}
		return pub, nil
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, errors.New("not a valid certificate")
		}
		return cert.PublicKey, nil
	}
	return nil, errors.New("block type is not a public key or certificate")
}
