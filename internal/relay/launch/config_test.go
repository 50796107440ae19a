package launch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/netguard"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "relay.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func noEnv(string) string { return "" }

// Every mistake of a file is reported at once, each at its own line.
func TestLoadFileReportsEveryProblemWithItsLine(t *testing.T) {
	p := writeConfig(t, `[[channel]]
id = "a"
token = "env:A_TOKEN"
webhook_url = "https://webhook.respond.io/custom/channel/webhook/"
provider = "loopback"

[[channel]]
id = "a"
token = "tok-b"
id_type = "phonenumber"
webhook_url = "webhook.respond.io"
provider = "telegrm"
colour = "blue"

[[channel]]
id = "c/1"
token = "tok-b"
webhook_url = "https://x.example/"
provider = "loopback"
[channel.credentials]
secret = "env:"
`)
	_, probs, err := LoadFile(p, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`:3: channel "a": token: env:A_TOKEN is not set (or empty)`,
		`:8: channel "a": id: duplicate channel ID (first at line 2)`,
		`:10: channel "a": id_type "phonenumber": use phone or custom`,
		`:11: channel "a": webhook_url: not an http(s) URL`,
		`:12: channel "a": provider "telegrm": use one of`,
		`:13: channel "a": unknown key colour in [[channel]]`,
		`:16: channel "c/1": id: channel ID "c/1"`,
		`:17: channel "c/1": token: the same API token as channel "a" (line 9)`,
		`:21: channel "c/1": credentials.secret: env: names no variable`,
	}
	if len(probs) != len(want) {
		t.Errorf("%d problems, want %d:\n%v", len(probs), len(want), probs)
	}
	for i, w := range want {
		if i >= len(probs) || !strings.Contains(probs[i].String(), p+w) {
			t.Errorf("problem %d: want %q in\n%v", i, w, probs)
		}
	}
}

// env: references resolve at load; short credential keys take the
// provider's prefix; http_config is relative to the file.
func TestLoadFileResolves(t *testing.T) {
	p := writeConfig(t, `[[channel]]
id = "tw"
token = "env:TW_TOKEN"
webhook_url = "env:HOOK"
provider = "http"
http_config = "h.json"
credentials = { auth_token = "env:TW_AUTH", CCX_OTHER = "x", provider_base_url = "http://127.0.0.1:1" }
`)
	env := map[string]string{"TW_TOKEN": "secret-token", "HOOK": "http://127.0.0.1:9/hook/", "TW_AUTH": " tw-auth\n"}
	f, probs, err := LoadFile(p, func(k string) string { return env[k] })
	if err != nil || len(probs) > 0 {
		t.Fatalf("%v %v", probs, err)
	}
	c := f.Channels[0]
	if c.Token != "secret-token" || c.WebhookURL != "http://127.0.0.1:9/hook/" || c.HTTPConfig != filepath.Join(filepath.Dir(p), "h.json") {
		t.Fatalf("%+v", c)
	}
	for k, v := range map[string]string{"CCX_HTTP_AUTH_TOKEN": "tw-auth", "CCX_OTHER": "x", "CCX_PROVIDER_BASE_URL": "http://127.0.0.1:1"} {
		if c.Credentials[k] != v {
			t.Errorf("credential %s = %q, want %q (all: %v)", k, c.Credentials[k], v, c.Credentials)
		}
	}
}

// A file TOML itself refuses is one problem, at its line; so is an empty one.
func TestLoadFileSyntax(t *testing.T) {
	for body, want := range map[string]string{
		"[[channel]]\nid = \"a\"\nid = \"b\"\n": ":3: ",
		"[[channel]]\nid = \"a\n":               ":2: ",
		"# nothing\n":                           ":1: no channels",
	} {
		p := writeConfig(t, body)
		_, probs, err := LoadFile(p, noEnv)
		if err != nil || len(probs) != 1 || !strings.Contains(probs[0].String(), p+want) {
			t.Errorf("%q: %v %v, want one problem %q", body, probs, err, want)
		}
	}
	if _, _, err := LoadFile(filepath.Join(t.TempDir(), "missing.toml"), noEnv); err == nil {
		t.Error("a missing file: no error")
	}
}

// The adapters' own checks are located at the channel's provider line, in
// the file's words; credentials the adapter never reads are named.
func TestBuildChannelsLocatesAdapterProblems(t *testing.T) {
	p := writeConfig(t, `[[channel]]
id = "wa"
token = "tok-wa"
webhook_url = "https://x.example/"
provider = "whatsapp"

[[channel]]
id = "tw"
token = "tok-tw"
webhook_url = "https://x.example/"
provider = "twilio"
[channel.credentials]
account_sid = "AC1"
auth_token = "secret-auth"
from = "+15005550006"
form = "+15005550006"
`)
	f, probs, err := LoadFile(p, noEnv)
	if err != nil || len(probs) > 0 {
		t.Fatalf("%v %v", probs, err)
	}
	chans, probs, secrets := buildChannels(f, &Options{}, "http://127.0.0.1:3030", netguard.Options{})
	if len(chans) != 1 || chans[0].ID != "tw" {
		t.Fatalf("built %v", chans)
	}
	want := []string{
		p + `:5: channel "wa": provider whatsapp needs CCX_WHATSAPP_TOKEN`,
		p + `:16: channel "tw": credentials.form: provider twilio does not read CCX_TWILIO_FORM`,
	}
	if len(probs) != len(want) {
		t.Fatalf("problems %v", probs)
	}
	for i, w := range want {
		if !strings.HasPrefix(probs[i].String(), w) || strings.Contains(probs[i].String(), "--") {
			t.Errorf("problem %q, want it to start %q in the file's words", probs[i], w)
		}
	}
	if !strings.Contains(strings.Join(secrets, " "), "secret-auth") || !strings.Contains(strings.Join(secrets, " "), "tok-tw") {
		t.Errorf("secrets to redact miss the auth token or API token: %q", secrets)
	}
}
