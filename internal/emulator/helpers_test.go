package emulator

import "github.com/ccx-cli/ccx/internal/ui"

func plainStyles() ui.Styles {
	io, _, _, _ := ui.Test()
	return io.Styles(io.Out)
}
