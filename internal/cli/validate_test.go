package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/ccx-cli/ccx/internal/validate/report"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

type cliResult struct {
	code        int
	stdout, err string
}

// runCLI runs ccx from the repository root with a private config and env.
func runCLI(t *testing.T, env map[string]string, tty bool, stdin string, args ...string) cliResult {
	t.Helper()
	io, in, out, errOut := ui.Test()
	in.WriteString(stdin)
	cfg := filepath.Join(t.TempDir(), "config.toml")
	io.SetGetenv(func(k string) string {
		if k == "CCX_CONFIG" {
			return cfg
		}
		return env[k]
	})
	io.SetStdoutTTY(tty)
	code := Run(context.Background(), &Factory{IO: io}, args)
	return cliResult{code, out.String(), errOut.String()}
}

func chdirRoot(t *testing.T) {
	t.Helper()
	t.Chdir(filepath.Join("..", ".."))
}

func TestValidateGolden(t *testing.T) {
	chdirRoot(t)
	inputs := []string{"testdata/ndjson/mixed.ndjson", "testdata/array/mixed.json", "testdata/invalid/webhook/mid-length--51-chars.json", "testdata/valid/reply", "testdata/missing.json"}
	tests := []struct {
		name  string
		tty   bool
		stdin string
		args  []string
	}{
		{"text", false, "", append([]string{"validate"}, inputs...)},
		{"text-tty", true, "", append([]string{"validate", "--id-type", "phone"}, inputs...)},
		{"json", false, "", append([]string{"validate", "--output", "json"}, inputs...)},
		{"github", false, "", append([]string{"validate", "-o", "github", "--strict"}, inputs...)},
		{"stdin-strict-quiet", false, `{"mId":"a","x":1}` + "\n" + `{"mId":""}`, []string{"validate", "--strict", "-q", "-"}},
		{"id-text", false, "", []string{"validate", "id", "--type", "phone", "+60177872890", "60177872890", "+60 17", "+0123456789"}},
		{"id-json", false, "", []string{"--json", "validate", "id", "--type", "custom", "user_1=+/@X", "a.b", strings.Repeat("x", 51)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, tt.tty, tt.stdin, tt.args...)
			got := "# ccx " + strings.Join(tt.args, " ") + "\n# exit " + strconv.Itoa(r.code) + "\n# stdout\n" + r.stdout + "# stderr\n" + r.err
			golden := filepath.Join("testdata", "golden", "validate", tt.name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/cli -run TestValidateGolden -update)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (rerun with -update if intended)\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

func TestValidateExitCodes(t *testing.T) {
	chdirRoot(t)
	tests := []struct {
		name string
		args []string
		code int
		err  string // substring of stderr
	}{
		{"valid dir", []string{"validate", "testdata/valid/webhook/"}, 0, "all valid"},
		{"whole valid tree", []string{"validate", "testdata/valid"}, 0, "all valid"},
		{"invalid file", []string{"validate", "testdata/invalid/webhook/mid-length--51-chars.json"}, 1, "1 invalid"},
		{"warning passes", []string{"validate", "testdata/invalid/webhook/events-multiple--two-events.json"}, 0, "valid, 1 warning"},
		{"warning fails under strict", []string{"validate", "--strict", "testdata/invalid/webhook/events-multiple--two-events.json"}, 1, "--strict"},
		{"missing file wins over invalid", []string{"validate", "nope.json", "testdata/invalid/webhook/mid-length--51-chars.json"}, 3, "nope.json: no such file"},
		{"empty dir", []string{"validate", "internal/build"}, 3, "no *.json"},
		{"bad kind", []string{"validate", "--kind", "sms", "x.json"}, 2, "unknown --kind"},
		{"bad output", []string{"validate", "--output", "xml"}, 2, "unknown --output"},
		{"json conflicts", []string{"--json", "validate", "--output", "github"}, 2, "conflicts"},
		{"bad status", []string{"validate", "--status", "42"}, 2, "invalid --status 42: use an HTTP status"},
		{"bad id type", []string{"validate", "--id-type", "email"}, 2, "unknown ID type"},
		{"kind flag", []string{"validate", "--kind", "reply", "testdata/valid/webhook/message--text.json"}, 1, "invalid"},
		{"status flag", []string{"validate", "--status", "400", "testdata/valid/reply/200--mid.json"}, 1, "invalid"},
		{"text limit", []string{"validate", "--strict", "--text-limit", "5", "testdata/valid/webhook/message--text.json"}, 1, "1 warning"},
		{"id needs value", []string{"validate", "id"}, 2, "at least one VALUE"},
		{"id bad type", []string{"validate", "id", "x", "--type", "mail"}, 2, "unknown ID type"},
		{"id no type", []string{"validate", "id", "any_thing", "+60177872890"}, 0, "no ID type"},
		{"id no type, fits neither", []string{"validate", "id", "any.thing"}, 1, "no ID type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, nil, false, "", tt.args...)
			if r.code != tt.code || !strings.Contains(r.err, tt.err) {
				t.Errorf("exit %d, stderr %q; want exit %d with %q", r.code, r.err, tt.code, tt.err)
			}
		})
	}
}

// TestValidateSettings: --id-type and --channel-id fall back to env and
// profile; the flag wins.
func TestValidateSettings(t *testing.T) {
	var got *ValidateOptions
	run := func(env map[string]string, args ...string) {
		t.Helper()
		io, _, _, _ := ui.Test()
		cfg := filepath.Join(t.TempDir(), "config.toml")
		if err := os.WriteFile(cfg, []byte("active = \"p\"\n[profiles.p]\nid_type = \"custom\"\nchannel_id = \"fromprofile\"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		io.SetGetenv(func(k string) string {
			if k == "CCX_CONFIG" {
				return cfg
			}
			return env[k]
		})
		f := &Factory{IO: io}
		root := NewRootCmd(f)
		for i, c := range root.Commands() {
			if c.Name() == "validate" {
				root.RemoveCommand(root.Commands()[i])
				break
			}
		}
		root.AddCommand(newValidateCmd(f, func(_ context.Context, o *ValidateOptions) error { got = o; return nil }))
		root.SetArgs(args)
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
	}
	run(nil, "validate", "x.json")
	if got.IDType != channel.IDCustom || got.Channel != "fromprofile" || got.Output != "text" {
		t.Errorf("profile: %+v", got)
	}
	run(map[string]string{"CCX_ID_TYPE": "phone", "CCX_CHANNEL_ID": "fromenv"}, "validate")
	if got.IDType != channel.IDPhone || got.Channel != "fromenv" {
		t.Errorf("env: %+v", got)
	}
	run(map[string]string{"CCX_ID_TYPE": "phone"}, "validate", "--id-type", "custom", "--channel-id", "flag", "--json", "--kind", "reply")
	if got.IDType != channel.IDCustom || got.Channel != "flag" || got.Output != "json" || got.Kind != validate.KindReply {
		t.Errorf("flags: %+v", got)
	}
}

func TestValidateNoInputOnTerminal(t *testing.T) {
	io, _, _, errOut := ui.Test()
	io.SetStdinTTY(true)
	if code := Run(context.Background(), &Factory{IO: io}, []string{"validate"}); code != ExitUsage || !strings.Contains(errOut.String(), "stdin is a terminal") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestValidateJSONStream(t *testing.T) {
	chdirRoot(t)
	r := runCLI(t, nil, false, "", "--json", "validate", "testdata/ndjson/mixed.ndjson", "missing.json")
	if r.code != ExitIO {
		t.Fatalf("exit %d", r.code)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	types := map[string]int{}
	for _, l := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("not JSON: %q", l)
		}
		types[v["type"].(string)]++
	}
	if types["payload"] != 7 || types["error"] != 1 || types["summary"] != 1 {
		t.Errorf("line types %v", types)
	}
	var last struct {
		Type     string
		Payloads int
		Invalid  int
		OK       bool
	}
	_ = json.Unmarshal([]byte(lines[len(lines)-1]), &last)
	if last.Type != "summary" || last.Payloads != 7 || last.Invalid != 3 || last.OK {
		t.Errorf("summary %+v", last)
	}
}

func TestValidateLargeStdin(t *testing.T) {
	// A moderately large NDJSON stream through the whole command.
	line := `{"channelId":"c","contactId":"+60177872890","events":[{"type":"message","mId":"m","timestamp":1732435200000,"message":{"type":"text","text":"hi"}}]}` + "\n"
	in := strings.Repeat(line, 20000) + strings.Replace(line, "1732435200000", "1732435200", 1)
	r := runCLI(t, nil, false, in, "validate", "-")
	if r.code != ExitFailure || !strings.Contains(r.stdout, "<stdin>:20001:") || !strings.Contains(r.err, "20001 payloads in 1 file: 1 invalid") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.err)
	}
}

