package oauth2auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

const brkSubject = "SUBJECTSECRETtoken0123456789"

func brkExchange(t *testing.T, answer func(url.Values) (int, string), opts ...Option) (*TokenExchangeAuthorizer, *exchangeServer, *fakeSubject) {
	t.Helper()
	s := newExchangeServer(t, answer)
	subj := &fakeSubject{}
	a, err := NewTokenExchangeAuthorizer(subj, s.env(), append([]Option{WithExchangeClient(exchanger)}, opts...)...)
	require.NoError(t, err)
	return a, s, subj
}

// A hostile endpoint puts the subject or actor token into issued_token_type
// or token_type: the typed error must not quote it.
func TestBreakTokenxAnswerFieldsEchoSecrets(t *testing.T) {
	actor := &TokenFile{path: filepath.Join(t.TempDir(), "actor"), now: time.Now}
	writeFile(t, actor.path, "ACTORSECRETtoken")
	for _, field := range []string{"issued_token_type", "token_type"} {
		for _, echo := range []string{"subject_token", "actor_token"} {
			t.Run(field+"="+echo, func(t *testing.T) {
				a, _, _ := brkExchange(t, func(f url.Values) (int, string) {
					m := map[string]any{"access_token": "x", "token_type": "Bearer", "issued_token_type": TokenTypeAccessToken}
					m[field] = "urn:" + f.Get(echo)
					b, _ := json.Marshal(m)
					return http.StatusOK, string(b)
				}, WithActorToken(actor, ""))
				_, err := a.Authorize(context.Background())
				require.Error(t, err)
				assert.NotContains(t, err.Error(), "SECRET", "a token sent quoted back in an error")
				assert.NotContains(t, err.Error(), "urn:s1", "the subject token quoted back in an error")
			})
		}
	}
}

// error_description echoing every secret, escaped, huge or with controls.
func TestBreakTokenxErrorDescriptionScrubbed(t *testing.T) {
	dir := t.TempDir()
	af := filepath.Join(dir, "assertion")
	writeFile(t, af, "ASSERTIONSECRETjwt")
	actor := &TokenFile{path: filepath.Join(dir, "actor"), now: time.Now}
	writeFile(t, actor.path, "ACTORSECRET/+=token")
	s := newExchangeServer(t, func(f url.Values) (int, string) {
		desc := f.Get("subject_token") + " " + url.QueryEscape(f.Get("actor_token")) + " " + f.Get("client_assertion") +
			"\r\n\x1b[31m" + strings.Repeat("A", 1<<16)
		b, _ := json.Marshal(map[string]string{"error": "invalid_target", "error_description": desc, "error_uri": f.Get("subject_token")})
		return http.StatusBadRequest, string(b)
	})
	var logs bytes.Buffer
	subj := &fakeSubject{}
	a, err := NewTokenExchangeAuthorizer(subj, s.env(), WithExchangeClient(data.ClientInfo{ClientID: "w"}),
		WithClientAssertionFile(af), WithActorToken(actor, ""), WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	require.Error(t, err)
	for _, out := range []string{err.Error(), logs.String()} {
		assert.NotContains(t, out, "SECRET")
		assert.NotContains(t, out, "s1")
		assert.NotContains(t, out, "\x1b")
		assert.Less(t, len(out), 4096)
	}
	assert.Len(t, s.requests(), 1, "invalid_target renews nothing")
}

// Which refusals renew the subject (once) and which do not.
func TestBreakTokenxRenewalCodes(t *testing.T) {
	cases := []struct {
		status int
		code   string
		renew  bool
	}{
		{400, "invalid_request", true}, {400, "invalid_grant", true}, {401, "invalid_token", true},
		{400, "invalid_target", false}, {401, "invalid_client", false}, {400, "invalid_scope", false},
		{400, "unauthorized_client", false}, {400, "unsupported_grant_type", false},
		{500, "invalid_request", false}, {503, "temporarily_unavailable", false},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.status, c.code), func(t *testing.T) {
			a, s, subj := brkExchange(t, func(url.Values) (int, string) {
				return c.status, `{"error":"` + c.code + `"}`
			})
			_, err := a.Authorize(context.Background())
			require.Error(t, err)
			var ae *authorizer.AuthorizationError
			var ic *authorizer.InvalidCredentialsError
			var cl *authorizer.InvalidClientError
			assert.True(t, errors.As(err, &ae) || errors.As(err, &ic) || errors.As(err, &cl), "typed: %T %v", err, err)
			want := 1
			if c.renew {
				want = 2
			}
			assert.Len(t, s.requests(), want, "exchanges")
			assert.EqualValues(t, 1, subj.authorizes.Load())
			assert.EqualValues(t, want-1, subj.refreshes.Load(), "renewals")
			if c.renew {
				assert.Equal(t, "s2", s.requests()[1].Get("subject_token"))
			}
		})
	}
}

