package oauth2auth

import (
	"slices"
	"strings"

	"github.com/seed-d44eba79/authorizer/base"
	"github.com/seed-d44eba79/authorizer/data"
)

// Token types of RFC 8693 §3, for [WithSubjectTokenType],
// [WithActorToken] and [WithRequestedTokenType].
const (
	// TokenTypeAccessToken is an OAuth 2.0 access token: the default
	// subject token type (except for a [TokenFile]) and the issued token
	// type expected when none is requested.
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	// TokenTypeJWT is a JWT: the default subject token type of a
	// [TokenFile], and an issued token type accepted when none is
	// requested.
	TokenTypeJWT = "urn:ietf:params:oauth:token-type:jwt"
	// TokenTypeIDToken is an OpenID Connect ID token.
	TokenTypeIDToken = "urn:ietf:params:oauth:token-type:id_token"
)

// exchangeOptions holds the settings of [NewTokenExchangeAuthorizer].
type exchangeOptions struct {
	client      *data.ClientInfo // nil: the subject's, when it is a base.ClientInfoer
	subjectType string           // "": TokenTypeAccessToken, or TokenTypeJWT for a TokenFile
	actor       base.Authorizer  // nil: no actor_token
	actorType   string           // valid when actor is set
	requested   string           // "": requested_token_type not sent
	audiences   []string
}

// WithExchangeClient sets the client that makes the token exchange and
// authenticates at the token endpoint (a secret, [WithPrivateKeyJWT] or
// [WithClientAssertionFile]: the exchange needs client authentication).
// Token-exchange flow. Default: the subject's own client when the subject
// is a [base.ClientInfoer] (e.g. a [ServiceAccountAuthorizer]); without
// either, the constructor fails. An empty ClientID is an error.
func WithExchangeClient(info data.ClientInfo) Option {
	return func(o *options) {
		if !o.only("WithExchangeClient", flowTokenExchange) {
			return
		}
		if info.ClientID == "" {
			o.fail("WithExchangeClient", "has an empty ClientID")
			return
		}
		o.exch.client = &info
	}
}

// WithSubjectTokenType sets subject_token_type (RFC 8693 §2.1), e.g.
// [TokenTypeIDToken]. Token-exchange flow. Default [TokenTypeAccessToken],
// or [TokenTypeJWT] when the subject is a [TokenFile]. An empty type or one
// with white space is an error.
func WithSubjectTokenType(tokenType string) Option {
	return func(o *options) {
		if o.only("WithSubjectTokenType", flowTokenExchange) && checkTokenType(o, "WithSubjectTokenType", tokenType) {
			o.exch.subjectType = tokenType
		}
	}
}

// WithActorToken sends actor_token (delegation, RFC 8693 §1.1): the token
// of the party acting for the subject, from actor (any [base.Authorizer],
// e.g. a [ServiceAccountAuthorizer] or a [TokenFile]), with
// actor_token_type tokenType ("" means [TokenTypeAccessToken]).
// Token-exchange flow. Default: no actor token. A nil actor is an error.
// The actor's token is kept between exchanges until actor.Expired says it
// is stale.
func WithActorToken(actor base.Authorizer, tokenType string) Option {
	return func(o *options) {
		if !o.only("WithActorToken", flowTokenExchange) {
			return
		}
		if actor == nil {
			o.fail("WithActorToken", "has a nil actor")
			return
		}
		if tokenType == "" {
			tokenType = TokenTypeAccessToken
		}
		if checkTokenType(o, "WithActorToken", tokenType) {
			o.exch.actor, o.exch.actorType = actor, tokenType
		}
	}
}

// WithRequestedTokenType sends requested_token_type (RFC 8693 §2.1), and
// the answer's issued_token_type must then equal it. Token-exchange flow.
// Default: not sent, and the issued token must be [TokenTypeAccessToken]
// or [TokenTypeJWT]. Whatever is requested, the token must come with
// token_type Bearer, since it is sent as one. An empty type or one with
// white space is an error.
func WithRequestedTokenType(tokenType string) Option {
	return func(o *options) {
		if o.only("WithRequestedTokenType", flowTokenExchange) && checkTokenType(o, "WithRequestedTokenType", tokenType) {
			o.exch.requested = tokenType
		}
	}
}

// WithAudiences sends one audience parameter (RFC 8693 §2.1: the logical
// name of the target service) per value, after Environment.Audience.
// Token-exchange flow. Default: only Environment.Audience, if set. An empty
// audience is an error.
func WithAudiences(audiences ...string) Option {
	return func(o *options) {
		if !o.only("WithAudiences", flowTokenExchange) {
			return
		}
		if slices.Contains(audiences, "") {
			o.fail("WithAudiences", "has an empty audience")
			return
		}
		o.exch.audiences = append(o.exch.audiences, audiences...)
	}
}

func checkTokenType(o *options, option, tokenType string) bool {
	if tokenType == "" || strings.ContainsAny(tokenType, " \t\r\n") {
		o.fail(option, "is empty or has white space")
		return false
	}
	return true
}
