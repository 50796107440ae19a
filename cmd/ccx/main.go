// Command ccx is the IS-Messenger Custom Channel developer tool.
package main

import (
	"os"

	"github.com/ccx-cli/ccx/internal/cli"
)

func main() { os.Exit(cli.Main()) }
