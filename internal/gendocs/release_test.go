package gendocs_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goreleaserPath finds goreleaser on PATH or where `go install` puts it.
func goreleaserPath() string {
	if p, err := exec.LookPath("goreleaser"); err == nil {
		return p
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "goreleaser")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// TestGoreleaserCheck validates .goreleaser.yaml with goreleaser itself. On a
// developer machine without goreleaser it skips; in CI (CI set) it must run:
// .ci/goreleaser.sh installs goreleaser first.
func TestGoreleaserCheck(t *testing.T) {
	bin := goreleaserPath()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("goreleaser is not installed, and CI is set: run `bash .ci/goreleaser.sh --check-only` first (it installs goreleaser v2.12.7)")
		}
		t.Skip("goreleaser not on PATH (go install github.com/goreleaser/goreleaser/v2@v2.12.7); CI runs this check")
	}
	cmd := exec.Command(bin, "check")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("goreleaser check: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "validated") {
		t.Errorf("goreleaser check said:\n%s", out)
	}
}

// TestReleaseConfig pins what the archives must carry, independently of
// goreleaser being installed.
func TestReleaseConfig(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := string(b)
	for _, want := range []string{
		"version: 2", "CGO_ENABLED=0", "goos: [linux, darwin, windows]", "goarch: [amd64, arm64]",
		"github.com/ccx-cli/ccx/internal/build.Version={{ .Version }}",
		"github.com/ccx-cli/ccx/internal/build.Commit=", "github.com/ccx-cli/ccx/internal/build.Date=",
		"formats: [zip]", "README.md", "LICENSE", "CHANGELOG.md", "completions/*", "man/man1/*", "man/man7/*",
		"checksum:", "changelog:",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf(".goreleaser.yaml lacks %q", want)
		}
	}
	for _, f := range []string{"README.md", "LICENSE", "CHANGELOG.md"} {
		if _, err := os.Stat(filepath.Join("..", "..", f)); err != nil {
			t.Errorf("archives ship %s: %v", f, err)
		}
	}
}
