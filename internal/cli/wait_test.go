package cli

import (
	"testing"
	"time"
)

// waitDeadline bounds every wait of these tests: a broken run fails with
// a message instead of hanging until go test's timeout. It is not a timed
// assertion (a healthy run never gets near it).
const waitDeadline = 20 * time.Second

// recv waits for a value on c, at most waitDeadline; what names it in the
// failure. Call it from the test's goroutine only (it may t.Fatal).
func recv[T any](t *testing.T, what string, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(waitDeadline):
		t.Fatalf("gave up waiting for %s after %s", what, waitDeadline)
		panic("unreachable")
	}
}
