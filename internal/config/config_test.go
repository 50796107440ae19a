package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestSaveModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "ccx")
	f, err := Load(filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.SetValue("default", "api_token", "secret-token-value-1234"); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", st.Mode().Perm())
	}
	dst, _ := os.Stat(dir)
	if dst.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", dst.Mode().Perm())
	}
	// A re-save over an existing (even loosened) file is 0600 again.
	_ = os.Chmod(f.Path(), 0o644)
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	st, _ = os.Stat(f.Path())
	if st.Mode().Perm() != 0o600 {
		t.Errorf("re-saved mode %v, want 0600", st.Mode().Perm())
	}
	g, err := Load(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	if g.Profiles["default"].APIToken != "secret-token-value-1234" || g.Active != "default" {
		t.Errorf("round trip: %+v", g)
	}
}

func TestPrecedenceFlagEnvProfile(t *testing.T) {
	f := &File{Active: "a", Profiles: map[string]Profile{
		"a": {WebhookURL: "http://profile.test/", ChannelID: "pc", APIToken: "ptok", IDType: "phone", ContactID: "+60111111111"},
		"b": {ChannelID: "bc"},
	}}
	e := env(map[string]string{"CCX_CHANNEL_ID": "ec", "CCX_CONTACT_ID": "+60222222222"})
	p, err := f.Resolve("", Profile{ChannelID: "fc"}, e)
	if err != nil {
		t.Fatal(err)
	}
	if p.ChannelID != "fc" || p.ContactID != "+60222222222" || p.APIToken != "ptok" || p.WebhookURL != "http://profile.test/" {
		t.Errorf("resolved %+v", p)
	}
	if s := f.Source("", "channel_id", Profile{ChannelID: "fc"}, e); s != "flag" {
		t.Errorf("source %q", s)
	}
	if s := f.Source("", "contact_id", Profile{}, e); s != "env" {
		t.Errorf("source %q", s)
	}
	if s := f.Source("", "api_token", Profile{}, e); s != "profile" {
		t.Errorf("source %q", s)
	}
	// CCX_PROFILE picks b; --profile beats it.
	p, _ = f.Resolve("", Profile{}, env(map[string]string{"CCX_PROFILE": "b"}))
	if p.ChannelID != "bc" {
		t.Errorf("CCX_PROFILE: %+v", p)
	}
	p, _ = f.Resolve("a", Profile{}, env(map[string]string{"CCX_PROFILE": "b"}))
	if p.ChannelID != "pc" {
		t.Errorf("--profile: %+v", p)
	}
	if _, err := f.Resolve("nope", Profile{}, e); err == nil {
		t.Error("unknown explicit profile should fail")
	}
}

func TestNormalize(t *testing.T) {
	good := []struct{ key, in, idType, want string }{
		{"id_type", "Phone Number", "", "phone"},
		{"id_type", "custom", "", "custom"},
		{"webhook_url", " https://webhook.respond.io/custom/channel/webhook/ ", "", "https://webhook.respond.io/custom/channel/webhook/"},
		{"api_base_url", "http://127.0.0.1:3030", "", "http://127.0.0.1:3030"},
		{"contact_id", "+60177872890", "phone", "+60177872890"},
		{"contact_id", "user_1@x", "custom", "user_1@x"},
		{"contact_id", "anything-goes", "", "anything-goes"},
	}
	for _, g := range good {
		got, err := Normalize(g.key, g.in, g.idType)
		if err != nil || got != g.want {
			t.Errorf("Normalize(%s, %q) = %q, %v", g.key, g.in, got, err)
		}
	}
	bad := []struct{ key, in, idType, msg string }{
		{"id_type", "email", "", "phone or custom"},
		{"webhook_url", "webhook.respond.io/x", "", "absolute"},
		{"webhook_url", "ftp://x/", "", "http"},
		{"api_base_url", "http://", "", "no host"},
		{"contact_id", "60177872890", "phone", "leading '+'"},
		{"contact_id", "a.b", "custom", "allowed"},
		{"api_token", "a b", "", "whitespace"},
		{"channel_id", "", "", "empty"},
		{"colour", "x", "", "unknown key"},
	}
	for _, b := range bad {
		_, err := Normalize(b.key, b.in, b.idType)
		if err == nil || !strings.Contains(err.Error(), b.msg) {
			t.Errorf("Normalize(%s, %q) err = %v, want %q", b.key, b.in, err, b.msg)
		}
	}
}

