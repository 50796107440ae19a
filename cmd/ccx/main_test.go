package main

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"syscall"
	"testing"

	"github.com/ccx-cli/ccx/internal/cli"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run the real command tree as the "ccx" program.
func TestMain(m *testing.M) {
	cli.PanicEnv = "CCX_TEST_PANIC" // only this test binary can be made to panic
	if os.Getenv("CCX_TEST_AS_CCX") == "1" {
		// Run as ccx for the signal tests (signal_unix_test.go). A signal that
		// arrives before cli.Main installs its handler must not kill the
		// process: it is caught from here on (fd 3 tells the test so), and
		// the tests send it again until the process exits.
		signal.Notify(make(chan os.Signal, 1), os.Interrupt, syscall.SIGTERM)
		if ready := os.NewFile(3, "ready"); ready != nil {
			_, _ = ready.Write([]byte{'r'})
			ready.Close()
		}
		os.Exit(cli.Main())
	}
	testscript.Main(m, map[string]func(){
		"ccx": func() { os.Exit(cli.Main()) },
	})
}

// TestScript runs the end-to-end CLI scripts in testdata/script: real
// processes, real stdout/stderr/exit codes.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "../../testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("CCX_CONFIG", env.WorkDir+"/.config/ccx/config.toml")
			env.Setenv("CCX_REPO", repoRoot())
			env.Setenv("CI", "true")
			return nil
		},
		Cmds: scriptCmds,
	})
}

// cmdExits runs a program and asserts its exit code: exits CODE PROG [ARGS...].
// Its stdout and stderr feed the following stdout/stderr checks.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

func repoRoot() string {
	wd, _ := os.Getwd()
	return wd + "/../.."
}
