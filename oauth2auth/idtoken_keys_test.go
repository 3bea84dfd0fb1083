package oauth2auth

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// unverifiedIDToken is an ID token with valid claims and a bogus
// signature: verifying it makes the verifier fetch the key set.
func unverifiedIDToken(issuer string) string {
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	claims := fmt.Sprintf(`{"iss":%q,"aud":"cli","sub":"u","iat":%d,"exp":%d}`, issuer, time.Now().Unix(), time.Now().Add(time.Hour).Unix())
	return seg(`{"alg":"RS256","kid":"k1"}`) + "." + seg(claims) + "." + seg("not a signature")
}

// Issue 16 item 3: the key-set fetch reads at most 1 MiB, and a hostile
// error page (big, with terminal escapes) is not quoted in the error.
func TestKeySetFetchIsCappedAndNotQuoted(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusOK} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			page := "\x1b[2J\x1b]0;pwned\x07" + strings.Repeat("A", 3<<20)
			keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(status)
				_, _ = w.Write([]byte(page))
			}))
			defer keys.Close()
			v := newIDTokenVerifier("https://idp.example", keys.URL, "cli", nil, time.Now)
			err := v.verify(context.Background(), unverifiedIDToken("https://idp.example"), "")
			require.Error(t, err)
			assert.Less(t, len(err.Error()), 2048, "the error quotes the body")
			assert.NotContains(t, err.Error(), "\x1b")
		})
	}
}

// Issue 16 item 1: the key-set fetch follows no redirect.
func TestKeySetFetchDoesNotFollowRedirects(t *testing.T) {
	var hit atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hit.Store(true)
		fmt.Fprint(w, `{"keys":[]}`)
	}))
	defer other.Close()
	keys := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/jwks", http.StatusFound)
	}))
	defer keys.Close()
	v := newIDTokenVerifier("https://idp.example", keys.URL, "cli", nil, time.Now)
	err := v.verify(context.Background(), unverifiedIDToken("https://idp.example"), "")
	require.Error(t, err)
	assert.False(t, hit.Load(), "the redirect was followed")
}
