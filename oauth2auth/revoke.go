package oauth2auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/seed-d44eba79/authorizer"
	"github.com/seed-d44eba79/authorizer/internal/tokenwire"
	"golang.org/x/oauth2"
)

// SignOut forgets the user's tokens and revokes them at the provider.
//
// It deletes the cached tokens first (so the user is signed out locally
// even when the provider cannot be reached), then, when the environment has
// a RevocationURL (set or discovered), revokes the refresh token and the
// access token (RFC 7009), authenticating the client as for the token
// endpoint. Revoking the refresh token ends the whole grant at most
// providers. An access token the provider cannot revoke (a JWT,
// "unsupported_token_type") is skipped: it expires on its own.
//
// The error, if any, is an *[authorizer.AuthorizationError] (or an
// *[authorizer.InvalidClientError]) naming the failed revocation; the local
// tokens are gone either way. SignOut holds the cache lock, and honours
// ctx.
func (s *userSession) SignOut(ctx context.Context) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	tok := s.loadAny(ctx)
	if tok == nil {
		tok = s.last.Load()
	}
	s.last.Store(nil)
	s.refreshRefused.Store(false) // the next sign-in is a first one
	if err := s.cache.Delete(ctx, s.key); err != nil {
		return &authorizer.AuthorizationError{Message: "oauth2auth: deleting the cached tokens failed", Err: err}
	}
	s.o.logger.Info("oauth2auth: signed out locally", slog.String("flow", string(s.flow)))
	if tok == nil {
		return nil
	}
	return s.revokeAll(ctx, tok)
}

// revokeAll revokes tok's refresh token, then its access token.
func (s *userSession) revokeAll(ctx context.Context, tok *oauth2.Token) error {
	env, err := s.endpoints(ctx)
	if err != nil || env.RevocationURL == "" {
		return err
	}
	var errs []error
	if tok.RefreshToken != "" {
		errs = append(errs, s.revoke(ctx, env.RevocationURL, tok.RefreshToken, "refresh_token"))
	}
	if tok.AccessToken != "" {
		errs = append(errs, s.revoke(ctx, env.RevocationURL, tok.AccessToken, "access_token"))
	}
	return errors.Join(errs...)
}

// revoke makes one RFC 7009 §2.1 revocation request.
func (s *userSession) revoke(ctx context.Context, endpoint, token, hint string) error {
	req := s.o.request(s.info, "revocation", endpoint)
	req.Form = map[string][]string{"token": {token}, "token_type_hint": {hint}}
	a, err := tokenwire.Send(ctx, req)
	if err != nil {
		return err
	}
	if a.Status == http.StatusOK {
		s.o.logger.Debug("oauth2auth: revoked", slog.String("token_type_hint", hint))
		return nil
	}
	err = req.Refusal(a)
	var ae *authorizer.AuthorizationError
	if errors.As(err, &ae) && ae.Code == "unsupported_token_type" && hint == "access_token" {
		return nil // e.g. a JWT access token: it cannot be revoked, it expires
	}
	return err
}
