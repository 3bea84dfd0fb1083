// Package data provides the plain values every authorizer shares: client and
// user credentials ([ClientInfo], [UserCredentials]), the header names
// ([AuthorizationHeader], [APIKeyHeader]), token fingerprints
// ([Fingerprint]) and the expiration gap ([ExpirationGap], [EffectiveGap]).
//
// Values that hold a secret redact it wherever a user might print them: the
// fmt verbs %v, %+v, %#v and %s, log/slog (LogValue) and encoding/json. The
// client id and the user name may show; secrets, passwords, API keys and
// tokens never do. The package imports only the standard library.
package data
