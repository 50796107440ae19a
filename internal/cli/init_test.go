package cli

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/prompt"
	"github.com/ccx-cli/ccx/internal/ui"
)

// runInit runs `ccx init args...` on a terminal with a scripted prompter.
func runInit(t *testing.T, c *cliEnv, p prompt.Prompter, args ...string) runResult {
	t.Helper()
	io, _, out, errOut := ui.Test()
	io.SetGetenv(func(k string) string { return c.env[k] })
	io.SetStdinTTY(true)
	io.SetStdoutTTY(true)
	f := &Factory{IO: io}
	root := NewRootCmd(f)
	// Swap the registered init for one with the fake prompter.
	for _, sub := range root.Commands() {
		if sub.Name() == "init" {
			root.RemoveCommand(sub)
		}
	}
	root.AddCommand(newInitCmd(f, p))
	root.SetArgs(append([]string{"init"}, args...))
	err := root.ExecuteContext(context.Background())
	code := exitCode(err)
	if err != nil && err.Error() != "" {
		errOut.WriteString("error: " + err.Error() + "\n")
	}
	return runResult{code, out.String(), errOut.String()}
}

func loadConfig(t *testing.T, c *cliEnv) *config.File {
	t.Helper()
	f, err := config.Load(c.env["CCX_CONFIG"])
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestInitInteractive(t *testing.T) {
	c := newCLI(t)
	fake := &prompt.Fake{Answers: map[string][]string{
		"Profile name": {"bad name", "work"},
		"ID type":      {"Phone Number"},
		"Channel ID":   {"", "gfd8g7fd89dgfd"},
		"API Token":    {"", testToken},
		"Webhook URL":  {"webhook.respond.io", ""}, // second: accept the default
		"API Base URL": {"ftp://x", "http://127.0.0.1:3030"},
		"contact ID":   {"60177872890", "+60177872890"},
	}}
	r := runInit(t, c, fake).must(t, 0)
	f := loadConfig(t, c)
	want := config.Profile{
		WebhookURL: "https://webhook.respond.io/custom/channel/webhook/", ChannelID: "gfd8g7fd89dgfd",
		APIToken: testToken, IDType: "phone", APIBaseURL: "http://127.0.0.1:3030", ContactID: "+60177872890",
	}
	if f.Profiles["work"] != want || f.Active != "work" {
		t.Errorf("profile %+v active %q", f.Profiles["work"], f.Active)
	}
	// Each bad answer was rejected as typed and asked again.
	if len(fake.Rejected) != 6 {
		t.Errorf("rejected %d answers, want 6: %v", len(fake.Rejected), fake.Rejected)
	}
	if !strings.Contains(r.stderr, `saved profile "work"`) || strings.Contains(r.stderr, testToken) {
		t.Errorf("stderr %q", r.stderr)
	}
	st, _ := os.Stat(c.env["CCX_CONFIG"])
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
}

func TestInitFlagsSkipQuestionsAndExistingProfile(t *testing.T) {
	c := newCLI(t).withProfile("http://127.0.0.1:1/")
	// Flags answer everything but the optional values; the profile exists.
	fake := &prompt.Fake{Answers: map[string][]string{
		"exists":       {"y"},
		"API Base URL": {""},
		"contact ID":   {""},
		"active":       {"n"},
	}}
	runInit(t, c, fake, "--name", "staging", "--id-type", "custom", "--channel-id", "s1", "--token", testToken, "--webhook-url", "https://w.test/hook/").must(t, 0)
	for _, q := range fake.Asked {
		if strings.Contains(q, "Channel ID") || strings.Contains(q, "Token") || strings.Contains(q, "exists") {
			t.Errorf("asked %q although given (or new)", q)
		}
	}
	f := loadConfig(t, c)
	if f.Profiles["staging"].IDType != "custom" || f.Profiles["staging"].ChannelID != "s1" {
		t.Errorf("staging %+v", f.Profiles["staging"])
	}
	if f.Active != "default" {
		t.Errorf("declined to activate, but active = %q", f.Active)
	}

	// Re-running on the existing profile and declining keeps it.
	decline := &prompt.Fake{Answers: map[string][]string{"exists": {"n"}}}
	runInit(t, c, decline, "--name", "staging").must(t, 0)
	if loadConfig(t, c).Profiles["staging"].ChannelID != "s1" {
		t.Error("declined overwrite changed the profile")
	}

	// Replacing keeps the old token when the answer is empty.
	keep := &prompt.Fake{Answers: map[string][]string{
		"exists": {"y"}, "ID type": {""}, "Channel ID": {"s2"}, "API Token": {""},
		"Webhook URL": {""}, "API Base URL": {""}, "contact ID": {""}, "active": {"y"},
	}}
	runInit(t, c, keep, "--name", "staging").must(t, 0)
	f = loadConfig(t, c)
	if p := f.Profiles["staging"]; p.APIToken != testToken || p.ChannelID != "s2" || p.WebhookURL != "https://w.test/hook/" || p.IDType != "custom" || f.Active != "staging" {
		t.Errorf("staging %+v active %q", p, f.Active)
	}
}

func TestInitNonInteractive(t *testing.T) {
	c := newCLI(t)
	r := c.run("init").must(t, ExitUsage)
	for _, want := range []string{"cannot prompt", "--channel-id (or CCX_CHANNEL_ID)", "--token (or CCX_API_TOKEN)", "--webhook-url (or CCX_WEBHOOK_URL)", "--id-type (or CCX_ID_TYPE)"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q: %s", want, r.stderr)
		}
	}
	if _, err := os.Stat(c.env["CCX_CONFIG"]); err == nil {
		t.Error("a failed init wrote the config")
	}
	// Every value from flags and env: no terminal needed.
	c.env["CCX_API_TOKEN"] = testToken
	r = c.run("init", "--channel-id", "c1", "--webhook-url", "https://w.test/", "--id-type", "Phone Number", "--contact-id", "+60177872890", "--name", "ci", "--json").must(t, 0)
	var out map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out["profile"] != "ci" || out["active"] != true {
		t.Errorf("stdout %q", r.stdout)
	}
	f := loadConfig(t, c)
	if p := f.Profiles["ci"]; p.APIToken != testToken || p.IDType != "phone" || p.ContactID != "+60177872890" {
		t.Errorf("ci %+v", p)
	}
	// Bad values are reported per flag.
	r = c.run("init", "--channel-id", "c1", "--webhook-url", "nope", "--id-type", "phone", "--contact-id", "abc").must(t, ExitUsage)
	if !strings.Contains(r.stderr, "--webhook-url") || !strings.Contains(r.stderr, "--contact-id") {
		t.Errorf("stderr %q", r.stderr)
	}
}