// RFC 8693 form fields, exactly.
func TestBreakTokenxFormFields(t *testing.T) {
	dir := t.TempDir()
	actor := &TokenFile{path: filepath.Join(dir, "actor"), now: time.Now}
	writeFile(t, actor.path, "act")
	s := newExchangeServer(t, func(f url.Values) (int, string) {
		return http.StatusOK, `{"access_token":"x","token_type":"bearer","issued_token_type":"` + TokenTypeIDToken + `"}`
	})
	env := s.env()
	env.Audience = "aud0"
	env.Scopes = []string{"s0"}
	env.Resources = []string{"https://r0.example"}
	a, err := NewTokenExchangeAuthorizer(&fakeSubject{}, env, WithExchangeClient(exchanger), WithAudiences("aud1", "aud2"),
		WithExtraScopes("s1"), WithExtraResources("https://r1.example"), WithActorToken(actor, TokenTypeJWT),
		WithRequestedTokenType(TokenTypeIDToken), WithSubjectTokenType(TokenTypeIDToken))
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	require.NoError(t, err)
	f := s.requests()[0]
	assert.Equal(t, []string{grantTokenExchange}, f["grant_type"])
	assert.Equal(t, []string{"s1"}, f["subject_token"])
	assert.Equal(t, []string{TokenTypeIDToken}, f["subject_token_type"])
	assert.Equal(t, []string{"act"}, f["actor_token"])
	assert.Equal(t, []string{TokenTypeJWT}, f["actor_token_type"])
	assert.Equal(t, []string{TokenTypeIDToken}, f["requested_token_type"])
	assert.Equal(t, []string{"aud0", "aud1", "aud2"}, f["audience"])
	assert.Equal(t, []string{"https://r0.example", "https://r1.example"}, f["resource"])
	assert.Equal(t, []string{"s0 s1"}, f["scope"])
	assert.Empty(t, f["client_secret"], "basic auth, one way only")
	s.mu.Lock()
	assert.Equal(t, "basic:exchanger:exchanger-secret", s.auths[0])
	s.mu.Unlock()
}

// token_type other than Bearer, or a lying issued_token_type, is refused.
func TestBreakTokenxHostileAnswerTypes(t *testing.T) {
	for _, body := range []string{
		`{"access_token":"x","token_type":"DPoP","issued_token_type":"` + TokenTypeAccessToken + `"}`,
		`{"access_token":"x","token_type":"mac","issued_token_type":"` + TokenTypeAccessToken + `"}`,
		`{"access_token":"x","token_type":"Bearer","issued_token_type":"` + TokenTypeIDToken + `"}`,
		`{"access_token":"x","token_type":"Bearer","issued_token_type":"urn:ietf:params:oauth:token-type:refresh_token"}`,
		`{"access_token":"x","token_type":"Bearer","issued_token_type":""}`,
		`{"access_token":"x","token_type":"Bearer","issued_token_type":7}`,
		`{"access_token":"x","token_type":"Bearer"}`,
	} {
		a, s, _ := brkExchange(t, func(url.Values) (int, string) { return 200, body })
		tok, err := a.Authorize(context.Background())
		assert.Error(t, err, body)
		assert.Nil(t, tok)
		assert.Len(t, s.requests(), 1, body)
	}
}

