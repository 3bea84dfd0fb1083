package permsvc

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Service is an in-memory permission service. It is an [http.Handler]
// (see the package doc for its endpoints) and signs tokens directly with
// [Service.Issue]. It is safe for concurrent use.
type Service struct {
	issuer   string
	lifetime time.Duration // 0: legacy tokens without exp
	now      func() time.Time
	users    map[string]User   // by name; read-only after New
	sessions map[string]string // session token -> user name; read-only after New
	mux      *http.ServeMux

	mu     sync.Mutex      // guards key, keyID, issued
	key    *rsa.PrivateKey // signs tokens; replaced by Rotate
	keyID  string          // "kid" header, "" for none
	issued int             // tokens handed out, by Issue or /auth/authorize
}

// User is a user who can sign in, with the permissions they hold per
// service.
type User struct {
	// ID is the token's userid claim. Required.
	ID string
	// Password is checked by HTTP Basic sign-in; "" disables Basic for the
	// user (sessions still work).
	Password string
	// Permissions maps a service name to the user's permissions on it. A
	// service the map does not name is refused (403).
	Permissions map[string][]string
}

// DefaultIssuer is the iss claim when [WithIssuer] is not given.
const DefaultIssuer = "permsvc"

// DefaultLifetime is how long a token lives when [WithLifetime] is not given.
const DefaultLifetime = time.Hour

// New returns a service with a fresh RSA-2048 key (or the one [WithKey]
// gives).
func New(opts ...Option) (*Service, error) {
	s := &Service{issuer: DefaultIssuer, lifetime: DefaultLifetime, now: time.Now,
		users: map[string]User{}, sessions: map[string]string{}}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	if s.key == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("permsvc: generating the key: %w", err)
		}
		s.key = k
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /auth/public-key", s.publicKey)
	s.mux.HandleFunc("GET /auth/authorize", s.authorize)
	return s, nil
}

// ServeHTTP serves the endpoints listed in the package doc.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Issuer is the iss claim of the service's tokens.
func (s *Service) Issuer() string { return s.issuer }

// PublicKey returns the key that verifies the tokens signed from now on.
func (s *Service) PublicKey() *rsa.PublicKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return &s.key.PublicKey
}

// PublicKeyPEM is what /auth/public-key serves.
func (s *Service) PublicKeyPEM() []byte {
	der, err := x509.MarshalPKIXPublicKey(s.PublicKey())
	if err != nil { // an RSA public key always marshals
		panic("permsvc: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// Rotate replaces the signing key with a fresh RSA-2048 key: tokens signed
// before no longer verify against the key /auth/public-key serves.
func (s *Service) Rotate() error {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("permsvc: generating the key: %w", err)
	}
	s.mu.Lock()
	s.key = k
	s.mu.Unlock()
	return nil
}

// Issued counts the tokens handed out so far.
func (s *Service) Issued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issued
}

// errUnknownUser is Issue's answer for a user id no User has.
var errUnknownUser = errors.New("permsvc: unknown user")
