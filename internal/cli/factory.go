package cli

import (
	"sync"

	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/fsutil"
	"github.com/ccx-cli/ccx/internal/ui"
)

// Factory hands commands their dependencies, so tests can swap any of them
// (GitHub CLI's cmdutil.Factory pattern).
type Factory struct {
	IO *ui.IOStreams

	// Global flag values, filled by the root command before any RunE.
	JSON    bool
	NoColor bool
	Profile string
	Verbose bool // -v/--verbose: HTTP heads and retries on stderr

	configOnce sync.Once
	configFile *config.File
	configErr  error

	localOnce sync.Once // --local waits for the emulator at most once
}

// Config loads the config file once ($CCX_CONFIG or the user config dir).
func (f *Factory) Config() (*config.File, error) {
	f.configOnce.Do(func() {
		path, err := config.DefaultPath(f.IO.Getenv)
		if err != nil {
			f.configErr = err
			return
		}
		fsutil.MakePrivate(path, f.IO.ErrOut) // it holds API tokens
		f.configFile, f.configErr = config.Load(path)
	})
	return f.configFile, f.configErr
}

// Settings resolves the effective profile: flags over CCX_* env over the
// active profile (--profile, CCX_PROFILE, the file's active, "default").
func (f *Factory) Settings(flags config.Profile) (config.Profile, error) {
	file, err := f.Config()
	if err != nil {
		return config.Profile{}, Exit(ExitIO, err)
	}
	p, err := file.Resolve(f.Profile, flags, f.IO.Getenv)
	if err != nil {
		return config.Profile{}, UsageErrorf(err)
	}
	return p, nil
}
