package cli

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Commands stay thin (docs/architecture.md): logic belongs in feature
// packages, so internal/cli keeps to a share of the code and no command file
// grows past a screenful of flags, help and one call.
const (
	maxCLIShare    = 0.12
	maxCLIFileLine = 300
)

func TestCommandsStayThin(t *testing.T) {
	root := filepath.Join("..", "..")
	count := func(path string) int {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Count(b, []byte("\n"))
	}
	var total, cli int
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			// Nested modules (examples/…) and test data are not ccx's code.
			if path != root && (d.Name() == "testdata" || d.Name() == "examples" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		n := count(path)
		total += n
		if filepath.Dir(path) == filepath.Join(root, "internal", "cli") {
			cli += n
			if n > maxCLIFileLine {
				t.Errorf("%s has %d lines (at most %d): move its logic into a feature package", filepath.Base(path), n, maxCLIFileLine)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if cli == 0 || total == 0 {
		t.Fatalf("counted %d cli lines of %d: the walk found no code", cli, total)
	}
	share := float64(cli) / float64(total)
	t.Logf("internal/cli: %d of %d non-test lines (%.1f %%)", cli, total, 100*share)
	if share > maxCLIShare {
		t.Errorf("internal/cli is %.1f %% of the non-test code (%d of %d lines), more than %.0f %%", 100*share, cli, total, 100*maxCLIShare)
	}
}
