// Package srp provides an authorizer that signs a user in to an AWS Cognito
// user pool with the Secure Remote Password protocol (SRP-6a, RFC 2945 and
// RFC 5054, in Cognito's USER_SRP_AUTH variant), sends the user's token on
// every request through [base.Transport], and keeps it fresh with the refresh
// token (REFRESH_TOKEN_AUTH). Start with [NewAuthorizer].
//
// The password never leaves the process: Cognito receives a proof computed
// from it. It is never logged, never put in an error, and a refused
// password is never retried (Cognito locks accounts after repeated
// failures).
//
// # The flow
//
//	env := srp.Environment{Region: "eu-west-1", UserPoolID: "eu-west-1_AbCdEf123"}
//	a, err := srp.NewAuthorizer(
//		data.ClientInfo{ClientID: "3n4b5urk1ft4fl3mg5e62d9ado"},  // + ClientSecret if the app client has one
//		data.UserCredentials{UserName: "alice@example.com", Password: pw},
//		env,
//		srp.WithMFAHandler(askForCode),                          // optional: answer MFA challenges
//	)
//	client := base.NewClient(a)  // every request now carries "Authorization: Bearer <access token>"
//
// Under the hood, Authorize makes these calls (aws-sdk-go-v2, anonymous
// credentials, no SDK retries but one more try when the connection dies
// under a call):
//
//	// 1. InitiateAuth USER_SRP_AUTH: USERNAME (as typed, maybe an alias),
//	//    SRP_A = g^a mod N (a from crypto/rand), SECRET_HASH over the typed name.
//	// 2. Cognito answers PASSWORD_VERIFIER with SALT, SRP_B, SECRET_BLOCK,
//	//    USER_ID_FOR_SRP and the canonical USERNAME. The values are checked
//	//    (hex, sizes, B mod N != 0, base64) before any math: a malformed
//	//    challenge is an error, never a panic.
//	// 3. RespondToAuthChallenge PASSWORD_VERIFIER: the canonical USERNAME,
//	//    TIMESTAMP ("Mon Jan 2 15:04:05 UTC 2006": English, UTC, 24-hour,
//	//    day not padded), PASSWORD_CLAIM_SECRET_BLOCK (SECRET_BLOCK as sent),
//	//    PASSWORD_CLAIM_SIGNATURE = base64(HMAC-SHA256(key, poolName |
//	//    USER_ID_FOR_SRP | base64dec(SECRET_BLOCK) | TIMESTAMP)) with
//	//      u   = H(pad(A) | pad(B))
//	//      x   = H(pad(salt) | H(poolName | USER_ID_FOR_SRP | ":" | password))
//	//      S   = (B - k*g^x)^(a + u*x) mod N,   k = H(pad(N) | pad(g))
//	//      key = HKDF-SHA256(ikm = pad(S), salt = pad(u), "Caldera Derived Key")[:16]
//	//    and SECRET_HASH over the canonical USERNAME.
//	// 4. Further challenges (NEW_PASSWORD_REQUIRED, SOFTWARE_TOKEN_MFA,
//	//    SMS_MFA, EMAIL_OTP, anything else) go to the handler options;
//	//    without one the sign-in stops with a *ChallengeError naming the
//	//    challenge and the option that answers it.
//	// 5. Tokens: the access token (or the ID token, WithIDToken) is sent as
//	//    a Bearer token; Expiry comes from ExpiresIn.
//
// Refresh is one InitiateAuth REFRESH_TOKEN_AUTH call with REFRESH_TOKEN,
// SECRET_HASH over the canonical user name (not an alias: the bug of
// pycognito #18) and DEVICE_KEY when the pool remembers the device. Cognito
// returns no new refresh token; the old one is kept.
//
// # When the refresh token is refused
//
// [Authorizer.Refresh] never signs in with the password itself. It reports a
// refused (expired, revoked) refresh token as an
// [*authorizer.InvalidCredentialsError], on which [base.Transport] calls
// [Authorizer.Authorize] exactly once: one full SRP sign-in, never two
// (which a Refresh doing its own fallback would cause when that sign-in
// fails too). With [WithoutStoredPassword] the password is dropped after
// the first sign-in, and that Authorize fails with an
// InvalidCredentialsError without calling Cognito.
//
// # Keeping the session between runs
//
// srp has no cache option of its own: the cache belongs to the Transport.
// A command-line tool that keeps its user signed in between runs passes
// [base.WithCache] with a [filecache.Cache] (files 0600 in a directory only
// the user may write, optionally sealed with AES-GCM):
//
//	cache, err := filecache.New()
//	key := filecache.Key(env.UserPoolID, info.ClientID, []string{"user=" + creds.UserName})
//	t := base.NewTransport(a, base.WithCache(cache, key))
//
// The next run finds the token (or its refresh token) in the file and does
// not sign in again; see Example (tokenCache) and examples/cognito -cache.
//
// # Errors
//
//   - NotAuthorizedException and UserNotFoundException become an
//     [*authorizer.InvalidCredentialsError] with one fixed message, whatever
//     the reason (wrong password, unknown or disabled user): no user
//     enumeration, and no server text (which may echo a SECRET_HASH).
//   - ResourceNotFoundException (unknown app client) becomes an
//     [*authorizer.InvalidClientError].
//   - TooManyRequestsException and LimitExceededException become an
//     [*authorizer.AuthorizationError] with the status Cognito sent (400)
//     and Temporary() true; 5xx and network failures are Temporary too
//     (the end of the caller's ctx is not: see
//     [authorizer.AuthorizationError.Temporary]).
//   - Anything else is an [*authorizer.AuthorizationError] with Cognito's
//     error code and message, wrapping the SDK error. Cognito's text is
//     capped, its control characters replaced, and every secret the call
//     sent (SECRET_HASH, SRP values, the refresh token, a new password,
//     challenge answers) removed before it is quoted: a Lambda trigger that
//     echoes its input cannot put them in an error string.
//   - Bad settings are an [*authorizer.InvalidConfigError] from
//     [NewAuthorizer], naming the setting or the option.
//
// # Why the project computes PASSWORD_VERIFIER itself
//
// github.com/alexrudd/cognito-srp (v4.1.0, the newest) formats TIMESTAMP
// with Go's 12-hour layout ("03:04:05"). From 13:00 to 00:59 UTC it signs a
// time twelve hours off, and Cognito refuses the sign-in with "Incorrect
// username or password." — a failure that looks like a wrong password, half
// of every day. Its hexToBig also panics on a non-hex SRP_B or SALT from the
// server, and it cannot be told otherwise. So this package has its own
// SRP-6a client, and cognito-srp is kept only in tests, as
// an independent oracle: a test-side SRP verifier (the server half, holding
// the password verifier v = g^x) is first checked against cognito-srp at a
// morning hour, then the package's client is run through it at 00:xx, 09:xx,
// 12:xx, 13:xx and 23:xx UTC and on single-digit days, and a wrong password
// must fail.
//
// [filecache.Cache]: https://pkg.go.dev/github.com/seed-d44eba79/authorizer/filecache#Cache
package srp
