package ccxtest_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The kit must work from another module: examples/gotest is one (its own
// go.mod, a replace to this checkout), which `go test ./...` here never
// enters. Run its tests and require them to pass. It needs the module
// cache that `go mod download` at the root fills; nothing else.
func TestExternalModuleUsesTheKit(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go test in examples/gotest (-short skips it)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	dir, err := filepath.Abs(filepath.Join("..", "examples", "gotest"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("the external module is missing: %v", err)
	}
	limit := 4 * time.Minute
	if d, ok := t.Deadline(); ok && time.Until(d)-10*time.Second < limit {
		limit = time.Until(d) - 10*time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "test", "-count=1", "-timeout", limit.Round(time.Second).String(), "./...")
	cmd.Dir = dir
	// -mod=readonly: a go.mod that lags the kit's dependencies fails here
	// instead of being rewritten in the work tree by every run.
	flags := []string{"-mod=readonly"}
	for _, f := range strings.Fields(os.Getenv("GOFLAGS")) {
		if !strings.HasPrefix(f, "-mod=") {
			flags = append(flags, f)
		}
	}
	cmd.Env = append(os.Environ(), "GOFLAGS="+strings.Join(flags, " "), "GOWORK=off")
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("go test in %s did not finish within %v:\n%s", dir, limit, out)
	}
	if err != nil {
		if strings.Contains(string(out), "go mod tidy") || strings.Contains(string(out), "updates to go.mod needed") {
			t.Fatalf("examples/gotest/go.mod lags the kit's dependencies: run `go mod tidy` in examples/gotest:\n%s", out)
		}
		t.Fatalf("go test in %s failed (%v): the kit does not work from another module:\n%s", dir, err, out)
	}
	if !strings.Contains(string(out), "ok  \texample.com/ccx-kit-demo") {
		t.Fatalf("go test in %s passed without running the demo's tests:\n%s", dir, out)
	}
}
