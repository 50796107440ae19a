package cli

// Audits over the whole command tree: help that teaches, completions for
// every enum-like flag, suggestions for typos, hints on auth failures.
// They walk the tree, so commands added later are audited too.

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func auditRoot() *cobra.Command {
	io, _, _, _ := ui.Test()
	return NewRootCmd(&Factory{IO: io})
}

// walk visits every command below root (root included), skipping cobra's
// hidden internals (__complete, help).
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		if sub.Hidden || sub.Name() == "help" || strings.HasPrefix(sub.Name(), "__") {
			continue
		}
		walk(sub, fn)
	}
}

// helpAllowList: commands allowed to lack an Example (keep it tiny, say why).
var helpAllowList = map[string]string{}

func TestEveryCommandTeaches(t *testing.T) {
	n := 0
	walk(auditRoot(), func(c *cobra.Command) {
		if c.IsAdditionalHelpTopicCommand() {
			if c.Short == "" || c.Long == "" {
				t.Errorf("help topic %q needs Short and Long", c.Name())
			}
			return
		}
		if !c.Runnable() && !c.HasSubCommands() {
			return
		}
		n++
		path := c.CommandPath()
		if c.Short == "" || strings.Contains(strings.TrimSpace(c.Short), "\n") {
			t.Errorf("%s: Short must be one non-empty line, got %q", path, c.Short)
		}
		if strings.TrimSpace(c.Long) == "" {
			t.Errorf("%s: no Long description", path)
		}
		if _, ok := helpAllowList[path]; !ok && strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s: no Example", path)
		}
		for _, line := range strings.Split(strings.ReplaceAll(c.Example, "\\\n", " "), "\n") {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "#") && !strings.Contains(l, "ccx ") && !strings.HasPrefix(l, "ccx") {
				t.Errorf("%s: example line %q does not run ccx", path, l)
			}
		}
	})
	if n < 30 {
		t.Fatalf("walked only %d commands: the walk is broken", n)
	}
}

// enumFlags are flags whose values come from a fixed set (or from the
// config): wherever one appears it must complete. Add new enum flags here.
var enumFlags = []string{
	"kind", "status", "id-type", "type", "provider", "format", "log-level",
	"only", "skip", "reply-status", "fail-status", "profile", "mime",
}

// enumExempt are flags that look enum-like but are not.
var enumExempt = map[string]string{
	"ccx emulate --channel": "id=ID,token=TOKEN,id-type=phone|custom,...: a compound value",
}

// placeholder is pflag's way to name a flag's value: "write into `DIR`".
var placeholder = regexp.MustCompile("`[A-Z][A-Z_]*`")

// pipeEnum spots usage strings that document a closed set: "image|video|audio|file".
var pipeEnum = regexp.MustCompile(`\b[a-z][a-z0-9_-]*(\|[a-z][a-z0-9_-]*)+\b`)

func TestEnumFlagsComplete(t *testing.T) {
	isEnum := map[string]bool{}
	for _, n := range enumFlags {
		isEnum[n] = true
	}
	checked := 0
	walk(auditRoot(), func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(fl *pflag.Flag) {
			key := c.CommandPath() + " --" + fl.Name
			if strings.Contains(fl.Usage, "`") && !placeholder.MatchString(fl.Usage) {
				// pflag shows a back-quoted word as the value's name: "--local ccx emulate".
				t.Errorf("%s: back-quotes in the usage %q; use 'single quotes'", key, fl.Usage)
			}
			if _, ok := enumExempt[key]; ok {
				return
			}
			if !isEnum[fl.Name] && !pipeEnum.MatchString(fl.Usage) && !(fl.Name == "output" && strings.Contains(fl.Usage, "format")) {
				return
			}
			checked++
			fn, ok := c.GetFlagCompletionFunc(fl.Name)
			if !ok {
				t.Errorf("%s: enum-like flag has no completion (usage %q); register one (fixedCompletion)", key, fl.Usage)
				return
			}
			if fl.Name == "profile" {
				return // depends on the config; tested below
			}
			vals, dir := fn(c, nil, "")
			if len(vals) == 0 {
				t.Errorf("%s: completion offers nothing", key)
			}
			if dir&cobra.ShellCompDirectiveNoFileComp == 0 {
				t.Errorf("%s: completion falls back to file names", key)
			}
		})
	})
	if checked < 10 {
		t.Fatalf("only %d enum flags found: the walk is broken", checked)
	}
}

