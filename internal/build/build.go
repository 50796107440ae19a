// Package build carries version information set at link time:
// -ldflags "-X github.com/ccx-cli/ccx/internal/build.Version=1.2.3 ..."
package build

import "runtime/debug"

var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

func init() {
	if Version != "dev" {
		return
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		Version = info.Main.Version
	}
}
