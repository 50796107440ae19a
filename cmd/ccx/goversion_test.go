package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// README and docs/install.md name the Go version go.mod requires.
func TestDocsNameGoModsGoVersion(t *testing.T) {
	mod, err := os.ReadFile(filepath.Join(repoRoot(), "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+(?:\.\d+)?)$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("no go line in go.mod")
	}
	want := "Go " + string(m[1]) + " or later"
	for _, doc := range []string{"README.md", "docs/install.md"} {
		b, err := os.ReadFile(filepath.Join(repoRoot(), doc))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s does not say %q (go.mod: go %s)", doc, want, m[1])
		}
		if regexp.MustCompile(`Go \d+\.\d+\+`).Match(b) {
			t.Errorf("%s names a Go version as N.N+ apart from go.mod's", doc)
		}
	}
}