func TestCompletionValues(t *testing.T) {
	c := newCLI(t)
	f, err := config.Load(c.env["CCX_CONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	f.Put("prod", config.Profile{ChannelID: "p"})
	f.Put("staging", config.Profile{ChannelID: "s"})
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "config", "use", ""}, []string{"prod", "staging"}},
		{[]string{"__complete", "config", "delete", ""}, []string{"prod", "staging"}},
		{[]string{"__complete", "send", "text", "hi", "--profile", ""}, []string{"prod", "staging"}},
		{[]string{"__complete", "send", "attachment", "u", "--kind", ""}, []string{"image", "video", "audio", "file"}},
		{[]string{"__complete", "send", "receipt", "m", "--status", ""}, []string{"delivered", "read", "failed"}},
		{[]string{"__complete", "send", "text", "x", "--id-type", ""}, []string{"phone", "custom"}},
		{[]string{"__complete", "check", "--only", ""}, []string{"auth-missing", "auth-wrong"}},
		{[]string{"__complete", "check", "--skip", "auth-missing,"}, []string{"auth-missing,auth-wrong", "auth-missing,text"}},
		{[]string{"__complete", "check", "--e2e", "--only", ""}, []string{"in-text", "in-bad-signature", "receipt-delivered", "fail-recipient"}},
		{[]string{"__complete", "check", "--e2e", "--provider", ""}, []string{"clicksend", "telegram", "twilio"}},
		{[]string{"__complete", "relay", "--provider", ""}, []string{"gupshup", "zalo"}},
		{[]string{"__complete", "provider", "serve", "--provider", ""}, []string{"gupshup", "zalo"}},
		{[]string{"__complete", "listen", "--reply-status", ""}, []string{"200", "401", "500"}},
		{[]string{"__complete", "se"}, []string{"send"}},
		{[]string{"__complete", "completion", ""}, []string{"bash", "zsh", "fish", "powershell"}},
	} {
		r := c.run(tt.args...)
		for _, w := range tt.want {
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(w) + `(\t|$)`).MatchString(r.stdout) {
				t.Errorf("%v: no %q in\n%s", tt.args[1:], w, r.stdout)
			}
		}
	}
}

// --only/--skip complete the ids of the suite that will run.
func TestCheckCompletionFollowsE2E(t *testing.T) {
	c := newCLI(t)
	plain, e2e := c.run("__complete", "check", "--only", "").stdout, c.run("__complete", "check", "--e2e", "--skip", "").stdout
	if strings.Contains(plain, "in-text") || !strings.Contains(plain, "auth-missing") {
		t.Errorf("check --only completes:\n%s", plain)
	}
	if strings.Contains(e2e, "auth-missing") || !strings.Contains(e2e, "in-platform-down") {
		t.Errorf("check --e2e --skip completes:\n%s", e2e)
	}
}

func TestListCompletionSkipsGiven(t *testing.T) {
	vals, _ := listCompletion([]string{"a", "b", "c"})(nil, nil, "a,c,")
	if strings.Join(vals, " ") != "a,c,b" {
		t.Errorf("got %q, want only a,c,b", vals)
	}
}

func TestDidYouMean(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"sned"}, "send"},
		{[]string{"send", "txt", "hi"}, "text"},
		{[]string{"send", "recipt", "m"}, "receipt"},
		{[]string{"config", "lst"}, "list"},
		{[]string{"emulate", "snd"}, "send"},
		{[]string{"emulate", "send", "txt", "x"}, "text"},
		{[]string{"trigger", "txt", "x"}, "text"},
		{[]string{"completion", "bsh"}, "bash"},
		{[]string{"lsiten"}, "listen"},
	} {
		r := newCLI(t).run(tt.args...)
		if r.code != ExitUsage {
			t.Errorf("%v: exit %d, want 2", tt.args, r.code)
		}
		if !strings.Contains(r.stderr, "Did you mean this?\n\t"+tt.want+"\n") {
			t.Errorf("%v: no suggestion %q in stderr:\n%s", tt.args, tt.want, r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("%v: stdout %q, want nothing", tt.args, r.stdout)
		}
	}
	// Nothing close: still a usage error, with a pointer to --help.
	r := newCLI(t).run("send", "xyzzy")
	if r.code != ExitUsage || strings.Contains(r.stderr, "Did you mean") || !strings.Contains(r.stderr, "ccx send --help") {
		t.Errorf("send xyzzy: %d %q", r.code, r.stderr)
	}
}

// TestAuthHints: every command that meets a 401 says what to check and
// names `ccx config`, and never prints the token.
func TestAuthHints(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"message":"bad token"}}`))
	}))
	defer srv.Close()
	for _, args := range [][]string{
		{"send", "text", "hi"},
		{"trigger", "text", "hi", "--to", srv.URL},
		{"trigger", "text", "hi", "--to", srv.URL, "--json"},
		{"check", srv.URL},
	} {
		c := newCLI(t).withProfile(srv.URL)
		r := c.run(args...)
		if args[0] != "check" && r.code != ExitAuth {
			t.Errorf("%v: exit %d, want 4\n%s", args, r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "ccx config") || !strings.Contains(strings.ToLower(r.stderr), "token") {
			t.Errorf("%v: stderr lacks a token/ccx config hint:\n%s", args, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, testToken) {
			t.Errorf("%v: token leaked", args)
		}
		if len(args) > 4 && args[len(args)-1] == "--json" {
			var v map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
				t.Errorf("%v: stdout is not JSON (hint leaked into it?): %q", args, r.stdout)
			}
		}
	}
}

// TestEmulateSendAuthHint: the emulator's call refused with 401 tells the
// user which token the emulator sends and how to align the two.
func TestEmulateSendAuthHint(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":{"message":"bad token"}}`))
	}))
	defer srv.Close()
	ch := emulator.GenerateChannel(channel.IDPhone, srv.URL)
	e, err := emulator.New(emulator.Options{Channels: []emulator.Channel{ch}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	r := newCLI(t).run("emulate", "send", "text", "hi", "--emulator", e.URL(), "--to", "+60177872890")
	if r.code != ExitAuth {
		t.Fatalf("exit %d, want 4\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "ccx config") || !strings.Contains(r.stderr, "token") {
		t.Errorf("no hint:\n%s", r.stderr)
	}
	if strings.Contains(r.stderr+r.stdout, ch.Token) {
		t.Error("token leaked")
	}
}
