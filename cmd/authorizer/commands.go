package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"golang.org/x/oauth2"
)

// fetch builds the session and returns a valid token.
func fetch(ctx context.Context, g *globals) (*session, *oauth2.Token, error) {
	s, err := loadSession(ctx, g)
	if err != nil {
		return nil, nil, err
	}
	tok, err := s.token(ctx, g)
	if err != nil {
		s.close()
		return nil, nil, err
	}
	return s, tok, nil
}

func noArgs(args []string) error {
	if len(args) > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q", args[0]))
	}
	return nil
}

// runToken prints the token in the chosen format.
func runToken(ctx context.Context, g *globals, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	switch g.format {
	case "bare", "header", "json":
	default:
		return usageError("--format must be bare, header or json")
	}
	s, tok, err := fetch(ctx, g)
	if err != nil {
		return err
	}
	defer s.close()
	switch g.format {
	case "header":
		printHeaders(g, s, tok)
	case "json":
		return printJSON(g, tok)
	default:
		fmt.Fprintln(g.stdout, tok.AccessToken)
	}
	return nil
}

// tokenType is the header's scheme.
func tokenType(tok *oauth2.Token) string {
	if tok.TokenType == "" {
		return "Bearer"
	}
	return tok.Type()
}

// printHeaders prints the header lines a request needs.
func printHeaders(g *globals, s *session, tok *oauth2.Token) {
	for _, h := range headerLines(s, tok) {
		fmt.Fprintln(g.stdout, h)
	}
}

// headerLines are "Name: value" lines.
func headerLines(s *session, tok *oauth2.Token) []string {
	lines := []string{"Authorization: " + tokenType(tok) + " " + tok.AccessToken}
	if s.info.APIKey != "" {
		lines = append(lines, "X-Api-Key: "+s.info.APIKey)
	}
	return lines
}

// printJSON prints the token, its expiry in RFC 3339 UTC and seconds left.
func printJSON(g *globals, tok *oauth2.Token) error {
	out := struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresAt   string `json:"expires_at,omitempty"`
		ExpiresIn   int64  `json:"expires_in,omitempty"`
	}{AccessToken: tok.AccessToken, TokenType: tokenType(tok)}
	if !tok.Expiry.IsZero() {
		out.ExpiresAt = tok.Expiry.UTC().Format(time.RFC3339)
		out.ExpiresIn = max(int64(time.Until(tok.Expiry)/time.Second), 0)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return err
	}
	fmt.Fprintln(g.stdout, string(b))
	return nil
}

func runHeader(ctx context.Context, g *globals, args []string) error {
	g.format = "header"
	return runToken(ctx, g, args)
}

// runTest exits 0 when a token can be had.
func runTest(ctx context.Context, g *globals, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	s, _, err := fetch(ctx, g)
	if err != nil {
		return err
	}
	s.close()
	g.info("ok: environment %s gives a token", s.cfg.Name)
	return nil
}

// runEnvs lists the environments, never a secret.
func runEnvs(_ context.Context, g *globals, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	envs, err := loadConfig(g.config)
	if err != nil {
		return err
	}
	for _, n := range names(envs) {
		c := envs[n]
		fmt.Fprintf(g.stdout, "%s\t%s\t%s\t%s\n", n, c.Flow, c.issuer(), c.ClientID)
	}
	return nil
}

// runReset forgets the environment's cached token.
func runReset(ctx context.Context, g *globals, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	envs, err := loadConfig(g.config)
	if err != nil {
		return err
	}
	c, err := pick(envs, g.env)
	if err != nil {
		return err
	}
	cache, err := openCache(g.cacheDir)
	if err != nil {
		return err
	}
	if err := cache.Delete(ctx, cacheKey(c)); err != nil {
		return err
	}
	g.info("forgot the cached token of %s", c.Name)
	return nil
}

// runLogin signs the user in whatever is cached.
func runLogin(ctx context.Context, g *globals, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	s, err := loadSession(ctx, g)
	if err != nil {
		return err
	}
	defer s.close()
	if s.user == nil {
		g.refresh = true
		_, err = s.token(ctx, g)
	} else {
		_, err = s.userCall(ctx, g, func(ctx context.Context, u userAuthorizer) (*oauth2.Token, error) {
			return u.SignIn(ctx)
		})
	}
	if err == nil {
		g.info("signed in to %s", s.cfg.Name)
	}
	return err
}

// runLogout revokes (user flows) and forgets the tokens.
func runLogout(ctx context.Context, g *globals, args []string) error {
	if err := noArgs(args); err != nil {
		return err
	}
	s, err := loadSession(ctx, g)
	if err != nil {
		return err
	}
	defer s.close()
	if s.user != nil {
		err = s.user.SignOut(ctx)
	} else {
		err = s.cache.Delete(ctx, s.key)
	}
	if err == nil {
		g.info("signed out of %s", s.cfg.Name)
	}
	return err
}
