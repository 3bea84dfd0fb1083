package oauth2auth

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/seed-d44eba79/authorizer"
	"golang.org/x/oauth2"
)

// SignOut forgets the user's tokens and revokes them at the provider.
//
// It deletes the cached tokens first (so the user is signed out locally
// even when the provider cannot be reached), then, when the environment has
// a RevocationURL (set or discovered), revokes the refresh token and the
// access token (RFC 7009). Revoking the refresh token ends the whole grant
// at most providers. An access token the provider cannot revoke (a JWT,
// "unsupported_token_type") is skipped: it expires on its own.
//
// The error, if any, is an *authorizer.AuthorizationError (or an
// InvalidClientError) naming the failed revocation; the local tokens are
// gone either way. SignOut holds the cache lock, and honours ctx.
func (s *userSession) SignOut(ctx context.Context) error {
	unlock, err := s.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	tok := s.load(ctx)
	if tok == nil {
		tok = s.last.Load()
	}
	s.last.Store(nil)
	s.refreshRefused.Store(false) // the next sign-in is a first one
	if err := s.cache.Delete(ctx, s.key); err != nil {
		return &authorizer.AuthorizationError{Message: "oauth2auth: deleting the cached tokens failed", Err: err}
	}
	s.deps.logger.Info("oauth2auth: signed out locally", slog.String("flow", s.flow))
	if tok == nil {
		return nil
	}
	return s.revokeAll(ctx, tok)
}

// revokeAll revokes tok's refresh token, then its access token.
func (s *userSession) revokeAll(ctx context.Context, tok *oauth2.Token) error {
	env, err := s.revocationEndpoint(ctx)
	if err != nil || env == "" {
		return err
	}
	var errs []error
	if tok.RefreshToken != "" {
		errs = append(errs, s.revoke(ctx, env, tok.RefreshToken, "refresh_token"))
	}
	if tok.AccessToken != "" {
		errs = append(errs, s.revoke(ctx, env, tok.AccessToken, "access_token"))
	}
	return errors.Join(errs...)
}

// revocationEndpoint returns the RevocationURL, discovering it when needed;
// "" when the provider has none.
func (s *userSession) revocationEndpoint(ctx context.Context) (string, error) {
	env, err := s.endpoints(ctx)
	if err != nil {
		return "", err
	}
	return env.RevocationURL, nil
}

// revoke makes one RFC 7009 §2.1 revocation request.
func (s *userSession) revoke(ctx context.Context, endpoint, token, hint string) error {
	form := url.Values{"token": {token}, "token_type_hint": {hint}}
	status, _, body, err := s.postForm(ctx, endpoint, form)
	if err != nil {
		return err
	}
	if status == http.StatusOK {
		s.deps.logger.Debug("oauth2auth: revoked", slog.String("token_type_hint", hint))
		return nil
	}
	var e struct {
		Code        string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &e)
	switch {
	case e.Code == "unsupported_token_type" && hint == "access_token":
		return nil // e.g. a JWT access token: it cannot be revoked, it expires
	case e.Code == "invalid_client" || status == http.StatusUnauthorized:
		return &authorizer.InvalidClientError{ClientID: s.info.ClientID, StatusCode: status,
			Code: clip(e.Code), Description: clip(e.Description)}
	}
	return &authorizer.AuthorizationError{StatusCode: status, Code: clip(e.Code), Description: clip(e.Description),
		Message: "oauth2auth: revoking the " + hint + " failed"}
}
