package main

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Two runs at once on first use both get the same key: neither reads the
// key file while the other is still writing it (old code: O_EXCL create, then
// write, so the second run could read an empty file and fail).
func TestBreakKeyFileConcurrentFirstUse(t *testing.T) {
	t.Setenv("AUTHORIZER_CACHE_KEY", "")
	for round := range 30 {
		dir := filepath.Join(t.TempDir(), "c")
		const n = 8
		keys := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				keys[i], errs[i] = encryptionKey(dir)
			}()
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("round %d run %d: %v", round, i, errs[i])
			}
			if !bytes.Equal(keys[i], keys[0]) {
				t.Fatalf("round %d: two runs got different keys", round)
			}
		}
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 {
			t.Fatalf("round %d: cache dir holds %d files, want only cache.key", round, len(ents))
		}
	}
}
