// Package filecache provides a [base.TokenCache] (and [base.CacheLocker])
// that keeps user tokens in files, so that a command-line tool stays signed
// in across runs. Pass a [*Cache] to [base.WithCache], or to the user flows'
// cache options ([oauth2auth.WithTokenCache]).
//
// # Layout
//
// Each cache key (see Key: issuer + client id + scopes) is stored in its own
// file named after the SHA-256 of the key, inside a per-user directory
// (default: [os.UserCacheDir]()/authorizer, created 0700). Token files are
// created 0600 and written atomically: a temporary file in the same
// directory is written, flushed with fsync and renamed over the old one, so a
// reader never sees half a file, even after a crash.
//
// # Several processes
//
// Cache implements [base.CacheLocker] with an advisory file lock (flock) on
// "<file>.lock". An authorizer holds it across an interactive sign-in and
// re-reads the cache once it has it, so two runs of the same tool started at
// once cause one sign-in, not two (and, with rotating refresh tokens, one
// refresh: two refreshes with the same refresh token would end the session
// at providers that detect reuse). Lock files stay in the directory:
// removing one could let two processes lock different files.
//
// # Who may write the directory
//
// Whoever can write to the cache directory can plant a token file of their
// own session (the victim then works as the attacker's account without
// noticing), a symbolic link to another file, or a FIFO that would block a
// reader. So:
//
//   - [New] refuses a directory that belongs to another user or that group
//     or others may write to, with an [*authorizer.InvalidConfigError] that
//     says how to fix it; [InsecureAllowSharedDir] accepts one (a
//     symbolic link to a directory is judged by its target);
//   - token and lock files are opened without following symbolic links
//     (O_NOFOLLOW) and without blocking (O_NONBLOCK), and must be regular
//     files owned by this user: anything else at a token path is ignored
//     and logged by [Cache.Load] (and replaced by the next [Cache.Store]);
//     anything else at a lock path makes [Cache.Lock] fail;
//   - so nothing that sits at a path can keep Load or Lock past their ctx.
//
// On systems without file owners or O_NOFOLLOW (Windows), the owner and
// mode checks are skipped and a symbolic link is refused by a check just
// before the open.
//
// # Errors
//
// New returns an [*authorizer.InvalidConfigError] for a bad option, a
// directory it cannot create, or a directory it does not trust (see
// above). Load returns an error only for an ended ctx. Store, Delete and
// Lock return an [*authorizer.AuthorizationError] wrapping the cause (a file
// system error, or ctx's error while waiting for the lock).
//
// # Encryption at rest
//
// Without [WithEncryptionKey] the token file is plain JSON: its protection is
// the file mode (0600) and the directory mode (0700), i.e. anyone who can
// read the user's files (the user, root, a backup, a stolen disk) can read
// the tokens, including the long-lived refresh token.
//
// WithEncryptionKey seals every file with AES-GCM (a random 96-bit nonce per
// write; the cache key is authenticated as additional data, so a file copied
// under another key's name is refused). The key is supplied by the caller
// and is never written by this package: keep it in the operating system's
// keychain (macOS Keychain, Windows Credential Manager, Secret Service on
// Linux) or in an environment secret injected by the tool's launcher. An
// attacker who obtains the token file alone learns only that a cached token
// exists, the file's size (so roughly the tokens' lengths) and when it was
// last written; not the issuer, the client, the scopes or any token. Whoever
// obtains the key as well reads everything, so the key is exactly as
// sensitive as the refresh token it protects.
//
// # DPoP keys
//
// A DPoP-bound token (RFC 9449; dpop.KeyOf(tok) is its key, see
// [oauth2auth.WithDPoP]) is stored with its private key, PKCS #8, in the
// same record as the refresh token bound to it (field dpop_key: inside the
// sealed record when the cache is encrypted, never in a separate file), and
// Load gives the token back bound to that key. The key is as sensitive as
// the refresh token: whoever reads a plain file can use the session. A key
// that cannot be exported (a hardware signer) is not written: the record
// then holds a DPoP token without a key, which the authorizers treat as no
// session (sign in again). Files written before DPoP, without the field,
// load as tokens without a key.
//
// # Damaged files
//
// A file that is truncated, corrupted, written by something else, written
// for another key, sealed with another encryption key, or holding a DPoP
// key that does not parse is treated as absent: Load logs a warning (through [WithLogger]'s slog.Logger, never with
// token contents) and returns (nil, nil), and the next Store replaces it.
//
// [oauth2auth.WithTokenCache]: https://pkg.go.dev/github.com/seed-d44eba79/authorizer/oauth2auth#WithTokenCache
// [oauth2auth.WithDPoP]: https://pkg.go.dev/github.com/seed-d44eba79/authorizer/oauth2auth#WithDPoP
package filecache
