package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/config"
)

// Every CCX_* variable a non-test Go file names is in `ccx help
// environment`: a new variable cannot be added without telling users.
func TestHelpEnvironmentListsEveryVariable(t *testing.T) {
	re := regexp.MustCompile(`^CCX_[A-Z0-9_]+$`)
	fset := token.NewFileSet()
	seen := map[string]string{}
	for _, dir := range []string{"../../internal", "../../cmd"} {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil && re.MatchString(s) {
						seen[s] = fset.Position(lit.Pos()).String()
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(seen) < 20 {
		t.Fatalf("found only %d variables: the walk is broken", len(seen))
	}
	// Names that are not variables.
	delete(seen, "CCX_RELAY") // the relay's JetStream stream
	words := map[string]bool{}
	for _, w := range regexp.MustCompile(`CCX_[A-Z0-9_]+`).FindAllString(config.EnvironmentHelp, -1) {
		words[w] = true
	}
	for v, where := range seen {
		if !words[v] {
			t.Errorf("%s (read at %s) is not in `ccx help environment` (config.EnvironmentHelp)", v, where)
		}
	}
}
