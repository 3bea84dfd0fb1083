package oauth2auth

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
}

func TestTokenFileIsReadForEveryToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	f, err := NewTokenFile(path)
	require.NoError(t, err)
	_, err = f.Authorize(context.Background())
	var ae *authorizer.AuthorizationError
	require.ErrorAs(t, err, &ae, "a missing file")
	assert.Contains(t, err.Error(), path)

	writeFile(t, path, "  first.jwt.token\n")
	tok, err := f.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "first.jwt.token", tok.AccessToken)
	assert.True(t, f.Expired(tok), "never fresh: the next use reads the file again")

	// Rewritten with the same size and modification time: still read again.
	info, err := os.Stat(path)
	require.NoError(t, err)
	writeFile(t, path, "  other.jwt.token\n")
	require.NoError(t, os.Chtimes(path, info.ModTime(), info.ModTime()))
	tok, err = f.Refresh(context.Background(), tok)
	require.NoError(t, err)
	assert.Equal(t, "other.jwt.token", tok.AccessToken)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = f.Refresh(ctx, tok)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestTokenFileRefusesBadContent(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, content string }{
		{"empty", " \n"},
		{"two tokens", "SECRET-a.b.c\nSECRET-d.e.f\n"},
		{"control character", "SECRET-a\x01b"},
		{"too large", strings.Repeat("S", maxTokenFile+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			writeFile(t, path, tt.content)
			f, err := NewTokenFile(path)
			require.NoError(t, err)
			_, err = f.Authorize(context.Background())
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "SECRET", "the content is never quoted")
		})
	}
	_, err := NewTokenFile("")
	var ce *authorizer.InvalidConfigError
	require.ErrorAs(t, err, &ce)
}

func TestTokenExchangeSubjectFromFile(t *testing.T) {
	s := newExchangeServer(t, exchanged)
	path := filepath.Join(t.TempDir(), "subject")
	f, err := NewTokenFile(path)
	require.NoError(t, err)
	a, err := NewTokenExchangeAuthorizer(f, s.env(), WithExchangeClient(exchanger))
	require.NoError(t, err)
	for _, subject := range []string{"one", "two"} {
		writeFile(t, path, subject+"\n")
		tok, err := a.Authorize(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "x-"+subject, tok.AccessToken, "the file's current content was exchanged")
	}
	forms := s.requests()
	assert.Equal(t, TokenTypeJWT, forms[0].Get("subject_token_type"), "a file's default subject type")
}

// assertionServer answers invalid_client to the assertions in refuse, and
// calls onRefuse (if set) before answering.
type assertionServer struct {
	*exchangeServer
	mu       sync.Mutex // guards refuse
	refuse   map[string]bool
	onRefuse func()
}

func newAssertionServer(t *testing.T) *assertionServer {
	a := &assertionServer{refuse: map[string]bool{}}
	a.exchangeServer = newExchangeServer(t, func(f url.Values) (int, string) {
		a.mu.Lock()
		refused, hook := a.refuse[f.Get("client_assertion")], a.onRefuse
		a.mu.Unlock()
		if refused {
			if hook != nil {
				hook()
			}
			return http.StatusUnauthorized, `{"error":"invalid_client","error_description":"assertion ` + f.Get("client_assertion") + ` expired"}`
		}
		return http.StatusOK, `{"access_token":"at","token_type":"Bearer","expires_in":60}`
	})
	return a
}

