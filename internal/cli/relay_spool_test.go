package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/relay"
)

// spoolWith writes a spool of n queued events (bodies "needle-<i>") and
// returns its path and bytes.
func spoolWith(t *testing.T, n int) (string, []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "relay.db")
	s, err := relay.OpenSpool(path, relay.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		body := fmt.Sprintf(`{"text":"needle-%03d %s"}`, i, strings.Repeat("x", 150))
		it := relay.Item{Key: fmt.Sprint(i), ContactID: "+60177872890", MID: fmt.Sprint("m", i), Kind: "message",
			Build: func(string) ([]byte, error) { return []byte(body), nil }}
		if _, _, err := s.Enqueue([]relay.Item{it}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, b
}

// damage rewrites path with fn applied at each offset of needle (older
// copies of a page stay in the file until bbolt reuses them).
func damage(t *testing.T, path string, data []byte, needle string, fn func(b []byte, at int)) {
	t.Helper()
	b := append([]byte(nil), data...)
	n := 0
	for from := 0; ; n++ {
		i := bytes.Index(data[from:], []byte(needle))
		if i < 0 {
			break
		}
		fn(b, from+i)
		from += i + 1
	}
	if n == 0 {
		t.Fatalf("%s not in the spool", needle)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// zeroPageHeader: the page holding needle claims to be page 0.
func zeroPageHeader(b []byte, at int) {
	p := at / os.Getpagesize() * os.Getpagesize()
	copy(b[p:p+8], make([]byte, 8))
}

func TestRelayRefusesDamagedSpool(t *testing.T) {
	path, data := spoolWith(t, 60)
	damage(t, path, data, "needle-030", zeroPageHeader)
	env := map[string]string{"CCX_WEBHOOK_URL": "http://127.0.0.1:9/", "CCX_CHANNEL_ID": "c", "CCX_API_TOKEN": "tokentokentoken"}
	f, out, errOut := emuFactory(t, env)
	if code := runArgs(f, "relay", "--provider", "loopback", "--port", "0", "--spool", path); code != ExitIO ||
		!strings.Contains(errOut.String(), path) || !strings.Contains(errOut.String(), "ccx relay spool salvage") {
		t.Fatalf("relay on a damaged spool: exit %d, %s", code, errOut)
	}
	errOut.Reset()
	if code := runArgs(f, "relay", "status", "--spool", path); code != ExitIO || !strings.Contains(errOut.String(), "is damaged") {
		t.Fatalf("status: exit %d, %s", code, errOut)
	}
	errOut.Reset()
	if code := runArgs(f, "--json", "relay", "spool", "check", "--spool", path); code != ExitFailure {
		t.Fatalf("check: exit %d, %s", code, errOut)
	}
	var rep relay.CheckReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil || rep.OK || rep.Opens || len(rep.Problems) == 0 {
		t.Fatalf("check --json: %s %v", out, err)
	}
	out.Reset()
	to := filepath.Join(t.TempDir(), "new.db")
	if code := runArgs(f, "relay", "spool", "salvage", "--spool", path, "--to", to); code != ExitFailure ||
		!strings.Contains(out.String(), "damage") {
		t.Fatalf("salvage: exit %d, %s %s", code, out, errOut)
	}
	// The new spool is clean, 0600, and holds what was readable.
	out.Reset()
	if code := runArgs(f, "--json", "relay", "status", "--spool", to); code != ExitOK {
		t.Fatalf("status of the salvaged spool: exit %d, %s", code, errOut)
	}
	var st relay.Stats
	if err := json.Unmarshal(out.Bytes(), &st); err != nil || st.Depth < 40 || st.Depth > 60 {
		t.Fatalf("salvaged status %s %v", out, err)
	}
	if fi, err := os.Stat(to); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("salvaged file mode %v %v", fi.Mode(), err)
	}
	if code := runArgs(f, "relay", "spool", "check", "--spool", to); code != ExitOK {
		t.Fatalf("check of the salvaged spool: exit %d", code)
	}
	// No overwrite without --force; never onto itself; --to is required.
	errOut.Reset()
	if code := runArgs(f, "relay", "spool", "salvage", "--spool", path, "--to", to); code != ExitUsage || !strings.Contains(errOut.String(), "--force") {
		t.Fatalf("salvage onto an existing file: exit %d, %s", code, errOut)
	}
	if code := runArgs(f, "relay", "spool", "salvage", "--spool", path, "--to", to, "--force"); code != ExitFailure {
		t.Fatalf("salvage --force: exit %d, %s", code, errOut)
	}
	if code := runArgs(f, "relay", "spool", "salvage", "--spool", path, "--to", path, "--force"); code != ExitUsage {
		t.Fatalf("salvage onto itself: exit %d", code)
	}
	if code := runArgs(f, "relay", "spool", "salvage", "--spool", path); code != ExitUsage {
		t.Fatalf("salvage without --to: exit %d", code)
	}
	if code := runArgs(f, "relay", "spool", "check", "--spool", filepath.Join(t.TempDir(), "none.db")); code != ExitIO {
		t.Fatalf("check of a missing file: exit %d", code)
	}
}

func TestRelayStatusCountsQuarantined(t *testing.T) {
	path, data := spoolWith(t, 5)
	f, out, errOut := emuFactory(t, nil)
	if code := runArgs(f, "relay", "spool", "check", "--spool", path); code != ExitOK || !strings.Contains(out.String(), "ok: no damage") {
		t.Fatalf("clean check: exit %d, %s %s", code, out, errOut)
	}
	damage(t, path, data, "needle-002", func(b []byte, at int) { b[at+3] ^= 0x20 })
	out.Reset()
	if code := runArgs(f, "relay", "status", "--spool", path); code != ExitFailure || !strings.Contains(out.String(), "bad         1") ||
		!strings.Contains(out.String(), "pending     4") {
		t.Fatalf("status with an unreadable event: exit %d, %s %s", code, out, errOut)
	}
	out.Reset()
	if code := runArgs(f, "relay", "spool", "check", "--spool", path); code != ExitFailure || !strings.Contains(out.String(), "cannot be read") {
		t.Fatalf("check with an unreadable event: exit %d, %s", code, out)
	}
}
