package oauth2auth

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"golang.org/x/oauth2"
)

// maxTokenFile caps the size of a token or assertion file.
const maxTokenFile = 64 << 10

// Compile-time check.
var _ base.Authorizer = (*TokenFile)(nil)

// TokenFile is a [base.Authorizer] whose token is the content of a file
// that the platform rewrites: a Kubernetes projected service-account token,
// the OIDC token a CI job writes, a SPIFFE JWT-SVID. It is meant as the
// subject (or actor) of [NewTokenExchangeAuthorizer].
//
// The file is read again for every token: Authorize and Refresh read it,
// and Expired reports true for every token, so whoever holds one reads the
// file before using it again. Nothing is cached and nothing is keyed on the
// file's modification time, which rotation need not change (the bug that
// breaks SDKs caching until the mtime moves). The content, with surrounding
// white space removed, must be one non-empty line of visible ASCII of at
// most 64 KiB; it is not parsed. The path must name a regular file (a
// symlink to one is followed, as Kubernetes' ..data links need): a FIFO or
// a device is refused at once, never waited on.
//
// Concurrency: safe for concurrent use. Context: reading a file does not
// block on the network; once ctx is done, Authorize and Refresh return an
// error wrapping ctx.Err() without reading. Errors never quote the file's
// content.
type TokenFile struct {
	path string
	now  func() time.Time
}

// NewTokenFile returns a [TokenFile] reading path. The file is not read
// (and need not exist) until the first token is needed. An empty path is an
// *[authorizer.InvalidConfigError].
func NewTokenFile(path string) (*TokenFile, error) {
	if path == "" {
		return nil, &authorizer.InvalidConfigError{Setting: "oauth2auth: NewTokenFile path", Problem: "is empty"}
	}
	return &TokenFile{path: path, now: time.Now}, nil
}

// Authorize reads the file and returns its content as a token. Its Expiry
// is the moment it was read: the token is never fresh (see [TokenFile]). A
// file that cannot be read or holds no token is an
// *[authorizer.AuthorizationError] naming the path.
func (f *TokenFile) Authorize(ctx context.Context) (*oauth2.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, &authorizer.AuthorizationError{Message: "oauth2auth: token file not read", Err: err}
	}
	s, err := readTokenFile(f.path)
	if err != nil {
		return nil, &authorizer.AuthorizationError{Message: "oauth2auth: token file " + f.path + " " + err.Error()}
	}
	return &oauth2.Token{AccessToken: s, TokenType: "Bearer", Expiry: f.now()}, nil
}

// Expired reports true: a token read from the file is not used twice
// without reading the file again.
func (f *TokenFile) Expired(*oauth2.Token) bool { return true }

// Refresh reads the file again.
func (f *TokenFile) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return f.Authorize(ctx)
}

// String names the file, never its content.
func (f *TokenFile) String() string { return "oauth2auth.TokenFile(" + f.path + ")" }

// readTokenFile returns the trimmed content of a token or assertion file
// (a regular file, or a symlink to one: a FIFO or a device, which could
// block or never end, is refused without waiting). Errors say what is
// wrong ("cannot be read: …", "is empty", …), never quoting the content.
func readTokenFile(path string) (string, error) {
	fh, err := os.OpenFile(path, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is named by the caller
		}
		return "", errors.New("cannot be read: " + err.Error())
	}
	defer fh.Close()
	if st, err := fh.Stat(); err != nil || !st.Mode().IsRegular() {
		return "", errors.New("is not a regular file")
	}
	b, err := io.ReadAll(io.LimitReader(fh, maxTokenFile+1))
	if err != nil || len(b) > maxTokenFile {
		return "", errors.New("cannot be read or is larger than 64 KiB")
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", errors.New("is empty")
	}
	if !validToken(s) {
		return "", errors.New("holds more than one token, or characters a token cannot have")
	}
	return s, nil
}

// validToken reports whether s is visible ASCII only, as a token sent in a
// header or form must be.
func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
