package ui

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// No message says "1 warning(s)": counts go through Plural. This walks
// every non-test Go file and the web inbox's JS/HTML and fails on a string
// literal with a "word(s)".
func TestNoParenthesisedPlurals(t *testing.T) {
	re := regexp.MustCompile(`[a-z]\(s\)`)
	jsString := regexp.MustCompile(`'[^']*'|"[^"]*"`)
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".js") || strings.HasSuffix(path, ".html")) {
			// The web inbox: its quoted strings, with plural() for counts.
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for i, line := range strings.Split(string(b), "\n") {
				for _, q := range jsString.FindAllString(line, -1) {
					if re.MatchString(strings.ReplaceAll(q, "http(s)", "")) {
						t.Errorf("%s:%d: %s: use plural()", path, i+1, q)
					}
				}
			}
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s := strings.ReplaceAll(lit.Value, "http(s)", ""); re.MatchString(s) {
					t.Errorf("%s: %s: use ui.Plural", fset.Position(lit.Pos()), lit.Value)
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
