package filecache

import (
	"os"
	"path/filepath"
)

// writeAtomic replaces the file at p with b: it writes a temporary file in
// the same directory (created 0600), flushes it to disk, and renames it over
// p, so readers see the old contents or the new, never a mix. The directory
// is synced too so that the rename survives a crash.
func writeAtomic(p string, b []byte) (err error) {
	dir := filepath.Dir(p)
	f, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(p)+"-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		_ = f.Close()
		return err
	}
	if _, err = f.Write(b); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = rename(tmp, p); err != nil {
		return err
	}
	syncDir(dir)
	return nil
}

// rename is os.Rename; tests swap it to observe the temporary file.
var rename = os.Rename

// syncDir flushes a directory entry change; failures (e.g. on systems that
// cannot sync directories) are ignored: the data itself was synced.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
