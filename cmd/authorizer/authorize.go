package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/oauth2"

	"github.com/seed-d44eba79/authorizer"

	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
	"github.com/seed-d44eba79/authorizer/oauth2auth"
	"github.com/seed-d44eba79/authorizer/srp"
)

// userAuthorizer is what the device and browser authorizers have in common.
type userAuthorizer interface {
	base.Authorizer
	SignIn(context.Context) (*oauth2.Token, error)
	SignOut(context.Context) error
}

// newSession builds the environment's authorizer on the encrypted cache.
func newSession(ctx context.Context, g *globals, c *envConfig, forceDevice bool) (*session, error) {
	cache, err := openCache(g.cacheDir)
	if err != nil {
		return nil, err
	}
	s := &session{cfg: c, cache: cache, key: cacheKey(c)}
	if s.info, err = clientInfo(c); err != nil {
		return nil, err
	}
	switch c.Flow {
	case flowDevice, flowBrowser:
		s.user, err = newUser(g, s, forceDevice || c.Flow == flowDevice || !browserAvailable())
	case flowSRP:
		err = s.newSRP(ctx, g)
	default:
		var a *oauth2auth.ServiceAccountAuthorizer
		if a, err = oauth2auth.NewServiceAccountAuthorizer(s.info, c.OAuth, oauth2auth.WithLogger(g.logger)); err == nil {
			s.transport, err = s.newTransport(g, a)
		}
	}
	return s, err
}

// clientInfo reads the client's id and secrets.
func clientInfo(c *envConfig) (data.ClientInfo, error) {
	info := data.ClientInfo{ClientID: c.ClientID, ClientSecret: c.clientSecret, APIKey: c.apiKey}
	var err error
	if info.ClientSecret == "" {
		if info.ClientSecret, err = secret(c.ClientSecretEnv, c.ClientSecretFile, "client secret"); err != nil {
			return info, err
		}
	}
	if info.APIKey == "" {
		if info.APIKey, err = secret(c.APIKeyEnv, c.APIKeyFile, "API key"); err != nil {
			return info, err
		}
	}
	if strings.ContainsFunc(info.APIKey, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		// A newline would end the X-Api-Key header (and curl's config line).
		return info, &authorizer.InvalidConfigError{Setting: "API key", Problem: "holds a control character (a newline?)"}
	}
	return info, nil
}

// newTransport serves a's tokens through the file cache (one request
// across runs, and across processes thanks to the cache's lock).
func (s *session) newTransport(g *globals, a base.Authorizer) (*base.Transport, error) {
	return base.New(a, base.WithCache(s.cache, s.key), base.WithLogger(g.logger), base.WithAPIKey(s.info.APIKey))
}

// newSRP builds the Cognito SRP authorizer; the password is read from the
// environment variable or file the configuration names, or prompted for
// (the prompt gives up when ctx is done).
func (s *session) newSRP(ctx context.Context, g *globals) error {
	pw, err := secret(s.cfg.PasswordEnv, s.cfg.PasswordFile, "password")
	if err != nil {
		return err
	}
	if pw == "" {
		// Only when no token is cached does the password matter.
		if tok, _ := s.cache.Load(ctx, s.key); tok == nil || g.refresh {
			if pw, err = promptPassword(ctx, s.cfg.UserName); err != nil {
				return err
			}
		}
	}
	a, err := srp.NewAuthorizer(s.info, data.UserCredentials{UserName: s.cfg.UserName, Password: pw}, s.cfg.SRP)
	if err != nil {
		return err
	}
	s.transport, err = s.newTransport(g, a)
	return err
}

// newUser builds the device or browser authorizer on the cache.
func newUser(g *globals, s *session, device bool) (userAuthorizer, error) {
	opts := []oauth2auth.Option{oauth2auth.WithTokenCache(s.cache), oauth2auth.WithCacheKey(s.key),
		oauth2auth.WithLogger(g.logger), oauth2auth.WithInteractiveReauth(true)}
	if device {
		opts = append(opts, oauth2auth.WithDevicePrompt(oauth2auth.DevicePromptWriter(os.Stderr)))
		return oauth2auth.NewDeviceAuthorizer(s.info, s.cfg.OAuth, opts...)
	}
	g.opener.cfg = s.cfg
	opts = append(opts, oauth2auth.WithBrowserOpener(g.opener.open))
	return oauth2auth.NewBrowserAuthorizer(s.info, s.cfg.OAuth, opts...)
}

// browserAvailable reports whether a browser can likely be opened: not
// over SSH, and on Linux/BSD with a display or $BROWSER.
func browserAvailable() bool {
	if os.Getenv("SSH_CONNECTION") != "" || os.Getenv("SSH_TTY") != "" {
		return false
	}
	switch runtime.GOOS {
	case "darwin", "windows":
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != "" || os.Getenv("BROWSER") != ""
}

// opener opens the browser and remembers a failure, so that the sign-in
// can fall back to the device flow.
type opener struct {
	cfg    *envConfig // whose secret variables the browser must not see
	failed bool
	cancel context.CancelFunc
}

func (o *opener) open(ctx context.Context, url string) error {
	var err error
	if b := os.Getenv("BROWSER"); b != "" {
		// $BROWSER is a command (no shell) that returns once the page is open.
		cmd := exec.CommandContext(ctx, b, url)
		cmd.Env = childEnv(o.cfg)
		err = cmd.Run()
	} else {
		err = oauth2auth.OpenSystemBrowser(ctx, url)
	}
	if err != nil {
		o.failed = true
		if o.cancel != nil {
			o.cancel()
		}
	}
	return err
}

// token returns a valid token: the cached one, refreshed, or a new one.
func (s *session) token(ctx context.Context, g *globals) (*oauth2.Token, error) {
	if s.transport != nil {
		if g.refresh {
			if err := s.cache.Delete(ctx, s.key); err != nil {
				return nil, err
			}
		}
		return s.transport.Token(ctx)
	}
	tok, err := s.userCall(ctx, g, func(ctx context.Context, u userAuthorizer) (*oauth2.Token, error) {
		return u.Authorize(ctx)
	})
	if err != nil || !g.refresh {
		return tok, err
	}
	return s.user.Refresh(ctx, tok)
}

// userCall runs f, and again with the device flow when the browser could
// not be opened.
func (s *session) userCall(ctx context.Context, g *globals, f func(context.Context, userAuthorizer) (*oauth2.Token, error)) (*oauth2.Token, error) {
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g.opener.cancel = cancel
	tok, err := f(bctx, s.user)
	if err == nil || !g.opener.failed || ctx.Err() != nil {
		return tok, err
	}
	g.info("could not open a browser; signing in with a device code instead")
	d, derr := newUser(g, s, true)
	if derr != nil {
		return nil, derr
	}
	s.user = d
	return f(ctx, d)
}

// close releases the transport.
func (s *session) close() {
	if s.transport != nil {
		_ = s.transport.Close()
	}
}

// newLogger writes the SDK's warnings to stderr, nothing with --quiet.
func newLogger(quiet bool) *slog.Logger {
	if quiet {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
