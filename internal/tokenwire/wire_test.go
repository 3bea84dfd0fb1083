package tokenwire

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
)

// Issue 16 item 7: token_type Bearer in any case is accepted (and sent as
// "Bearer"); any other type is refused with a typed error.
func TestTokenType(t *testing.T) {
	tests := []struct {
		name, tokenType string
		wantErr         bool
	}{
		{"Bearer", "Bearer", false}, {"bearer", "bearer", false}, {"BEARER", "BEARER", false},
		{"none", "", false},
		{"DPoP", "DPoP", true}, {"Basic", "Basic", true}, {"mac", "mac", true}, {"escape", "x\x1b[2J", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typ, _ := json.Marshal(tt.tokenType)
			body := fmt.Sprintf(`{"access_token":"at","token_type":%s,"expires_in":60}`, typ)
			tok, err := ParseResponse(http.StatusOK, jsonHeader(), []byte(body), t0, 0)
			if !tt.wantErr {
				if err != nil || tok.TokenType != "Bearer" {
					t.Fatalf("got %v, %v; want a Bearer token", tok, err)
				}
				return
			}
			var tte *UnsupportedTokenTypeError
			if !errors.As(err, &tte) {
				t.Fatalf("err = %v; want *UnsupportedTokenTypeError", err)
			}
			if tte.Temporary() || strings.ContainsRune(err.Error(), '\x1b') {
				t.Errorf("err = %q: must not be temporary nor carry control characters", err)
			}
		})
	}
}

// Issue 16 item 8: an access token that is not a valid header value is
// refused when it arrives, not cached.
func TestAccessTokenSyntax(t *testing.T) {
	for _, access := range []string{"a\r\nX-Evil: 1", "a b", "a\tb", "tök", "a\x00"} {
		a, _ := json.Marshal(access)
		body := fmt.Sprintf(`{"access_token":%s,"token_type":"Bearer","expires_in":1e18}`, a)
		_, err := ParseResponse(http.StatusOK, jsonHeader(), []byte(body), t0, 0)
		var ae *authorizer.AuthorizationError
		if !errors.As(err, &ae) {
			t.Errorf("access_token %q: err = %v; want *authorizer.AuthorizationError", access, err)
		}
	}
	for _, access := range []string{"abc-._~+/=", "eyJhbGciOi.eyJzdWIi.sig", "a:b@c!"} {
		body := fmt.Sprintf(`{"access_token":%q,"token_type":"Bearer"}`, access)
		if _, err := ParseResponse(http.StatusOK, jsonHeader(), []byte(body), t0, 0); err != nil {
			t.Errorf("access_token %q refused: %v", access, err)
		}
	}
}

// Issue 16 item 9: an error description that echoes what was sent does not
// carry the secrets into the error.
func TestErrorsScrubSentSecrets(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		_, secret, _ := r.BasicAuth()
		echo := "you sent client_secret=" + url.QueryEscape(secret) + " secret " + secret + " " + r.PostForm.Encode()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":"invalid_request %s","error_description":%q,"error_uri":%q}`,
			r.PostForm.Get("refresh_token"), echo, "https://x/?rt="+r.PostForm.Get("refresh_token"))
	}))
	defer srv.Close()
	secrets := []string{"s3cr3t/+ value", "rt-VERY-SECRET", "code-SECRET", "verifier-SECRET"}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {secrets[1]},
		"code": {secrets[2]}, "code_verifier": {secrets[3]}}
	for _, auth := range []ClientAuth{AuthBasic, AuthPost, AuthPrivateKeyJWT} {
		r := Request{URL: srv.URL, Client: data.ClientInfo{ClientID: "id", ClientSecret: secrets[0]}, Auth: auth,
			Assertion: KeySigner{Key: key}.Sign, Form: form}
		_, err := Do(context.Background(), r)
		if err == nil {
			t.Fatal("Do succeeded")
		}
		msg := fmt.Sprintf("%v %+v", err, err)
		var ae *authorizer.AuthorizationError
		if errors.As(err, &ae) {
			msg += ae.Code + ae.Description + ae.URI
		}
		for _, s := range append(secrets, url.QueryEscape(secrets[0]), "eyJ") {
			if strings.Contains(msg, s) {
				t.Errorf("%v: error %q quotes %q", auth, msg, s)
			}
		}
		if !strings.Contains(msg, Redacted) {
			t.Errorf("%v: error %q does not say what was redacted", auth, msg)
		}
	}
}

// Issue 16 item 6 (shared with oauth2auth's callback): Clean never cuts a
// character in half and removes control characters.
func TestCleanKeepsCharactersWhole(t *testing.T) {
	s := strings.Repeat("é", maxFieldLen) // 2 bytes each: byte maxFieldLen is mid-rune for odd cuts
	got := Clean("x" + s)
	if !utf8.ValidString(got) {
		t.Errorf("Clean cut a character in half: %q", got[len(got)-8:])
	}
	if got := Clean("a\x1b[31mb\r\nc\u2028d"); strings.ContainsFunc(got, unicode.IsControl) || strings.ContainsRune(got, '\u2028') {
		t.Errorf("Clean left control characters: %q", got)
	}
}

func FuzzClean(f *testing.F) {
	f.Add("plain", "secret")
	f.Add("a\x1b[2Jb\xff\xfe"+strings.Repeat("é", 200), "é")
	f.Fuzz(func(t *testing.T, s, secret string) {
		got := Clean(Scrub(s, secret))
		if !utf8.ValidString(got) || strings.ContainsFunc(got, unicode.IsControl) {
			t.Fatalf("Clean(%q) = %q: invalid UTF-8 or a control character", s, got)
		}
		if len(got) > maxFieldLen+len("…") {
			t.Fatalf("Clean(%q) is %d bytes long", s, len(got))
		}
		if len(secret) >= 4 && !strings.Contains(Redacted, secret) && strings.Contains(Scrub(s, secret), secret) {
			t.Fatalf("Scrub left %q in %q", secret, s)
		}
	})
}
