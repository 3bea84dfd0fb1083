// Package verify checks the tokens a service receives: JWTs (RFC 7519) in
// compact JWS form (RFC 7515), signed by an OpenID provider, an Amazon
// Cognito user pool or a permission service, and presented as RFC 6750
// bearer tokens or as RFC 9449 DPoP-bound tokens with a proof.
//
// # Verifying
//
//	keys := verify.Discover("https://id.example.com")       // or JWKS(url), PEMURL(url), StaticKeys(pub)
//	defer keys.Close()
//	v, err := verify.New(keys, verify.Expect{
//		Issuer:   "https://id.example.com",
//		Audience: []string{"https://api.example.com"},
//	})
//	if err != nil { ... }                                   // *authorizer.InvalidConfigError
//	claims, err := v.Verify(ctx, raw)
//	var bad *authorizer.InvalidTokenError
//	switch {
//	case errors.As(err, &bad): ...                          // 401; bad.Reason says why
//	case err != nil: ...                                    // keys unavailable: 503
//	}
//	var extra struct{ Permissions []string `json:"permissions"` }
//	err = claims.Decode(&extra)
//
// Or as HTTP middleware: [Middleware], [ClaimsFrom], [RequireScope].
//
// # Strict by default
//
// With no options a [Verifier] refuses: alg none, HMAC algorithms (HS256
// signed with the public key's bytes), an algorithm that does not fit the
// key (RS256 for RSA keys unless the JWK names another RSA algorithm,
// ES256/ES384/ES512 for P-256/P-384/P-521, EdDSA for Ed25519); header
// parameters jku, x5u, jwk, x5c (a token never chooses its own key), crit,
// zip, b64; exp in the past beyond [WithExpiryLeeway]; nbf or iat in the
// future beyond [WithNotBeforeLeeway]; no exp (unless
// [InsecureAllowNoExpiry]); no iss or another one; no aud or another one
// (Cognito access tokens: client_id instead, see [Cognito]); tokens over
// [MaxTokenSize] or not exactly three segments, refused before any
// decoding; bad base64url (non-canonical encodings included), bad or non
// UTF-8 JSON, duplicate members, registered claims of the wrong type; a
// token bound to a key (cnf.jkt) presented as a bearer token (see below).
//
// # Keys
//
// A remote source ([JWKS], [Discover], [PEMURL]) fetches on first use. A
// token whose kid is not held causes one shared fetch (single flight), at
// most once per [WithMinRefreshInterval] (10 s); inside the interval an
// unknown kid is refused at once, without a fetch. A flood of random (or
// repeated) kids therefore costs at most one fetch per interval, and a
// rotated key is accepted at most one interval after its first token, even
// when a flood used the last fetch or the key was published after its first
// token was seen (no kid is blocked for longer than one interval). A signature that
// fails with the held keys counts the same way (one shared fetch at most
// per interval), so a key replaced under the same kid, or a replaced PEM
// key, is picked up too. Keys are re-fetched in the background when older
// than the answer's Cache-Control max-age, clamped to 15 min .. 1 h
// ([WithKeysAge]), so a key published before use is accepted at once. When the URL is down, the keys held are used, the
// failure is logged, fetches back off (the interval, doubling, at most 5
// min), and a token with an unknown kid is refused at once with
// [authorizer.ErrTokenUnknownKey] wrapping the fetch error (its Temporary
// method then reports true, and [Middleware] answers 503). When no keys
// could ever be fetched, Verify returns an *[authorizer.AuthorizationError]
// (Temporary reports whether retrying may help).
//
// Fetches use https (http only to loopback hosts, or with
// [InsecureAllowHTTP]), time out after [WithFetchTimeout] (10 s), read at
// most 1 MiB, and follow no redirect to another host. Keys of unsupported
// types or curves, RSA keys under 2048 bits, "use": "enc" and private keys
// are skipped with a log line. A token without kid is tried against the
// keys that fit its algorithm, at most four.
//
// # Cache
//
// A Verifier remembers tokens that passed (up to [WithCacheSize]): a
// repeated token costs a map lookup, no allocation. An entry ends at the
// token's exp or when its key leaves the key set, whichever comes first;
// failures are never cached.
//
// # Tokens bound to a key (DPoP)
//
// A token whose cnf claim names a key thumbprint (cnf.jkt, RFC 9449 §6) is
// accepted only as "Authorization: DPoP <token>" with exactly one DPoP
// header: a proof JWT the caller signed with that key for this request.
// [Middleware] does this once it knows the origin clients reach it at
// ([WithExternalOrigin]: the Host header is the client's to choose, so it
// cannot say which service a proof was made for); a handler that verifies
// by itself calls [Verifier.VerifyDPoP] instead of [Verifier.Verify], with
// the URL built from its own configuration:
//
//	claims, err := v.VerifyDPoP(ctx, token, r.Header.Get("DPoP"), r.Method, externalURL)
//
// The proof must be typ "dpop+jwt", alg ES256 or EdDSA
// ([WithDPoPAlgorithms] may add ES384, ES512, RS256, PS256 and the like,
// never none or HMAC), carry a public jwk (a private member such as "d" is
// refused) whose RFC 7638 thumbprint is the token's cnf.jkt, verify with
// it, and hold htm (the method), htu (the URL without query and fragment,
// as the client sent it: [WithExternalOrigin]), iat (at
// most [WithDPoPProofAge], 5 min, old and [WithNotBeforeLeeway] ahead),
// ath (the token's hash) and a jti not seen before: the jti of every
// accepted proof is kept for the proof age in a bounded in-memory cache
// ([WithDPoPReplayCacheSize], 500 000; one key may hold a quarter), which
// refuses new proofs (503) rather than forget a live one when it is full. [WithDPoPNonces] adds
// server nonces (RFC 9449 §9), HMACs of the time slot, stateless.
//
// Verify refuses a bound token ([authorizer.ErrTokenDPoPBinding]): as a
// bearer token, a copy would work without the key. A token without cnf.jkt
// presented with DPoP is refused too. Refusals are
// *[authorizer.InvalidTokenError] with the reasons
// [authorizer.TokenDPoPProof], [authorizer.TokenDPoPReplay],
// [authorizer.TokenDPoPNonce] and [authorizer.TokenDPoPBinding]; no message
// holds a token or a proof. The replay cache is per Verifier: replicas
// share what they accepted through a [DPoPReplayStore]
// ([WithDPoPReplayStore]; redisstore has one on Redis), asked after every
// other check passed and fail closed (503) when it fails. Without one, a
// proof replayed to another replica passes there (a nonce or a short proof
// age narrows that window).
//
// # Concurrency and context
//
// Verifiers and key sources are safe for concurrent use. Verify's ctx
// bounds only its own wait for keys: a fetch is shared, runs on the
// source's own context with its own timeout, and goes on for the others
// when one caller's ctx ends. A remote source runs a goroutine only while a
// fetch is in progress; [KeySource] Close cancels it and waits for it.
package verify
