// Package fsutil holds the routines ccx's private files share: atomic 0600
// writes, and opening or adopting an existing file so that it ends up 0600.
package fsutil

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// OpenPrivate opens path with flag, creating it with mode 0600. An existing
// regular file that group or others may access is tightened to 0600 through
// the open descriptor, with one warning on warn (nil: no warning).
func OpenPrivate(path string, flag int, warn io.Writer) (*os.File, error) {
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil {
		tighten(path, fi, f.Chmod, warn)
	}
	return f, nil
}

// MakePrivate tightens an existing regular file at path to 0600 when group
// or others may access it, with one warning on warn. A missing or
// non-regular file (a FIFO, /dev/stdout) is left alone. Use it before a
// library opens the file itself (bbolt, a JSON loader).
func MakePrivate(path string, warn io.Writer) {
	fi, err := os.Stat(path)
	if err != nil {
		return
	}
	tighten(path, fi, func(m fs.FileMode) error { return os.Chmod(path, m) }, warn)
}

// warned keeps a file that cannot be tightened from warning at every open.
var warned sync.Map

// tighten does the work of OpenPrivate and MakePrivate. When the mode cannot
// change (another owner, a read-only mount) it warns and carries on:
// refusing would not make already exposed data private again.
func tighten(path string, fi fs.FileInfo, chmod func(fs.FileMode) error, warn io.Writer) {
	// Windows has no group/other bits; Go reports every file as 0666 there.
	if runtime.GOOS == "windows" || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o077 == 0 {
		return
	}
	old := fi.Mode().Perm()
	if err := chmod(0o600); err != nil {
		if _, dup := warned.LoadOrStore(path, true); !dup && warn != nil {
			fmt.Fprintf(warn, "warning: %s has mode %04o (others may read it) and cannot be made private: %v; run chmod 600 on it\n", path, old, err)
		}
		return
	}
	if warn != nil {
		fmt.Fprintf(warn, "warning: %s had mode %04o (others could read it); changed it to 0600\n", path, old)
	}
}

// WritePrivate writes data to path atomically: a temp file in the same
// directory (created 0700 if missing), mode 0600, fsync'd, then renamed over
// path. A crash leaves either the old file or the new one, never half of one;
// the mode matters because these files hold tokens and personal data.
func WritePrivate(path string, data []byte) error {
	return WritePrivateFunc(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WritePrivateFunc is WritePrivate for content that write streams into the
// temp file; an error from write leaves path as it was.
func WritePrivateFunc(path string, write func(io.Writer) error) error {
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
	if err := write(tmp); err != nil {
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
