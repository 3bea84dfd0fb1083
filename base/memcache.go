package base

import (
	"context"
	"sync"

	"golang.org/x/oauth2"
)

// MemoryCache is a [TokenCache] in process memory. The zero value is ready
// to use. It is safe for concurrent use. Printing it shows how many tokens
// it holds, never a token.
type MemoryCache struct {
	mu     sync.RWMutex             // guards tokens
	tokens map[string]*oauth2.Token // key -> token
}

var _ TokenCache = (*MemoryCache)(nil)

// NewMemoryCache returns an empty [MemoryCache].
func NewMemoryCache() *MemoryCache { return &MemoryCache{} }

// Load implements TokenCache.
func (c *MemoryCache) Load(_ context.Context, key string) (*oauth2.Token, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.tokens[key], nil
}

// Store implements TokenCache.
func (c *MemoryCache) Store(_ context.Context, key string, tok *oauth2.Token) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tokens == nil {
		c.tokens = make(map[string]*oauth2.Token)
	}
	c.tokens[key] = tok
	return nil
}

// Delete implements TokenCache.
func (c *MemoryCache) Delete(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.tokens, key)
	return nil
}
