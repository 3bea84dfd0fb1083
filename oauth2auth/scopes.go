package oauth2auth

import (
	"log/slog"
	"slices"
	"strings"

	"golang.org/x/oauth2"
)

// GrantedScopes returns the scopes the provider granted with tok: its
// "scope" response field (tok.Extra("scope"), RFC 6749 §5.1), split on
// spaces. It returns nil when the provider sent no scope field, which by
// RFC 6749 means it granted exactly what was asked for.
//
// When a provider grants fewer scopes than were asked for, the
// authorizers of this package log a warning naming the missing ones
// (see [WithLogger]); the token is still used.
func GrantedScopes(tok *oauth2.Token) []string {
	if tok == nil {
		return nil
	}
	s, _ := tok.Extra("scope").(string)
	if s == "" {
		return nil
	}
	return strings.Fields(s)
}

// missingScopes returns the scopes of requested that tok was not granted;
// none when the answer carried no scope field.
func missingScopes(requested []string, tok *oauth2.Token) []string {
	granted := GrantedScopes(tok)
	if granted == nil {
		return nil
	}
	var missing []string
	for _, s := range requested {
		if !slices.Contains(granted, s) {
			missing = append(missing, s)
		}
	}
	return missing
}

// warnMissingScopes logs, at warn level, the requested scopes that tok was
// not granted: an API's later 403 then has a visible cause.
func warnMissingScopes(logger *slog.Logger, flow string, requested []string, tok *oauth2.Token) {
	missing := missingScopes(requested, tok)
	if len(missing) == 0 {
		return
	}
	logger.Warn("oauth2auth: the provider granted fewer scopes than asked for",
		slog.String("flow", flow), slog.Any("missing_scopes", missing), slog.Any("granted_scopes", GrantedScopes(tok)))
}
