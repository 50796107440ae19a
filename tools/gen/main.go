// Command gen regenerates completions, man pages and the command reference
// from ccx's command tree: go run ./tools/gen [-dir REPO_ROOT].
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
	flag.Parse()
	io, _, _, _ := ui.Test()
	if err := gendocs.Generate(cli.NewRootCmd(&cli.Factory{IO: io}), *dir); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
