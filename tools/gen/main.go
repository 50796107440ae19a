// Command gen regenerates completions, man pages and the command reference
// from ccx's command tree: go run ./tools/gen [-dir REPO_ROOT] [-check].
// With -check it writes nothing and exits 1 when the committed files are stale.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ccx-cli/ccx/internal/cli"
	"github.com/ccx-cli/ccx/internal/gendocs"
	"github.com/ccx-cli/ccx/internal/ui"
)

func main() {
	dir := flag.String("dir", ".", "repository root to write into")
	check := flag.Bool("check", false, "only report stale generated files (exit 1 if any)")
	flag.Parse()
	io, _, _, _ := ui.Test()
	root := cli.NewRootCmd(&cli.Factory{IO: io})
	if *check {
		stale, err := gendocs.Check(root, *dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		for _, s := range stale {
			fmt.Fprintln(os.Stderr, "gen:", s)
		}
		if len(stale) > 0 {
			fmt.Fprintln(os.Stderr, "gen: generated files are stale: run `go generate ./...` (or `make generate`) and commit")
			os.Exit(1)
		}
		return
	}
	if err := gendocs.Generate(root, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
