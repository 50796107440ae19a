package fsutil

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestWritePrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "f.toml")
	if err := os.WriteFile(filepath.Join(dir, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, content := range []string{"one", "two"} {
		if err := WritePrivate(path, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != content {
			t.Fatalf("read back %q, %v; want %q", got, err, content)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(filepath.Dir(path)); fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
	if err := WritePrivate(filepath.Join(dir, "keep", "x"), []byte("x")); err == nil {
		t.Error("writing under a regular file should fail")
	}
}

func perm(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// TestOpenPrivate: a new file is 0600; an existing 0644 one is tightened
// with one warning, and opening it again says nothing more.
func TestOpenPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no group/other permission bits")
	}
	dir := t.TempDir()
	fresh := filepath.Join(dir, "new.ndjson")
	var warn strings.Builder
	f, err := OpenPrivate(fresh, os.O_CREATE|os.O_APPEND|os.O_WRONLY, &warn)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if p := perm(t, fresh); p != 0o600 || warn.Len() != 0 {
		t.Errorf("new file: mode %04o, warning %q", p, warn.String())
	}

	loose := filepath.Join(dir, "loose.ndjson")
	if err := os.WriteFile(loose, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(loose, 0o644) // whatever the umask
	for i := 0; i < 2; i++ {
		f, err := OpenPrivate(loose, os.O_CREATE|os.O_APPEND|os.O_WRONLY, &warn)
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if p := perm(t, loose); p != 0o600 {
		t.Errorf("existing file: mode %04o, want 0600", p)
	}
	if got := warn.String(); strings.Count(got, "warning:") != 1 || !strings.Contains(got, loose+" had mode 0644") {
		t.Errorf("warnings %q, want one naming the file and its old mode", got)
	}
}

// TestMakePrivate: the same for files a library opens itself; missing
// files, directories and FIFOs are left alone; a file whose mode cannot
// change is warned about once, not refused.
func TestMakePrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no group/other permission bits")
	}
	dir := t.TempDir()
	var warn strings.Builder
	MakePrivate(filepath.Join(dir, "missing"), &warn)
	MakePrivate(dir, &warn)
	if warn.Len() != 0 {
		t.Errorf("warned about a missing file or a directory: %q", warn.String())
	}
	spool := filepath.Join(dir, "relay.db")
	if err := os.WriteFile(spool, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	_ = os.Chmod(spool, 0o640)
	MakePrivate(spool, &warn)
	MakePrivate(spool, &warn)
	if p := perm(t, spool); p != 0o600 || strings.Count(warn.String(), "warning:") != 1 {
		t.Errorf("mode %04o, warnings %q", p, warn.String())
	}

	warn.Reset()
	_ = os.Chmod(spool, 0o644)
	fi, _ := os.Stat(spool)
	fail := func(os.FileMode) error { return errors.New("read-only file system") }
	tighten(spool+"-ro", fi, fail, &warn)
	tighten(spool+"-ro", fi, fail, &warn)
	if got := warn.String(); strings.Count(got, "warning:") != 1 || !strings.Contains(got, "cannot be made private: read-only file system") {
		t.Errorf("unchangeable mode: warnings %q", got)
	}
}
