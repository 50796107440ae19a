package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tourPorts are the defaults the README's tour relies on (emulate, listen).
var tourPorts = []int{4747, 3030}

// tourBlock is the ```sh block under the README's "quick tour" heading.
func tourBlock(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## A quick tour[^\n]*\n+```sh\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatal("README.md has no ```sh block under \"## A quick tour\"")
	}
	return string(m[1])
}

// TestReadmeTourAsOneBlock pastes the README's quick tour into bash as one
// script, on a fresh HOME, the way a new user would: servers started with &
// must be waited for by the commands after them, every command must succeed.
func TestReadmeTourAsOneBlock(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the README tour (-short)")
	}
	if _, err := exec.LookPath("ccx"); err != nil {
		t.Fatalf("ccx shim not on PATH (testscript.Main sets it up): %v", err)
	}
	tour := tourBlock(t)
	// The tour uses fixed ports: a port another program holds for a moment
	// is waited for (30s at most), one held longer is a clear failure.
	for _, p := range tourPorts {
		deadline := time.Now().Add(30 * time.Second)
		for {
			l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err == nil {
				l.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("port %d is busy (%v): the README tour uses the default ports %v; stop what listens there and run again", p, err, tourPorts)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "CCX_") || k == "HOME" || k == "XDG_CONFIG_HOME" || k == "NO_COLOR" || k == "CLICOLOR_FORCE" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+home, "CI=true")

	cmd := exec.Command("bash", "-c", "set -e -o pipefail\n"+tour)
	cmd.Dir = home
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Files, not pipes: the background servers keep their ends open.
	stdout, _ := os.Create(filepath.Join(home, "stdout"))
	stderr, _ := os.Create(filepath.Join(home, "stderr"))
	defer stdout.Close()
	defer stderr.Close()
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(90 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		err = <-done
		t.Errorf("the tour did not finish within 90s")
	}
	stopGroup(t, pgid)
	out, _ := os.ReadFile(stdout.Name())
	errOut, _ := os.ReadFile(stderr.Name())
	if err != nil {
		code := -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		t.Fatalf("the tour failed (exit %d):\n--- script\n%s--- stdout\n%s--- stderr\n%s", code, tour, out, errOut)
	}
	for _, want := range []string{
		"✓ sent message text",                        // ccx send --local reached the emulator
		`→ text "Hi from an agent"  sent`,            // emulate send reached listen
		"16 passed, 0 failed, 0 warnings, 0 skipped", // check against listen
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("stdout lacks %q:\n%s\n--- stderr\n%s", want, out, errOut)
		}
	}
	if strings.Contains(string(errOut), "gave up waiting") {
		t.Errorf("a command gave up waiting:\n%s", errOut)
	}
}

// stopGroup interrupts what the script left running (its & servers) and
// waits, bounded, until they are gone.
func stopGroup(t *testing.T, pgid int) {
	t.Helper()
	_ = syscall.Kill(-pgid, syscall.SIGINT)
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(-pgid, 0) == nil {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			t.Errorf("the tour's servers did not stop within 10s of SIGINT")
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
