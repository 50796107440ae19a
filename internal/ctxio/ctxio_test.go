package ctxio

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReaderPassesData: with a live context the wrapper is transparent.
func TestReaderPassesData(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	want := strings.Repeat("payload line\n", 10000)
	go func() { io.WriteString(pw, want); pw.Close() }()
	got, err := io.ReadAll(Reader(context.Background(), pr))
	if err != nil || string(got) != want {
		t.Fatalf("read %d bytes, %v; want %d", len(got), err, len(want))
	}
}

// TestReaderGivesWay: a Read blocked on a pipe that never writes returns
// context.Canceled once the context is cancelled.
func TestReaderGivesWay(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Reader(ctx, pr).Read(make([]byte, 512))
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read ignores the cancelled context")
	}
}

// TestReaderRegularFile: a regular file is not wrapped (no goroutine per Read).
func TestReaderRegularFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if r := Reader(context.Background(), f); r != io.Reader(f) {
		t.Errorf("regular file wrapped: %T", r)
	}
}
