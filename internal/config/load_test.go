package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadBounded: a config file over MaxFileSize is refused without being
// read whole (CCX_CONFIG=/dev/zero used to read gigabytes); a directory is
// refused with a message that names it; /dev/null is an empty config.
func TestLoadBounded(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("# padding line\n"), MaxFileSize/15+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "larger than 1024 KiB") {
		t.Errorf("big file: %v", err)
	}
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "is not a regular file (a directory)") {
		t.Errorf("directory: %v", err)
	}
	if f, err := Load(os.DevNull); err != nil || len(f.Profiles) != 0 {
		t.Errorf("%s: %+v, %v", os.DevNull, f, err)
	}
}

// TestParseNeverPanics: inputs that have crashed TOML decoders are errors.
func TestParseNeverPanics(t *testing.T) {
	for _, in := range []string{"", "[", "a = [", "[profiles]\nx = 1", "profiles = 3", "[profiles.a]\napi_token = 1", "\x00", "[[profiles]]"} {
		if _, err := parse("x.toml", []byte(in)); err == nil && in != "" {
			t.Errorf("%q: no error", in)
		}
	}
}