func TestProfileEditing(t *testing.T) {
	f := &File{Profiles: map[string]Profile{}}
	if _, err := f.SetValue("work", "id_type", "phone"); err != nil {
		t.Fatal(err)
	}
	if f.Active != "work" {
		t.Errorf("first profile should become active, got %q", f.Active)
	}
	if _, err := f.SetValue("work", "contact_id", "abc"); err == nil {
		t.Error("custom-looking contact on a phone profile should fail")
	}
	if _, err := f.SetValue("work", "contact_id", "+60177872890"); err != nil {
		t.Fatal(err)
	}
	_, _ = f.SetValue("work", "id_type", "custom")
	_, _ = f.SetValue("work", "contact_id", "user_1")
	if _, err := f.SetValue("work", "id_type", "phone"); err == nil || !strings.Contains(err.Error(), "contact_id") {
		t.Errorf("switching id_type under an incompatible contact_id: %v", err)
	}
	if _, err := f.SetValue("bad name", "channel_id", "x"); err == nil {
		t.Error("bad profile name accepted")
	}
	_, _ = f.SetValue("home", "channel_id", "h")
	if err := f.Use("home"); err != nil || f.Active != "home" {
		t.Fatalf("use: %v %q", err, f.Active)
	}
	if err := f.Use("nope"); err == nil {
		t.Error("use of unknown profile")
	}
	if err := f.Unset("home", "channel_id"); err != nil || f.Profiles["home"].ChannelID != "" {
		t.Errorf("unset: %v", err)
	}
	if err := f.Delete("home"); err != nil || f.Active != "" || len(f.Profiles) != 1 {
		t.Errorf("delete: %v active=%q n=%d", err, f.Active, len(f.Profiles))
	}
}

func TestLoadErrors(t *testing.T) {
	p := filepath.Join(t.TempDir(), "config.toml")
	_ = os.WriteFile(p, []byte("active = [\n"), 0o600)
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("bad TOML: %v", err)
	}
	f, err := Load(filepath.Join(t.TempDir(), "missing.toml"))
	if err != nil || len(f.Profiles) != 0 {
		t.Errorf("missing file: %v", err)
	}
}

// TestResolveCleansTokens: every layer's values are trimmed, so a token
// with a trailing newline still matches; a control character inside a token
// is refused naming its layer, never quoting the token.
func TestResolveCleansTokens(t *testing.T) {
	f := &File{path: "/x/config.toml", Profiles: map[string]Profile{"default": {APIToken: "profile-token-value \n", ChannelID: " c1\t"}}}
	p, err := f.Resolve("", Profile{}, env(nil))
	if err != nil || p.APIToken != "profile-token-value" || p.ChannelID != "c1" {
		t.Fatalf("profile layer: %+v, %v", p, err)
	}
	p, err = f.Resolve("", Profile{}, env(map[string]string{"CCX_API_TOKEN": "\tenv-token-value\r\n"}))
	if err != nil || p.APIToken != "env-token-value" {
		t.Fatalf("env layer: %+v, %v", p, err)
	}
	p, err = f.Resolve("", Profile{APIToken: " flag-token-value "}, env(nil))
	if err != nil || p.APIToken != "flag-token-value" {
		t.Fatalf("flag layer: %+v, %v", p, err)
	}
	bad := []struct {
		file   *File
		flags  Profile
		env    map[string]string
		source string
	}{
		{&File{path: "/x/config.toml", Profiles: map[string]Profile{"default": {APIToken: "secret\x01value"}}}, Profile{}, nil, `profile "default" in /x/config.toml`},
		{f, Profile{}, map[string]string{"CCX_API_TOKEN": "secret\nvalue"}, "CCX_API_TOKEN"},
		{f, Profile{APIToken: "secret\tvalue"}, nil, "--token"},
		{f, Profile{APIToken: "secret\x7fvalue"}, nil, "--token"},
	}
	for _, b := range bad {
		_, err := b.file.Resolve("", b.flags, env(b.env))
		if err == nil {
			t.Errorf("%s: accepted a token with a control character", b.source)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "from "+b.source+" contains a control character") || strings.Contains(msg, "secret") {
			t.Errorf("%s: error %q should name the source and not quote the token", b.source, msg)
		}
	}
	if _, err := Normalize("api_token", "abc\x01def", ""); err == nil {
		t.Error("config set accepts a token with a control character")
	}
}

// The hand-written profile-name check accepts exactly what the regexp it
// replaced did.
func TestProfileNameMatchesRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	names := []string{"", "a", "default", "prod-1", "x.y_z", "_a", "-a", ".a", "a b", "a\n", "é", "a/b", strings.Repeat("a", 64), strings.Repeat("a", 65), "A9", "9-", "a:b"}
	for c := 0; c < 256; c++ {
		names = append(names, string(rune(c)), "a"+string([]byte{byte(c)}))
	}
	for _, n := range names {
		if got, want := validProfileName(n), re.MatchString(n); got != want {
			t.Errorf("validProfileName(%q) = %v, regexp says %v", n, got, want)
		}
	}
}
