package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
)

// clientCert is a self-signed client certificate and its RFC 8705
// thumbprint.
func clientCert(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, base64.RawURLEncoding.EncodeToString(sum[:])
}

// Verify sees no connection: a token bound to a client certificate, or by
// a confirmation method this package does not know, is refused.
func TestVerifyRefusesUncheckableBindings(t *testing.T) {
	v := newDPoPVerifier(t, newClock())
	for name, cnf := range map[string]any{
		"certificate": map[string]any{"x5t#S256": "abc"},
		"jwk":         map[string]any{"jwk": map[string]any{"kty": "EC"}},
		"kid":         map[string]any{"kid": "k1"},
	} {
		_, err := v.Verify(context.Background(), token(rsaKey(0), "RS256", "", with(goodClaims(), "cnf", cnf)))
		if !errors.Is(err, authorizer.ErrTokenDPoPBinding) {
			t.Errorf("%s: err = %v; want ErrTokenDPoPBinding", name, err)
		}
	}
	if _, err := v.Verify(context.Background(), token(rsaKey(0), "RS256", "", with(goodClaims(), "cnf", map[string]any{"x5t#S256": 5}))); !errors.Is(err, authorizer.ErrTokenMalformed) {
		t.Errorf("x5t#S256 a number: err = %v; want ErrTokenMalformed", err)
	}
}

// Middleware checks a certificate-bound bearer token (RFC 8705 §3) against
// the client certificate of the TLS connection.
func TestMiddlewareChecksCertificateBinding(t *testing.T) {
	v := newDPoPVerifier(t, newClock())
	good, goodX5t := clientCert(t)
	other, _ := clientCert(t)
	srv := httptest.NewUnstartedServer(Middleware(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ClaimsFrom(r.Context()).CertificateThumbprint != goodX5t {
			t.Error("claims without the certificate thumbprint")
		}
	})))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()
	tok := token(rsaKey(0), "RS256", "", with(goodClaims(), "cnf", map[string]any{"x5t#S256": goodX5t}))
	for name, tc := range map[string]struct {
		certs []tls.Certificate
		want  int
	}{
		"the bound certificate": {[]tls.Certificate{good}, http.StatusOK},
		"another certificate":   {[]tls.Certificate{other}, http.StatusUnauthorized},
		"no certificate":        {nil, http.StatusUnauthorized},
	} {
		c := srv.Client()
		tr := c.Transport.(*http.Transport).Clone()
		tr.TLSClientConfig.Certificates = tc.certs
		c.Transport = tr
		req, _ := http.NewRequest("GET", srv.URL+"/x", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d; want %d", name, resp.StatusCode, tc.want)
		}
		tr.CloseIdleConnections()
	}
}