func TestBreakTokenxOtherFlowOptionsRefused(t *testing.T) {
	env := Environment{TokenURL: "https://idp.example/token"}
	for name, opt := range map[string]Option{
		"WithTokenCache": WithTokenCache(nil), "WithDevicePrompt": WithDevicePrompt(nil),
		"WithInteractiveReauth": WithInteractiveReauth(true), "WithSignInTimeout": WithSignInTimeout(time.Minute),
	} {
		_, err := NewTokenExchangeAuthorizer(&fakeSubject{}, env, WithExchangeClient(exchanger), opt)
		var ice *authorizer.InvalidConfigError
		assert.ErrorAs(t, err, &ice, name)
	}
	for name, opt := range map[string]Option{
		"WithAudiences": WithAudiences("a"), "WithRequestedTokenType": WithRequestedTokenType(TokenTypeJWT),
		"WithExchangeClient": WithExchangeClient(exchanger),
	} {
		_, err := NewServiceAccountAuthorizer(exchanger, env, opt)
		var ice *authorizer.InvalidConfigError
		assert.ErrorAs(t, err, &ice, name)
	}
}

// invalid_client: an assertion file is re-read and retried once; with a
// subject refusal too, never more than 2x2 requests.
func TestBreakTokenxInvalidClientRetryCount(t *testing.T) {
	af := filepath.Join(t.TempDir(), "assertion")
	writeFile(t, af, "ASSERTIONSECRET")
	s := newExchangeServer(t, func(url.Values) (int, string) { return 401, `{"error":"invalid_client"}` })
	a, err := NewTokenExchangeAuthorizer(&fakeSubject{}, s.env(), WithExchangeClient(data.ClientInfo{ClientID: "w"}), WithClientAssertionFile(af))
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	var ic *authorizer.InvalidClientError
	require.ErrorAs(t, err, &ic)
	assert.Len(t, s.requests(), 2, "read once more, sent once more, no subject renewal")

	// secret client: no retry
	s2 := newExchangeServer(t, func(url.Values) (int, string) { return 401, `{"error":"invalid_client"}` })
	a2, err := NewTokenExchangeAuthorizer(&fakeSubject{}, s2.env(), WithExchangeClient(exchanger))
	require.NoError(t, err)
	_, err = a2.Authorize(context.Background())
	require.ErrorAs(t, err, &ic)
	assert.Len(t, s2.requests(), 1)
}

// Printing never shows the held subject token, actor token, secret or assertion.
func TestBreakTokenxPrintingShowsNoSecret(t *testing.T) {
	dir := t.TempDir()
	tf := &TokenFile{path: filepath.Join(dir, "subject"), now: time.Now}
	writeFile(t, tf.path, brkSubject)
	actor := &TokenFile{path: filepath.Join(dir, "actor"), now: time.Now}
	writeFile(t, actor.path, "ACTORSECRET")
	s := newExchangeServer(t, func(url.Values) (int, string) {
		return 200, `{"access_token":"EXCHANGEDSECRET","token_type":"Bearer","issued_token_type":"` + TokenTypeAccessToken + `"}`
	})
	a, err := NewTokenExchangeAuthorizer(tf, s.env(), WithExchangeClient(data.ClientInfo{ClientID: "c", ClientSecret: "CLIENTSECRET"}), WithActorToken(actor, ""))
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	require.NoError(t, err)
	var out bytes.Buffer
	for _, v := range []any{a, *a, tf, *tf} {
		fmt.Fprintf(&out, "%v %+v %#v %s\n", v, v, v, v)
		b, _ := json.Marshal(v)
		out.Write(b)
		slog.New(slog.NewJSONHandler(&out, nil)).Info("x", "v", v)
		slog.New(slog.NewTextHandler(&out, nil)).Info("x", "v", v)
	}
	assert.NotContains(t, out.String(), "SECRET")
}

// A token file that is a FIFO must not block past ctx (nor forever).
func TestBreakTokenxFIFOHonoursContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip("no FIFO here:", err)
	}
	t.Cleanup(func() { // unblock a reader stuck in open, so nothing leaks
		if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
	})
	tf, err := NewTokenFile(path)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { _, err := tf.Authorize(ctx); done <- err }()
	select {
	case err := <-done:
		require.Error(t, err)
	case <-time.After(20 * time.Second): // only a hang fails this
		t.Fatal("TokenFile.Authorize blocks on a FIFO past ctx")
	}
}

