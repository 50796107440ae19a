package config

import (
	"reflect"
	"testing"

	"github.com/pelletier/go-toml/v2"
)

// FuzzParse: any bytes as the config file either fail to parse or give a
// File that resolves without panicking and survives a save/load round trip
// (what `ccx config set` does to a hand-edited file).
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"",
		"active = \"prod\"\n[profiles.prod]\nchannel_id = \"p\"\napi_token = \"tok\\n\"\n",
		"[profiles.default]\nwebhook_url = \"https://w.test/\"\nid_type = \"phone\"\ncontact_id = \"+60177872890\"\n",
		"[profiles.\"a b\"]\napi_token = 'lit'\n[profiles.c]\n",
		"active = 1\n",
		"[profiles]\nx = \"y\"\n",
		"[profiles.a]\napi_token = \"\\u0001\"\n",
	} {
		f.Add([]byte(s))
	}
	getenv := func(k string) string {
		if k == EnvVars["channel_id"] {
			return " env-channel "
		}
		return ""
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := parse("fuzz.toml", data)
		if err != nil {
			return
		}
		for _, name := range append(file.Names(), "") {
			_, _ = file.Resolve(name, Profile{}, getenv)
			_ = file.Source(name, "api_token", Profile{}, getenv)
		}
		out, err := toml.Marshal(file)
		if err != nil {
			t.Fatalf("a parsed file does not marshal: %v", err)
		}
		back, err := parse("fuzz.toml", out)
		if err != nil {
			t.Fatalf("a saved file does not load: %v\n%s", err, out)
		}
		if back.Active != file.Active || !reflect.DeepEqual(back.Profiles, file.Profiles) {
			t.Fatalf("round trip changed the file:\n%+v\n%+v", file, back)
		}
	})
}