func TestInitNeverPromptsWithoutTTY(t *testing.T) {
	c := newCLI(t)
	// A prompter that fails the test if used.
	fake := &prompt.Fake{Answers: map[string][]string{}}
	io, _, _, _ := ui.Test()
	io.SetGetenv(func(k string) string { return c.env[k] })
	f := &Factory{IO: io}
	cmd := newInitCmd(f, fake)
	cmd.SetArgs([]string{})
	err := cmd.ExecuteContext(context.Background())
	if exitCode(err) != ExitUsage || len(fake.Asked) != 0 {
		t.Errorf("err %v, asked %v", err, fake.Asked)
	}
}

func TestConfigCommands(t *testing.T) {
	c := newCLI(t)
	c.run("config", "set", "id_type", "Custom ID").must(t, 0)
	c.run("config", "set", "contact_id", "+60 1").must(t, ExitUsage)
	c.run("config", "set", "webhook_url", "example.com").must(t, ExitUsage)
	c.run("config", "set", "colour", "red").must(t, ExitUsage)
	c.stdin = testToken + "\n"
	r := c.run("config", "set", "api_token", "-").must(t, 0)
	if strings.Contains(r.stderr, testToken) || !strings.Contains(r.stderr, ui.Redact(testToken)) {
		t.Errorf("set output %q", r.stderr)
	}
	c.run("config", "set", "--profile", "two", "channel_id", "c2").must(t, 0)

	r = c.run("config", "get", "api_token").must(t, 0)
	if strings.TrimSpace(r.stdout) != ui.Redact(testToken) {
		t.Errorf("get api_token = %q", r.stdout)
	}
	r = c.run("config", "get", "api_token", "--show-token").must(t, 0)
	if strings.TrimSpace(r.stdout) != testToken {
		t.Errorf("get --show-token = %q", r.stdout)
	}
	r = c.run("config", "get", "id_type").must(t, 0)
	if strings.TrimSpace(r.stdout) != "custom" {
		t.Errorf("id_type normalised to %q", r.stdout)
	}
	c.run("config", "get", "channel_id").must(t, ExitFailure) // not set in default
	c.run("config", "get", "nope").must(t, ExitUsage)
	c.env["CCX_ID_TYPE"] = "phone"
	r = c.run("config", "get", "id_type").must(t, 0)
	if !strings.Contains(r.stderr, "CCX_ID_TYPE is set") {
		t.Errorf("no override note: %q", r.stderr)
	}
	delete(c.env, "CCX_ID_TYPE")

	r = c.run("config", "list", "--json").must(t, 0)
	var list struct {
		Path     string
		Active   string
		Profiles map[string]map[string]string
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatal(err, r.stdout)
	}
	if list.Active != "default" || list.Profiles["default"]["api_token"] != ui.Redact(testToken) || list.Profiles["two"]["channel_id"] != "c2" || list.Path != c.env["CCX_CONFIG"] {
		t.Errorf("list %+v", list)
	}
	r = c.run("config", "list").must(t, 0)
	if !strings.Contains(r.stdout, "default (active)") || strings.Contains(r.stdout, testToken) {
		t.Errorf("list %q", r.stdout)
	}

	c.run("config", "use", "two").must(t, 0)
	c.run("config", "use", "three").must(t, ExitFailure)
	if loadConfig(t, c).Active != "two" {
		t.Error("use did not switch")
	}
	r = c.run("config", "path").must(t, 0)
	if strings.TrimSpace(r.stdout) != c.env["CCX_CONFIG"] {
		t.Errorf("path %q", r.stdout)
	}
	c.run("config", "unset", "channel_id").must(t, 0)
	if loadConfig(t, c).Profiles["two"].ChannelID != "" {
		t.Error("unset did not clear")
	}
	c.run("config", "delete", "two").must(t, 0)
	c.run("config", "delete", "two").must(t, ExitFailure)
	if f := loadConfig(t, c); f.Active != "" || len(f.Profiles) != 1 {
		t.Errorf("after delete: %+v", f)
	}
	st, _ := os.Stat(c.env["CCX_CONFIG"])
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	c.run("config").must(t, ExitUsage)
}

func TestConfigBrokenFile(t *testing.T) {
	c := newCLI(t)
	_ = os.MkdirAll(strings.TrimSuffix(c.env["CCX_CONFIG"], "/config.toml"), 0o700)
	_ = os.WriteFile(c.env["CCX_CONFIG"], []byte("active = [\n"), 0o600)
	r := c.run("config", "list").must(t, ExitIO)
	if !strings.Contains(r.stderr, "config.toml") {
		t.Errorf("stderr %q", r.stderr)
	}
	c.run("send", "text", "hi").must(t, ExitIO)
}