func TestBreakTokenxFileContent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tok")
	tf, _ := NewTokenFile(path)
	writeFile(t, path, "\r\n  tok-A\r\n\r\n")
	tok, err := tf.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "tok-A", tok.AccessToken)
	for _, bad := range []string{"", " \r\n\t", "SECRETa\r\nSECRETb", "SECRET a", strings.Repeat("SECRET", 64<<10/6+2), "SECRET\x00"} {
		writeFile(t, path, bad)
		_, err := tf.Authorize(context.Background())
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "SECRET")
		var ae *authorizer.AuthorizationError
		assert.ErrorAs(t, err, &ae)
	}
	// a symlink (as Kubernetes' ..data/token) is followed and re-resolved every read
	writeFile(t, filepath.Join(dir, "a"), "tok-a")
	writeFile(t, filepath.Join(dir, "b"), "tok-b")
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(filepath.Join(dir, "a"), link))
	lf, _ := NewTokenFile(link)
	tok, err = lf.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "tok-a", tok.AccessToken)
	require.NoError(t, os.Remove(link))
	require.NoError(t, os.Symlink(filepath.Join(dir, "b"), link))
	tok, err = lf.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "tok-b", tok.AccessToken)
	// same mtime, new content: still re-read
	st, _ := os.Stat(path)
	writeFile(t, path, "tok-C")
	require.NoError(t, os.Chtimes(path, st.ModTime(), st.ModTime()))
	tok, err = tf.Authorize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "tok-C", tok.AccessToken)
}

// The issued access token itself put into issued_token_type or token_type
// must not reach the error (and so the logs) either.
func TestBreakTokenxAnswerFieldsEchoIssuedToken(t *testing.T) {
	for _, body := range []string{
		`{"access_token":"ISSUEDSECRET","token_type":"Bearer","issued_token_type":"ISSUEDSECRET"}`,
		`{"access_token":"ISSUEDSECRET","token_type":"ISSUEDSECRET","issued_token_type":"` + TokenTypeAccessToken + `"}`,
	} {
		a, _, _ := brkExchange(t, func(url.Values) (int, string) { return 200, body })
		_, err := a.Authorize(context.Background())
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "SECRET", body)
	}
}

// brkPanicSubject panics in Authorize.
type brkPanicSubject struct{ fakeSubject }

func (*brkPanicSubject) Authorize(context.Context) (*oauth2.Token, error) { panic("subject bug") }

// A subject that panics, through a Transport: a typed error, no crash.
func TestBreakTokenxPanickingSubjectThroughTransport(t *testing.T) {
	s := newExchangeServer(t, exchanged)
	a, err := NewTokenExchangeAuthorizer(&brkPanicSubject{}, s.env(), WithExchangeClient(exchanger))
	require.NoError(t, err)
	tr, err := base.New(a, base.InsecureAllowHTTP())
	require.NoError(t, err)
	defer tr.Close()
	_, err = tr.Token(context.Background())
	var ae *authorizer.AuthorizationError
	assert.ErrorAs(t, err, &ae)
	assert.Empty(t, s.requests())
}

// Authorize's doc: with a subject that honours ctx (as base.Authorizer
// requires), it returns an error wrapping ctx.Err() once ctx is done, and
// sends nothing. (A subject that ignores ctx holds the exchange: the doc
// says so; through a Transport the caller is freed at its own ctx.)
func TestBreakTokenxSubjectHonouringContext(t *testing.T) {
	s := newExchangeServer(t, exchanged)
	a, err := NewTokenExchangeAuthorizer(brkBlockingSubject{}, s.env(), WithExchangeClient(exchanger))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := a.Authorize(ctx); done <- err }()
	cancel()
	err = <-done
	assert.ErrorIs(t, err, context.Canceled)
	var se *SubjectTokenError
	assert.ErrorAs(t, err, &se)
	assert.Empty(t, s.requests())
}

// brkBlockingSubject blocks every call until its ctx is done.
type brkBlockingSubject struct{}

