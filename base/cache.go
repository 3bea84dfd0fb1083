package base

import (
	"context"

	"golang.org/x/oauth2"
)

// TokenCache stores tokens under a key, outside any one [Transport] or
// [Authorizer] (see [WithCache]): in memory, in a file that survives restarts, or in a store
// shared by every replica of a service.
//
// Concurrency: implementations must be safe for concurrent use. Context:
// ctx bounds each call. Immutability: a token passed to Store, or returned by
// Load, must not be modified afterwards.
type TokenCache interface {
	// Load returns the token stored under key, or (nil, nil) when there is
	// none. A stored value that cannot be read (corrupted, foreign) is
	// treated as absent, not as an error.
	Load(ctx context.Context, key string) (*oauth2.Token, error)
	// Store saves tok under key, replacing any earlier token.
	Store(ctx context.Context, key string, tok *oauth2.Token) error
	// Delete removes the token under key; deleting a missing key is not an
	// error.
	Delete(ctx context.Context, key string) error
}

// CacheLocker is implemented by [TokenCache]s shared between processes.
// Lock blocks until the caller holds key's lock or ctx ends, and must
// honour ctx; whoever holds it re-reads the cache and fetches a token only
// when the cache has no usable one, so that N processes make one token
// request instead of N. unlock releases the lock and must be called
// exactly once. ctx bounds only the wait: the lock, once held, must last
// until unlock (or its own lease), not end with ctx. The [Transport] gives
// Lock a context that ends after min(2 s, a quarter of
// [WithFetchTimeout]) and requests a token without the lock when Lock
// fails or that context ends; a Lock that ignores ctx is waited for no
// longer, and a lock it obtains later is released at once: a lock is an
// optimisation, never a reason for a request to fail.
type CacheLocker interface {
	Lock(ctx context.Context, key string) (unlock func() error, err error)
}
