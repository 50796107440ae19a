package cli

import (
	"context"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/emulator/remote"
	"github.com/spf13/cobra"
)

// LocalWait bounds how long a command given --local waits for `ccx emulate`
// (started a moment ago with `&`) to write the 'local' profile and answer
// its health check: long enough for a pasted block, short enough never to
// look like a hang.
var LocalWait = 5 * time.Second

// waitHook, when set (tests), runs after each failed poll of a wait.
var waitHook func()

// waitForLocal waits, once, until the 'local' profile exists and its
// emulator answers, or LocalWait has passed (remote.Waiter.ForLocal).
func (f *Factory) waitForLocal(ctx context.Context) {
	f.localOnce.Do(func() {
		path, err := config.DefaultPath(f.IO.Getenv)
		if err != nil {
			return
		}
		if f.waiter().ForLocal(ctx, path) {
			f.resetConfig() // read the profile it wrote
		}
	})
}

func (f *Factory) waiter() remote.Waiter {
	return remote.Waiter{Max: LocalWait, Log: f.IO.ErrOut, Hook: waitHook}
}

// waitForServer waits (up to LocalWait) for a server on this machine to bind.
func (f *Factory) waitForServer(ctx context.Context, base string) {
	f.waiter().ForServer(ctx, base)
}

// localWaitAnnotation marks the commands that talk to (or through) the
// emulator, so that --local makes them wait for it.
const localWaitAnnotation = "ccx/local-wait"

// waitsForLocal reports whether cmd or a parent is marked.
func waitsForLocal(cmd *cobra.Command) bool {
	for c := cmd; c != nil; c = c.Parent() {
		if c.Annotations[localWaitAnnotation] == "true" {
			return true
		}
	}
	return false
}

func markWaitsForLocal(cmds ...*cobra.Command) {
	for _, c := range cmds {
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		c.Annotations[localWaitAnnotation] = "true"
	}
}

// resetConfig forgets a config file loaded before the emulator wrote it.
func (f *Factory) resetConfig() {
	f.configOnce = sync.Once{}
	f.configFile, f.configErr = nil, nil
}
