//go:build unix

package emulator

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoadStateRefusesAFIFO: a state path that is a FIFO is refused at once
// instead of blocking the start (or `emulate inbox --state`) for ever.
func TestLoadStateRefusesAFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.json")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := LoadState(p); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Fatalf("LoadState(FIFO) = %v, want a not-a-regular-file error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("LoadState blocked on a FIFO")
	}
}
