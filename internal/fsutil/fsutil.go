// Package fsutil holds the one file-writing routine ccx's private files share.
package fsutil

import (
	"os"
	"path/filepath"
)

// WritePrivate writes data to path atomically: a temp file in the same
// directory (created 0700 if missing), mode 0600, fsync'd, then renamed over
// path. A crash leaves either the old file or the new one, never half of one;
// the mode matters because these files hold tokens and personal data.
func WritePrivate(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