func TestClientAssertionFile(t *testing.T) {
	s := newAssertionServer(t)
	path := filepath.Join(t.TempDir(), "assertion")
	sa, err := NewServiceAccountAuthorizer(data.ClientInfo{ClientID: "workload"}, s.env(), WithClientAssertionFile(path))
	require.NoError(t, err, "the file need not exist yet")

	_, err = sa.Authorize(context.Background())
	require.Error(t, err, "no file")
	assert.Contains(t, err.Error(), path)
	assert.Empty(t, s.requests(), "nothing sent without an assertion")

	writeFile(t, path, "assertion-A\n")
	_, err = sa.Authorize(context.Background())
	require.NoError(t, err)
	writeFile(t, path, "assertion-B\n")
	_, err = sa.Authorize(context.Background())
	require.NoError(t, err)
	forms := s.requests()
	require.Len(t, forms, 2)
	for i, want := range []string{"assertion-A", "assertion-B"} {
		assert.Equal(t, want, forms[i].Get("client_assertion"), "request %d", i)
		assert.Equal(t, "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", forms[i].Get("client_assertion_type"))
		assert.Equal(t, "workload", forms[i].Get("client_id"))
	}
}

func TestClientAssertionFileInvalidClientRereadsOnce(t *testing.T) {
	s := newAssertionServer(t)
	path := filepath.Join(t.TempDir(), "assertion")
	writeFile(t, path, "SECRET-expired-assertion")
	s.refuse["SECRET-expired-assertion"] = true
	// the platform rotates the file while the first request is answered
	s.onRefuse = func() { writeFile(t, path, "rotated-assertion") }
	sa, err := NewServiceAccountAuthorizer(data.ClientInfo{ClientID: "workload"}, s.env(), WithClientAssertionFile(path))
	require.NoError(t, err)
	_, err = sa.Authorize(context.Background())
	require.NoError(t, err)
	forms := s.requests()
	require.Len(t, forms, 2)
	assert.Equal(t, "SECRET-expired-assertion", forms[0].Get("client_assertion"))
	assert.Equal(t, "rotated-assertion", forms[1].Get("client_assertion"))

	// Refused again after the re-read: one retry only, InvalidClientError,
	// and neither assertion in the message.
	s.mu.Lock()
	s.refuse["rotated-assertion"], s.refuse["SECRET-second"] = true, true
	s.onRefuse = func() { writeFile(t, path, "SECRET-second") }
	s.mu.Unlock()
	_, err = sa.Authorize(context.Background())
	var ic *authorizer.InvalidClientError
	require.ErrorAs(t, err, &ic)
	assert.Len(t, s.requests(), 4)
	assert.NotContains(t, err.Error(), "rotated-assertion")
	assert.NotContains(t, err.Error(), "SECRET")
}

func TestClientAssertionFileWithoutFileDoesNotRetry(t *testing.T) {
	s := newAssertionServer(t)
	s.refuse[""] = true // a secret client: no assertion at all
	sa, err := NewServiceAccountAuthorizer(exchanger, s.env(), WithClientAuth(ClientSecretPost))
	require.NoError(t, err)
	_, err = sa.Authorize(context.Background())
	var ic *authorizer.InvalidClientError
	require.ErrorAs(t, err, &ic)
	assert.Len(t, s.requests(), 1, "only an assertion file is re-read and retried")
}

func TestClientAssertionFileConflicts(t *testing.T) {
	env := Environment{TokenURL: "https://idp.example/token"}
	info := data.ClientInfo{ClientID: "workload"}
	for _, opts := range [][]Option{
		{WithClientAssertionFile("a"), WithClientAuth(ClientSecretBasic)},
		{WithClientAuth(ClientSecretBasic), WithClientAssertionFile("a")},
		{WithClientAssertionFile("a"), WithPrivateKeyJWT(nil, "")},
		{WithPrivateKeyJWT(peerDeviceJWTKey(), ""), WithClientAssertionFile("a")},
	} {
		_, err := NewServiceAccountAuthorizer(info, env, opts...)
		var ce *authorizer.InvalidConfigError
		require.ErrorAs(t, err, &ce)
	}
	env.ClientAuth = "client_secret_basic"
	_, err := NewServiceAccountAuthorizer(info, env, WithClientAssertionFile("a"))
	var ce *authorizer.InvalidConfigError
	require.ErrorAs(t, err, &ce, "with Environment.ClientAuth")
}
