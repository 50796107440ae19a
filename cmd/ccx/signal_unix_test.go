//go:build unix

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ccxProc prepares this test binary to run as ccx (see TestMain) with an
// empty config.
func ccxProc(t *testing.T, stdin *os.File, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CCX_TEST_AS_CCX=1", "CI=true", "CCX_CONFIG="+filepath.Join(t.TempDir(), "config.toml"))
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	return cmd, &out, &errOut
}

// exitCode starts cmd and waits for it, sending sig (when non-nil) every
// 50 ms once the child catches signals (it says so on fd 3) until it exits:
// the first ones may arrive before ccx handles them. A process still
// running after 10 s is killed and the test fails.
func exitCode(t *testing.T, cmd *exec.Cmd, sig os.Signal, stderr *bytes.Buffer) int {
	t.Helper()
	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	cmd.ExtraFiles = []*os.File{wr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	wr.Close()
	ready := make(chan struct{})
	go func() {
		_, _ = rd.Read(make([]byte, 1)) // a byte, or EOF when the child exits
		close(ready)
	}()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case err := <-done:
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return ee.ExitCode()
			}
			if err != nil {
				t.Fatal(err)
			}
			return 0
		case <-tick.C:
			select {
			case <-ready:
				if sig != nil {
					_ = cmd.Process.Signal(sig)
				}
			default:
			}
		case <-deadline:
			_ = cmd.Process.Kill()
			<-done
			t.Fatalf("ccx %s still running after 10 s (signal %v); stderr %q", strings.Join(cmd.Args[1:], " "), sig, stderr.String())
		}
	}
}

// silentPipe is a pipe whose writer never writes (like `sleep 8 | ccx ...`).
func silentPipe(t *testing.T) *os.File {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return r
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

// TestBlockedReadsInterrupted: every command that reads stdin or a named
// file gives way to SIGINT/SIGTERM while the read blocks, with exit 130.
func TestBlockedReadsInterrupted(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "calls.json")
	mkfifo(t, fifo)
	cases := []struct {
		name  string
		stdin bool // a silent pipe on stdin; else no stdin
		sig   os.Signal
		args  []string
	}{
		{"validate stdin SIGINT", true, os.Interrupt, []string{"validate", "-"}},
		{"validate stdin SIGTERM", true, syscall.SIGTERM, []string{"validate", "-"}},
		{"validate FIFO without writer", false, os.Interrupt, []string{"validate", fifo}},
		{"send file stdin", true, os.Interrupt, []string{"send", "file", "-", "--dry-run"}},
		{"send file FIFO", false, os.Interrupt, []string{"send", "file", fifo, "--dry-run"}},
		{"replay stdin", true, os.Interrupt, []string{"replay", "-", "--to", "http://127.0.0.1:1", "--token", "tok-0123456789abcdef"}},
		{"config set from stdin", true, syscall.SIGTERM, []string{"config", "set", "api_token", "-"}},
		{"relay --credentials FIFO", false, os.Interrupt, []string{"relay", "--provider", "loopback", "--credentials", fifo, "--check-config",
			"--webhook-url", "http://127.0.0.1:1/", "--channel-id", "c1", "--token", "tok-0123456789abcdef", "--admin-addr", "off"}},
		{"provider send --credentials FIFO", false, syscall.SIGTERM, []string{"provider", "send", "--provider", "twilio", "--credentials", fifo,
			"--to", "http://127.0.0.1:1/providers/twilio/inbound", "text", "hi"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var in *os.File
			if tc.stdin {
				in = silentPipe(t)
			}
			cmd, out, errOut := ccxProc(t, in, tc.args...)
			if code := exitCode(t, cmd, tc.sig, errOut); code != 130 {
				t.Fatalf("exit %d, want 130; stderr %q", code, errOut.String())
			}
			if !strings.Contains(errOut.String(), "interrupted") {
				t.Errorf("stderr %q does not say interrupted", errOut.String())
			}
			if strings.Contains(errOut.String(), "goroutine") || out.Len() != 0 {
				t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
			}
		})
	}
}

// TestValidateWalkSkipsFIFO: a FIFO named like a payload in a directory is
// skipped with a note instead of blocking the walk forever.
func TestValidateWalkSkipsFIFO(t *testing.T) {
	dir := t.TempDir()
	body := `{"mId":"m1"}`
	if err := os.WriteFile(filepath.Join(dir, "ok.json"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	mkfifo(t, filepath.Join(dir, "pipe.json"))
	cmd, out, errOut := ccxProc(t, nil, "validate", dir)
	if code := exitCode(t, cmd, nil, errOut); code != 0 {
		t.Fatalf("exit %d, want 0; stderr %q", code, errOut.String())
	}
	if !strings.Contains(errOut.String(), "note: skipping "+filepath.Join(dir, "pipe.json")+": not a regular file (a named pipe)") {
		t.Errorf("no note about the FIFO: %q", errOut.String())
	}
	if !strings.Contains(out.String()+errOut.String(), "1 payload") {
		t.Errorf("ok.json not validated: stdout %q stderr %q", out.String(), errOut.String())
	}
}