// TestValidateExamplesRun runs every example of `validate` and `validate id`
// from the repository root; each must succeed.
func TestValidateExamplesRun(t *testing.T) {
	chdirRoot(t)
	io, _, _, _ := ui.Test()
	cmd := newValidateCmd(&Factory{IO: io}, nil)
	examples := cmd.Example + "\n" + cmd.Commands()[0].Example
	n := 0
	for _, line := range strings.Split(examples, "\n") {
		line = strings.TrimSpace(line)
		stdin := ""
		if strings.HasPrefix(line, "cat ") {
			file, rest, _ := strings.Cut(strings.TrimPrefix(line, "cat "), " | ")
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			stdin, line = string(data), rest
		}
		if !strings.HasPrefix(line, "ccx ") {
			continue
		}
		n++
		r := runCLI(t, nil, false, stdin, strings.Fields(line)[1:]...)
		if r.code != 0 {
			t.Errorf("%s: exit %d\n%s%s", line, r.code, r.stdout, r.err)
		}
	}
	if n < 6 {
		t.Fatalf("only %d examples found", n)
	}
}

// TestValidateJobsSameOutput: --jobs 4 prints exactly what --jobs 1 prints
// (stdout, stderr, exit code) for every output format, over the whole
// testdata corpus and a generated NDJSON stream of a few thousand payloads.
func TestValidateJobsSameOutput(t *testing.T) {
	chdirRoot(t)
	// The generated stream: every corpus file as one line, drawn in a fixed
	// order, with blank lines and CRLF endings mixed in.
	var files []string
	for _, dir := range []string{"testdata/valid", "testdata/invalid"} {
		got, err := report.ExpandInput(dir, noSkipNote(t))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, got...)
	}
	var lines [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c bytes.Buffer
		if json.Compact(&c, data) == nil {
			data = c.Bytes()
		} else {
			data = bytes.ReplaceAll(data, []byte("\n"), []byte(" "))
		}
		lines = append(lines, data)
	}
	var gen bytes.Buffer
	for i := 0; i < 4000; i++ {
		gen.Write(lines[(i*7919)%len(lines)])
		switch i % 97 {
		case 0:
			gen.WriteString("\n\n")
		case 1:
			gen.WriteString("\r\n")
		default:
			gen.WriteString("\n")
		}
	}
	mixed := filepath.Join(t.TempDir(), "mixed.ndjson")
	if err := os.WriteFile(mixed, gen.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	inputs := []string{"testdata/valid", "testdata/invalid", "testdata/ndjson", "testdata/array", mixed, "testdata/missing.json"}
	for _, tc := range []struct {
		name string
		tty  bool
		args []string
	}{
		{"text", false, nil},
		{"text-tty", true, []string{"--id-type", "phone"}},
		{"json", false, []string{"--output", "json", "--channel-id", "c1"}},
		{"github", false, []string{"-o", "github", "--strict"}},
		{"quiet", false, []string{"--quiet", "--strict"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"validate"}, tc.args...), inputs...)
			seq := runCLI(t, nil, tc.tty, "", append(args, "--jobs", "1")...)
			par := runCLI(t, nil, tc.tty, "", append(args, "--jobs", "4")...)
			if seq.code != ExitIO || strings.Count(seq.stdout, "\n") < 1000 {
				t.Fatalf("sequential run: exit %d, %d output lines; want exit 3 and a long report", seq.code, strings.Count(seq.stdout, "\n"))
			}
			if par != seq {
				t.Errorf("--jobs 4 differs from --jobs 1: exit %d vs %d, stdout %d vs %d bytes, stderr %q vs %q",
					par.code, seq.code, len(par.stdout), len(seq.stdout), par.err, seq.err)
			}
		})
	}
	t.Run("stdin", func(t *testing.T) {
		seq := runCLI(t, nil, false, gen.String(), "validate", "--jobs", "1", "-o", "json", "-")
		par := runCLI(t, nil, false, gen.String(), "validate", "-o", "json", "-") // default: one worker per CPU
		if par != seq || strings.Count(seq.stdout, `{"type":"payload"`) < 3900 {
			t.Errorf("stdin: default --jobs differs from --jobs 1 (or too few payloads)\n%s", seq.stdout[max(0, len(seq.stdout)-300):])
		}
	})
	if r := runCLI(t, nil, false, "", "validate", "--jobs", "-1", "x.json"); r.code != ExitUsage || !strings.Contains(r.err, "--jobs") {
		t.Errorf("--jobs -1: exit %d, stderr %q", r.code, r.err)
	}
}

// noSkipNote fails the test when a walk skips a file.
func noSkipNote(t *testing.T) func(string, string) {
	return func(path, why string) { t.Errorf("skipped %s: %s", path, why) }
}
