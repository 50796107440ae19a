package main

// Examples that run: every `ccx ...` line in the commands' --help Examples and
// every line of README.md's ```sh blocks is run by bash, with the real ccx
// (the testscript shim on PATH), against local fakes: the emulator library as
// the IS-Messenger webhook and an httptest integration server. The rules are
// in docs/contributing.md ("How examples are tested").

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/cli"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
	"github.com/ccx-cli/ccx/internal/relay"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/spf13/cobra"
)

const (
	exToken     = "ccx-examples-token-0123456789abcdef"
	exChannelID = "gfd8g7fd89dgfd"
	exContactID = "+60177872890"
	// notRun marks a README line that the test skips (keep it rare).
	notRun = "# not run in tests"
	// serverGrace is how long a command may run before it is treated as a
	// server: it then gets SIGINT and must shut down cleanly. Usage errors
	// happen at once, so this bounds the test, not what it asserts.
	serverGrace = 3 * time.Second
)

// exampleWorld is the fakes and fixtures the examples run against.
type exampleWorld struct {
	template string // fixture files copied into each example's directory
	env      []string
	emu      *emulator.Emulator
	server   *httptest.Server
}

func newExampleWorld(t *testing.T) *exampleWorld {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not on PATH")
	}
	if _, err := exec.LookPath("ccx"); err != nil {
		t.Fatalf("ccx shim not on PATH (testscript.Main sets it up): %v", err)
	}
	w := &exampleWorld{template: t.TempDir()}

	// The integration server: answers /message like a correct one would.
	w.server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		if strings.HasPrefix(r.URL.Path, "/providers/") { // a provider webhook (emulate customer): taken
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+exToken {
			rw.WriteHeader(http.StatusUnauthorized)
			_, _ = rw.Write([]byte(`{"error":{"message":"invalid token"}}`))
			return
		}
		_ = json.NewEncoder(rw).Encode(map[string]string{"mId": channel.NewMID()})
	}))
	t.Cleanup(w.server.Close)

	// The emulator: the IS-Messenger webhook, inbox and outgoing calls.
	emu, err := emulator.New(emulator.Options{
		Channels:  []emulator.Channel{{ID: exChannelID, Token: exToken, IDType: channel.IDPhone, APIBaseURL: w.server.URL}},
		StatePath: filepath.Join(w.template, "emulator.json"),
	})
	if err != nil {
		t.Fatal(err)
	}
	w.emu = emu
	t.Cleanup(func() { _ = emu.Close() })

	payload, _ := json.MarshalIndent(channel.NewWebhook(exChannelID, exContactID, &channel.Contact{FirstName: "John"},
		channel.NewEvent(channel.EventMessage, channel.Text("Hello"))), "", "  ")
	// One message so the emulator has a contact to answer.
	req, _ := http.NewRequest(http.MethodPost, emu.WebhookURL(), bytes.NewReader(payload))
	req.Header.Set("Authorization", "Bearer "+exToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("seeding the emulator: %d", resp.StatusCode)
	}
	if err := emu.Close(); err != nil { // flush emulator.json, then serve again without a state file
		t.Fatal(err)
	}
	state, err := os.ReadFile(filepath.Join(w.template, "emulator.json"))
	if err != nil {
		t.Fatal(err)
	}
	emu, err = emulator.New(emulator.Options{
		Channels: []emulator.Channel{{ID: exChannelID, Token: exToken, IDType: channel.IDPhone, APIBaseURL: w.server.URL}},
		// It plays Twilio too, for `ccx emulate customer`.
		Providers: []emulator.Provider{{WebhookURL: w.server.URL + "/providers/twilio/inbound",
			Build: func(c *http.Client) (provider.Emulator, error) {
				return emulators.New("twilio", emulators.Options{Client: c, NoReceipts: true})
			}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.emu = emu
	t.Cleanup(func() { _ = emu.Close() })
	seed, _ := http.NewRequest(http.MethodPost, emu.WebhookURL(), bytes.NewReader(payload))
	seed.Header = req.Header
	if resp, err := http.DefaultClient.Do(seed); err == nil {
		resp.Body.Close()
	}

	// Fixture files the examples name.
	record := fmt.Sprintf(`{"id":"rec-0001","method":"POST","path":"/message","header":{"Authorization":["Bearer %s"],"Content-Type":["application/json"]},"auth":"ok","type":"text","status":200,"body":"{\"channelId\":\"%s\",\"contactId\":\"%s\",\"message\":{\"type\":\"text\",\"text\":\"Hi\"}}","replyBody":"{\"mId\":\"x\"}","latencyMs":0.2}`+"\n",
		ui.Redact(exToken), exChannelID, exContactID)
	files := map[string]string{
		"payload.json":  string(payload) + "\n",
		"payloads.json": string(payload) + "\n",
		"token.txt":     exToken + "\n",
		"calls.ndjson":  record,
		"emulator.json": string(state),
		"twilio.env":    "CCX_TWILIO_ACCOUNT_SID=AC00000000000000000000000000000000\nCCX_TWILIO_AUTH_TOKEN=examples-auth-token-0123456789\nCCX_TWILIO_FROM=+15005550006\n",
		"telegram.env":  "CCX_TELEGRAM_BOT_TOKEN=123456:examples-bot-token\nCCX_TELEGRAM_WEBHOOK_SECRET=examples_webhook_secret\n",
	}
	// What `ccx emulate --provider twilio` writes next to the config file.
	files["provider-twilio.env"] = files["twilio.env"] + "CCX_PROVIDER_BASE_URL=" + w.server.URL + "\n"
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(w.template, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Relay spools for `ccx relay status --spool ...`.
	for _, name := range []string{"relay.db", "ccx-relay.db"} {
		sp, err := relay.OpenSpool(filepath.Join(w.template, name), relay.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if err := sp.Close(); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load(filepath.Join(w.template, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	p := config.Profile{WebhookURL: emu.WebhookURL(), ChannelID: exChannelID, APIToken: exToken, IDType: "phone", APIBaseURL: w.server.URL, ContactID: exContactID}
	for _, name := range []string{"default", "staging", "old", "local", "prod"} {
		cfg.Put(name, p)
	}
	if err := cfg.Use("default"); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}

	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "CCX_") || k == "NO_COLOR" || k == "CLICOLOR" || k == "CLICOLOR_FORCE" || k == "HOME" {
			continue
		}
		w.env = append(w.env, kv)
	}
	w.env = append(w.env,
		"CI=true",
		"CCX_WEBHOOK_URL="+emu.WebhookURL(),
		"CCX_CHANNEL_ID="+exChannelID,
		"CCX_API_TOKEN="+exToken,
		"CCX_ID_TYPE=phone",
		"CCX_API_BASE_URL="+w.server.URL,
		"CCX_CONTACT_ID="+exContactID,
		"CCX_EMULATOR_URL="+emu.URL(),
		"TOKEN="+exToken,
		"CCX_PROVIDER_BASE_URL="+w.server.URL, // providers' APIs: never the internet
	)
	return w
}

// rewrite points well-known local addresses in an example at the fakes, and
// fixed listening ports at free ones, so examples never touch real services.
func (w *exampleWorld) rewrite(line string) string {
	for _, host := range []string{"127.0.0.1", "localhost"} {
		for _, port := range []string{"3030", "8080", "8000"} {
			line = strings.ReplaceAll(line, "http://"+host+":"+port, w.server.URL)
		}
		line = strings.ReplaceAll(line, "http://"+host+":4747", w.emu.URL())
	}
	line = regexp.MustCompile(`--port[ =][0-9]+`).ReplaceAllString(line, "--port 0")
	// check --e2e binds a fixed port by default.
	if strings.Contains(line, "--e2e") && !strings.Contains(line, "--platform-port") {
		line = strings.Replace(line, "--e2e", "--e2e --platform-port 0", 1)
	}
	// `go run ./cmd/ccx` is ccx itself.
	line = regexp.MustCompile(`\bgo run \./cmd/ccx\b`).ReplaceAllString(line, "ccx")
	return line
}

type exampleResult struct {
	code           int
	stdout, stderr string
	server         bool // still running after serverGrace; stopped with SIGINT
}

// run runs one example line with bash in a fresh copy of the fixtures.
func (w *exampleWorld) run(t *testing.T, line string) exampleResult {
	t.Helper()
	dir := t.TempDir()
	entries, _ := os.ReadDir(w.template)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(w.template, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// Where the completion install examples write.
	for _, d := range []string{".zsh/completions", ".config/fish/completions", ".local/share/bash-completion/completions"} {
		_ = os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	// The env file `ccx emulate --provider twilio` leaves in the default config directory.
	if b, err := os.ReadFile(filepath.Join(w.template, "provider-twilio.env")); err == nil {
		_ = os.MkdirAll(filepath.Join(dir, ".config", "ccx"), 0o700)
		_ = os.WriteFile(filepath.Join(dir, ".config", "ccx", "provider-twilio.env"), b, 0o600)
	}
	// Examples may name the repository's testdata.
	_ = os.Symlink(filepath.Join(repoRoot(), "testdata"), filepath.Join(dir, "testdata"))

	cmd := exec.Command("bash", "-c", "set -o pipefail\n"+line)
	cmd.Dir = dir
	cmd.Env = append(append([]string{}, w.env...), "HOME="+dir, "CCX_CONFIG="+filepath.Join(dir, "config.toml"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	server := false
	select {
	case err = <-done:
	case <-time.After(serverGrace):
		server = true
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			err = <-done
			t.Errorf("%s: did not stop within 10s of SIGINT", line)
		}
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
		if code == -1 { // killed by a signal
			code = 128 + int(ee.Sys().(syscall.WaitStatus).Signal())
		}
	} else if err != nil {
		t.Fatal(err)
	}
	return exampleResult{code, stdout.String(), stderr.String(), server}
}

// check asserts what every example must satisfy: not a usage error (exit 2;
// also Go's exit code for a panic), no panic, no missing program, and a
// server stopped by SIGINT shuts down cleanly (0 or 130).
func (r exampleResult) check(t *testing.T, line string) {
	t.Helper()
	t.Logf("exit %d%s: %s", r.code, map[bool]string{true: " (server, stopped with SIGINT)"}[r.server], line)
	switch {
	case strings.Contains(r.stderr, "panic:") || strings.Contains(r.stderr, "goroutine "):
		t.Errorf("%s: panicked:\n%s", line, r.stderr)
	case r.code == cli.ExitUsage:
		t.Errorf("%s: usage error (exit 2):\n%s", line, r.stderr)
	case r.code == 126 || r.code == 127:
		t.Errorf("%s: a program is missing (exit %d):\n%s", line, r.code, r.stderr)
	case r.server && r.code != 0 && r.code != cli.ExitInterrupted:
		t.Errorf("%s: server exited %d after SIGINT, want 0 or 130:\n%s", line, r.code, r.stderr)
	}
}

// missingProgram reports a program an example pipes through that this
// machine lacks (PowerShell's Out-String on Linux, say): such lines skip.
func missingProgram(line string) string {
	unquoted := regexp.MustCompile(`'[^']*'|"[^"]*"`).ReplaceAllString(line, "x")
	if i := strings.Index(unquoted, " #"); i >= 0 { // a trailing comment
		unquoted = unquoted[:i]
	}
	unquoted = strings.TrimSuffix(strings.TrimSpace(unquoted), "&")
	for _, seg := range regexp.MustCompile(`\||&&|;`).Split(unquoted, -1) {
		fields := strings.Fields(seg)
		if len(fields) == 0 || fields[0] == "source" || strings.HasPrefix(fields[0], "$") || strings.Contains(fields[0], "=") {
			continue
		}
		if _, err := exec.LookPath(fields[0]); err != nil && !isShellBuiltin(fields[0]) {
			return fields[0]
		}
	}
	return ""
}

func isShellBuiltin(s string) bool {
	switch s {
	case "echo", "cd", "export", "printf", "test", "[", "read", "set", "true", "false", "mkdir":
		return true
	}
	return false
}

// exampleLines splits an Example (or a sh block) into command lines: joins
// backslash continuations, drops blank lines and whole-line comments.
func exampleLines(text string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(strings.ReplaceAll(text, "\\\n", " ")))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// TestHelpExamplesRun runs every example of every command's --help.
func TestHelpExamplesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every example (-short)")
	}
	w := newExampleWorld(t)
	io, _, _, _ := ui.Test()
	root := cli.NewRootCmd(&cli.Factory{IO: io})
	n := 0
	var visit func(c *cobra.Command)
	visit = func(c *cobra.Command) {
		for _, line := range exampleLines(c.Example) {
			if !strings.Contains(line, "ccx") {
				continue
			}
			n++
			line := line
			t.Run(c.CommandPath()+"/"+line, func(t *testing.T) {
				if p := missingProgram(w.rewrite(line)); p != "" {
					t.Skipf("needs %s, not installed here", p)
				}
				w.run(t, w.rewrite(line)).check(t, line)
			})
		}
		for _, sub := range c.Commands() {
			if !sub.Hidden {
				visit(sub)
			}
		}
	}
	visit(root)
	if n < 40 {
		t.Fatalf("only %d example lines found", n)
	}
}

var shBlock = regexp.MustCompile("(?s)```(?:sh|bash|shell|console)\n(.*?)```")

// readmeLines extracts the command lines of README.md's ```sh blocks. Lines
// ending in "# not run in tests" are skipped, and `go` commands other than
// `go run ./cmd/ccx` are left to CI (`go test ./...` is this very suite).
func readmeLines(readme string) (run, skipped []string) {
	for _, m := range shBlock.FindAllStringSubmatch(readme, -1) {
		for _, l := range exampleLines(m[1]) {
			l = strings.TrimPrefix(l, "$ ")
			switch {
			case strings.HasSuffix(l, notRun):
				skipped = append(skipped, l)
			case strings.HasPrefix(l, "go ") && !strings.HasPrefix(l, "go run ./cmd/ccx"):
				skipped = append(skipped, l)
			default:
				run = append(run, l)
			}
		}
	}
	return run, skipped
}

// TestReadmeExamplesRun runs the README's shell examples as written.
func TestReadmeExamplesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every README example (-short)")
	}
	b, err := os.ReadFile(filepath.Join(repoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	run, skipped := readmeLines(string(b))
	for _, l := range skipped {
		t.Logf("not run: %s", l)
	}
	if len(run) == 0 {
		t.Skip("README.md has no runnable ```sh lines")
	}
	w := newExampleWorld(t)
	for _, line := range run {
		line := line
		t.Run(line, func(t *testing.T) {
			if p := missingProgram(w.rewrite(line)); p != "" {
				t.Skipf("needs %s, not installed here", p)
			}
			w.run(t, w.rewrite(line)).check(t, line)
		})
	}
}

func TestReadmeLines(t *testing.T) {
	md := "intro\n```sh\ngo run ./cmd/ccx demo   # the loop\ngo test ./...\nccx send text hi \\\n  --dry-run\n# a comment\nccx listen # not run in tests\n```\n```go\nnot shell\n```\n```bash\n$ ccx version\n```\n"
	run, skipped := readmeLines(md)
	want := []string{"go run ./cmd/ccx demo   # the loop", "ccx send text hi    --dry-run", "ccx version"}
	if strings.Join(run, "|") != strings.Join(want, "|") {
		t.Errorf("run = %q, want %q", run, want)
	}
	if len(skipped) != 2 {
		t.Errorf("skipped = %q", skipped)
	}
	w := &exampleWorld{server: httptest.NewServer(http.NotFoundHandler())}
	defer w.server.Close()
	w.emu, _ = emulator.New(emulator.Options{})
	defer w.emu.Close()
	if got := w.rewrite("go run ./cmd/ccx trigger text hi --to http://127.0.0.1:3030 && ccx listen --port 3030"); got != "ccx trigger text hi --to "+w.server.URL+" && ccx listen --port 0" {
		t.Errorf("rewrite = %q", got)
	}
}