func (brkBlockingSubject) Authorize(ctx context.Context) (*oauth2.Token, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}
func (b brkBlockingSubject) Refresh(ctx context.Context, _ *oauth2.Token) (*oauth2.Token, error) {
	return b.Authorize(ctx)
}
func (brkBlockingSubject) Expired(tok *oauth2.Token) bool { return base.TokenExpired(tok, time.Now()) }

// The error code itself, and lower-case percent-encoding, echoing a secret.
func TestBreakTokenxErrorCodeAndEncodingsScrubbed(t *testing.T) {
	sub := &TokenFile{path: filepath.Join(t.TempDir(), "subject"), now: time.Now}
	writeFile(t, sub.path, "SECRET/+=~tok")
	for _, echo := range []func(string) string{
		func(s string) string { return `{"error":"` + s + `"}` },
		func(s string) string {
			return `{"error":"invalid_target","error_description":"` + strings.NewReplacer("%2F", "%2f", "%2B", "%2b", "%3D", "%3d").Replace(url.QueryEscape(s)) + `"}`
		},
		func(s string) string { return "error=invalid_target&error_description=" + url.QueryEscape(s) },
	} {
		s := newExchangeServer(t, func(f url.Values) (int, string) { return 400, echo(f.Get("subject_token")) })
		a, err := NewTokenExchangeAuthorizer(sub, s.env(), WithExchangeClient(exchanger))
		require.NoError(t, err)
		_, err = a.Authorize(context.Background())
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "SECRET")
	}
}

// A server that quotes only a prefix of a long subject token (a JWT's
// header and claims) is not caught by Scrub, which looks for whole secrets.
func TestBreakTokenxTruncatedEcho(t *testing.T) {
	sub := &TokenFile{path: filepath.Join(t.TempDir(), "subject"), now: time.Now}
	secret := "SECRET" + strings.Repeat("abcdefghij", 40)
	writeFile(t, sub.path, secret)
	s := newExchangeServer(t, func(f url.Values) (int, string) {
		return 400, `{"error":"invalid_grant","error_description":"bad subject token ` + f.Get("subject_token")[:200] + `..."}`
	})
	a, err := NewTokenExchangeAuthorizer(sub, s.env(), WithExchangeClient(exchanger))
	require.NoError(t, err)
	_, err = a.Authorize(context.Background())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRET")
	assert.NotContains(t, err.Error(), "abcdefghijabcdef")
	assert.Contains(t, err.Error(), "bad subject token")
}

// An assertion file that is a FIFO or holds junk fails the request at once,
// sends nothing and quotes nothing.
func TestBreakTokenxAssertionFileHostile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFO here:", err)
	}
	t.Cleanup(func() {
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
	})
	junk := filepath.Join(dir, "junk")
	writeFile(t, junk, "SECRETa SECRETb")
	for _, path := range []string{fifo, junk, dir} {
		s := newExchangeServer(t, exchanged)
		a, err := NewTokenExchangeAuthorizer(&fakeSubject{}, s.env(), WithExchangeClient(data.ClientInfo{ClientID: "w"}), WithClientAssertionFile(path))
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		done := make(chan error, 1)
		go func() { _, err := a.Authorize(ctx); done <- err }()
		select {
		case err := <-done:
			require.Error(t, err)
			assert.NotContains(t, err.Error(), "SECRET")
			assert.Contains(t, err.Error(), path)
		case <-time.After(20 * time.Second): // only a hang fails this
			t.Fatal("an assertion file blocks past ctx:", path)
		}
		cancel()
		assert.Empty(t, s.requests())
	}
}

// A file rotated by atomic rename (as kubelet does) is never read torn:
// every token read is one that was written whole.
func TestBreakTokenxFileRotatedConcurrently(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token")
	writeFile(t, path, "tok-0000000000")
	tf, _ := NewTokenFile(path)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			tmp := filepath.Join(dir, fmt.Sprintf("tmp%d", i))
			writeFile(t, tmp, fmt.Sprintf("tok-%010d\n", i))
			if err := os.Rename(tmp, path); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	var readers sync.WaitGroup
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for range 300 {
				tok, err := tf.Authorize(context.Background())
				if assert.NoError(t, err) {
					assert.Len(t, tok.AccessToken, 14)
				}
			}
		}()
	}
	readers.Wait()
	close(stop)
	wg.Wait()
}
