package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const userFile = `# my ccx setup
active = "staging"   # switch with ccx config use

# production: careful
[profiles.prod]
channel_id = "prodchan"
api_token = "prod-token-0123456789abcdef"
# the real webhook
webhook_url = "https://webhook.example.com/custom/channel/webhook/"

# staging, shared with the team
[profiles.staging]
webhook_url = "https://staging.example.com/hook/"   # the staging relay
channel_id = "stagechan"
id_type = "phone"
`

func saveAndRead(t *testing.T, content string, change func(f *File)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	change(f)
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// What was written reads back as what was meant.
	g, err := Load(path)
	if err != nil {
		t.Fatalf("written file does not load: %v\n%s", err, b)
	}
	if g.Active != f.Active || !sameProfiles(g.Profiles, f.Profiles) {
		t.Fatalf("written file reads back as %+v, want %+v", g, f)
	}
	return string(b)
}

// Setting a value changes only that value: comments, blank lines and key
// order stay.
func TestSaveKeepsCommentsAndOrder(t *testing.T) {
	got := saveAndRead(t, userFile, func(f *File) {
		if _, err := f.SetValue("staging", "channel_id", "newchan"); err != nil {
			t.Fatal(err)
		}
	})
	want := strings.Replace(userFile, `channel_id = "stagechan"`, `channel_id = "newchan"`, 1)
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// A new key goes at the end of its profile's table; an unset key loses its
// line; a new profile is appended; use changes active in place.
func TestSaveAddsAndRemovesLines(t *testing.T) {
	got := saveAndRead(t, userFile, func(f *File) {
		if _, err := f.SetValue("prod", "contact_id", "+60177872890"); err != nil {
			t.Fatal(err)
		}
		if err := f.Unset("staging", "id_type"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.SetValue("dev", "channel_id", "devchan"); err != nil {
			t.Fatal(err)
		}
		if err := f.Use("prod"); err != nil {
			t.Fatal(err)
		}
	})
	for _, want := range []string{
		"# my ccx setup\nactive = \"prod\"   # switch with ccx config use\n",
		"# the real webhook\nwebhook_url = \"https://webhook.example.com/custom/channel/webhook/\"\ncontact_id = \"+60177872890\"\n\n# staging, shared with the team\n",
		"channel_id = \"stagechan\"\n\n[profiles.dev]\nchannel_id = \"devchan\"\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if strings.Contains(got, "id_type") {
		t.Errorf("id_type still there:\n%s", got)
	}
}

// Deleting a profile takes its lines and its own comments, not the next
// profile's introduction.
func TestSaveDeletesAProfile(t *testing.T) {
	got := saveAndRead(t, userFile, func(f *File) {
		if err := f.Delete("prod"); err != nil {
			t.Fatal(err)
		}
	})
	if strings.Contains(got, "prod") || strings.Contains(got, "the real webhook") {
		t.Errorf("prod left:\n%s", got)
	}
	if !strings.Contains(got, "# staging, shared with the team\n[profiles.staging]") || !strings.HasPrefix(got, "# my ccx setup\n") {
		t.Errorf("other comments lost:\n%s", got)
	}
}

// A new file, and one of a shape the editor does not know, are written
// anew (and still read back right).
func TestSaveWritesAnewWhenItMust(t *testing.T) {
	got := saveAndRead(t, "", func(f *File) {
		_, _ = f.SetValue("default", "channel_id", "c1")
	})
	if !strings.HasPrefix(got, fileHeader) {
		t.Errorf("new file:\n%s", got)
	}
	got = saveAndRead(t, "profiles.default.channel_id = \"c1\" # dotted\n", func(f *File) {
		_, _ = f.SetValue("default", "id_type", "custom")
	})
	if !strings.HasPrefix(got, fileHeader) || !strings.Contains(got, "id_type") {
		t.Errorf("dotted-key file:\n%s", got)
	}
	// Values that need escaping survive.
	got = saveAndRead(t, userFile, func(f *File) {
		_, _ = f.SetValue("staging", "api_base_url", `https://x.example.com/a"b\c`)
	})
	if !strings.Contains(got, `api_base_url = "https://x.example.com/a\"b\\c"`) {
		t.Errorf("escaping:\n%s", got)
	}
}

// A file ccx wrote (go-toml's layout: a bare [profiles], literal strings)
// is edited in place too, and a comment the user added stays.
func TestSaveEditsCCXsOwnFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.toml")
	f, _ := Load(path)
	_, _ = f.SetValue("default", "channel_id", "c1")
	_, _ = f.SetValue("b", "channel_id", "c2")
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	withNote := strings.Replace(string(b), "[profiles.default]", "# mine\n[profiles.default]", 1)
	got := saveAndRead(t, withNote, func(f *File) {
		f.Active = ""
		_ = f.Use("b")
		_, _ = f.SetValue("default", "id_type", "custom")
	})
	if !strings.Contains(got, "# mine\n[profiles.default]") || !strings.Contains(got, `active = "b"`) || strings.Count(got, "active") != 1 {
		t.Errorf("got\n%s", got)
	}
	if strings.Index(got, "active") > strings.Index(got, "[profiles]") {
		t.Errorf("active went under [profiles]:\n%s", got)
	}
}

// Whatever the file, a change saves and reads back as intended (in place
// or written anew), and nothing panics.
func FuzzSaveInPlace(f *testing.F) {
	f.Add(userFile, "staging", "channel_id", "x")
	f.Add("[profiles]\n[profiles.'a.b']\nid_type = 'phone'\n", "a.b", "contact_id", "+60177872890")
	f.Add("active = \"p\"\n# c\n[profiles.p] # t\napi_token = \"t\" # k\n", "q", "api_token", "tok\"en")
	f.Fuzz(func(t *testing.T, content, profile, key, value string) {
		path := filepath.Join(t.TempDir(), "config.toml")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		file, err := Load(path)
		if err != nil {
			return
		}
		if _, err := file.SetValue(profile, key, value); err != nil {
			return
		}
		if err := file.Save(); err != nil {
			t.Fatal(err)
		}
		back, err := Load(path)
		if err != nil {
			t.Fatalf("saved file does not load: %v", err)
		}
		if back.Active != file.Active || !sameProfiles(back.Profiles, file.Profiles) {
			t.Fatalf("reads back as %+v, want %+v", back, file)
		}
	})
}
