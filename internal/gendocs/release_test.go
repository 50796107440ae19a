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

// TestContainerImage pins the image docs/relay.md documents: goreleaser's
// dockers_v2 entry on build/Dockerfile, a distroless static base, a non-root
// user, ccx as the entrypoint, the spool volume; and CI's offline snapshot
// skipping it (no docker daemon or registry there).
func TestContainerImage(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cfg := read(".goreleaser.yaml")
	for _, want := range []string{"dockers_v2:", "dockerfile: build/Dockerfile", "ids: [ccx]", "platforms: [linux/amd64, linux/arm64]", `"ghcr.io/ccx-cli/ccx"`} {
		if !strings.Contains(cfg, want) {
			t.Errorf(".goreleaser.yaml lacks %q", want)
		}
	}
	df := read("build/Dockerfile")
	var from, user, entry string
	for _, line := range strings.Split(df, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "FROM":
			from = f[1]
		case "USER":
			user = f[1]
		case "ENTRYPOINT":
			entry = strings.Join(f[1:], " ")
		}
	}
	if !strings.HasPrefix(from, "gcr.io/distroless/static") {
		t.Errorf("build/Dockerfile: FROM %q, want gcr.io/distroless/static…", from)
	}
	if u, _, _ := strings.Cut(user, ":"); u == "" || u == "0" || u == "root" {
		t.Errorf("build/Dockerfile: USER %q, want a non-root user", user)
	}
	if entry != `["/usr/local/bin/ccx"]` {
		t.Errorf("build/Dockerfile: ENTRYPOINT %s, want [\"/usr/local/bin/ccx\"]", entry)
	}
	for _, want := range []string{"COPY $TARGETPLATFORM/ccx /usr/local/bin/ccx", "VOLUME /var/lib/ccx", "EXPOSE 3030 3031"} {
		if !strings.Contains(df, want) {
			t.Errorf("build/Dockerfile lacks %q", want)
		}
	}
	if ci := read(".ci/goreleaser.sh"); !strings.Contains(ci, "skip=publish,docker") {
		t.Error(".ci/goreleaser.sh: the offline snapshot must skip the image (--skip=publish,docker)")
	}
}
