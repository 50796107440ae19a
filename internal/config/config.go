// Package config keeps ccx's named profiles in a human-editable TOML file
// (mode 0600) and resolves settings: flags, then CCX_* env, then the profile.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	"github.com/ccx-cli/ccx/internal/fsutil"
	"github.com/pelletier/go-toml/v2"
)

// Profile is one channel's settings (spec §1.2, §8).
type Profile struct {
	WebhookURL string `toml:"webhook_url,omitempty"`
	ChannelID  string `toml:"channel_id,omitempty"`
	APIToken   string `toml:"api_token,omitempty"`
	IDType     string `toml:"id_type,omitempty"`
	// APIBaseURL is the integration server's base URL; the platform calls
	// <APIBaseURL>/message. The newer docs call it "destination Webhook URL".
	APIBaseURL string `toml:"api_base_url,omitempty"`
	// ContactID is the default contact for `ccx send`, in the channel's ID
	// format (§5), so `ccx send text hi` works with a profile alone.
	ContactID string `toml:"contact_id,omitempty"`
}

// Keys are the profile keys, as written in the file and accepted by `config get/set`.
var Keys = []string{"webhook_url", "channel_id", "api_token", "id_type", "api_base_url", "contact_id"}

// EnvVars maps each key to the environment variable that overrides it.
var EnvVars = map[string]string{
	"webhook_url":  "CCX_WEBHOOK_URL",
	"channel_id":   "CCX_CHANNEL_ID",
	"api_token":    "CCX_API_TOKEN",
	"id_type":      "CCX_ID_TYPE",
	"api_base_url": "CCX_API_BASE_URL",
	"contact_id":   "CCX_CONTACT_ID",
}

// EnvProfile and EnvConfig select the profile and the file.
const (
	EnvProfile = "CCX_PROFILE"
	EnvConfig  = "CCX_CONFIG"
)

// DefaultProfile is used when nothing names one.
const DefaultProfile = "default"

// Get returns the value of key.
func (p *Profile) Get(key string) (string, error) {
	f, err := p.field(key)
	if err != nil {
		return "", err
	}
	return *f, nil
}

// Set assigns key.
func (p *Profile) Set(key, value string) error {
	f, err := p.field(key)
	if err != nil {
		return err
	}
	*f = value
	return nil
}

func (p *Profile) field(key string) (*string, error) {
	switch key {
	case "webhook_url":
		return &p.WebhookURL, nil
	case "channel_id":
		return &p.ChannelID, nil
	case "api_token":
		return &p.APIToken, nil
	case "id_type":
		return &p.IDType, nil
	case "api_base_url":
		return &p.APIBaseURL, nil
	case "contact_id":
		return &p.ContactID, nil
	}
	return nil, fmt.Errorf("unknown key %q (known: %s)", key, strings.Join(Keys, ", "))
}

// Overlay returns p with every non-empty field of top written over it.
func (p Profile) Overlay(top Profile) Profile {
	for _, k := range Keys {
		v, _ := top.Get(k)
		if v != "" {
			_ = p.Set(k, v)
		}
	}
	return p
}

// FromEnv reads the CCX_* overrides.
func FromEnv(getenv func(string) string) Profile {
	var p Profile
	for _, k := range Keys {
		_ = p.Set(k, getenv(EnvVars[k]))
	}
	return p
}

// File is the whole config file.
type File struct {
	Active   string             `toml:"active,omitempty"`
	Profiles map[string]Profile `toml:"profiles,omitempty"`

	path string
	raw  []byte // the file as read (or last written), edited in place by Save
}

// DefaultPath is $CCX_CONFIG, else <user config dir>/ccx/config.toml.
func DefaultPath(getenv func(string) string) (string, error) {
	if p := getenv(EnvConfig); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config directory (set %s): %w", EnvConfig, err)
	}
	return filepath.Join(dir, "ccx", "config.toml"), nil
}

// MaxFileSize bounds the config file: a profile takes a few hundred bytes,
// and CCX_CONFIG=/dev/zero must not eat the machine's memory.
const MaxFileSize = 1 << 20

// Load reads the file at path; a missing file is an empty config. Anything
// but a regular file (a directory, a FIFO that would block, a device) and a
// file over MaxFileSize are refused.
func Load(path string) (*File, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) || path == os.DevNull { // CCX_CONFIG=/dev/null: no profiles
		return &File{path: path, Profiles: map[string]Profile{}}, nil
	}
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("config file %s is not a regular file (%s); point %s at a TOML file", path, kindOf(fi.Mode()), EnvConfig)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("config file %s is larger than %d KiB: not a ccx config file? (point %s at another file)", path, MaxFileSize>>10, EnvConfig)
	}
	return parse(path, data)
}

// parse decodes a config file's bytes. A decoder panic is an error here,
// never a crash: the file is user-edited text.
func parse(path string, data []byte) (f *File, err error) {
	defer func() {
		if v := recover(); v != nil {
			f, err = nil, fmt.Errorf("%s: cannot parse: %v", path, v)
		}
	}()
	f = &File{path: path, raw: data}
	if err := toml.Unmarshal(data, f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.Profiles == nil {
		f.Profiles = map[string]Profile{}
	}
	return f, nil
}

func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeCharDevice != 0, m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "mode " + m.String()
}

// Path is where the file lives.
func (f *File) Path() string { return f.path }

// fileHeader opens a file ccx writes anew.
const fileHeader = "# ccx profiles. Edit freely: ccx keeps your comments and key order when it changes a value.\n" +
	"# Keep this file private (it holds API tokens).\n"

// Save writes the file atomically with mode 0600 (it holds API tokens):
// the file as read with only the changed lines edited (inplace.go), or,
// when it is new or of a shape the editor does not know, written anew.
func (f *File) Save() error {
	data, ok := f.edited(f.raw)
	if len(bytes.TrimSpace(f.raw)) == 0 || !ok {
		out, err := toml.Marshal(f)
		if err != nil {
			return err
		}
		data = append([]byte(fileHeader), out...)
	}
	if err := fsutil.WritePrivate(f.path, data); err != nil {
		return err
	}
	f.raw = data
	return nil
}

// Names lists the profile names, sorted.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.Profiles))
	for n := range f.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ActiveName picks the profile: the explicit name (--profile), then
// CCX_PROFILE, then the file's active one, then "default".
func (f *File) ActiveName(explicit string, getenv func(string) string) string {
	switch {
	case explicit != "":
		return explicit
	case getenv(EnvProfile) != "":
		return getenv(EnvProfile)
	case f.Active != "":
		return f.Active
	}
	return DefaultProfile
}

// Resolve returns the effective settings: flags over env over the named
// profile. Naming a profile that does not exist is an error; the implicit
// default profile may be absent. Every value is trimmed of surrounding white
// space in each layer (a pasted token's newline would otherwise lock every
// caller out), and an API token with a control character inside is refused,
// naming the layer it came from, never the token.
func (f *File) Resolve(explicit string, flags Profile, getenv func(string) string) (Profile, error) {
	name := f.ActiveName(explicit, getenv)
	base, ok := f.Profiles[name]
	if !ok && (explicit != "" || getenv(EnvProfile) != "") {
		return Profile{}, fmt.Errorf("no profile %q in %s (see `ccx config list`)", name, f.path)
	}
	base, err := base.clean(fmt.Sprintf("profile %q in %s", name, f.path))
	if err != nil {
		return Profile{}, err
	}
	env, err := FromEnv(getenv).clean(EnvVars["api_token"])
	if err != nil {
		return Profile{}, err
	}
	if flags, err = flags.clean("--token"); err != nil {
		return Profile{}, err
	}
	return base.Overlay(env).Overlay(flags), nil
}

// clean trims every value and checks the token; source names the layer.
func (p Profile) clean(source string) (Profile, error) {
	for _, k := range Keys {
		v, _ := p.Get(k)
		_ = p.Set(k, strings.TrimSpace(v))
	}
	tok, err := CleanToken(p.APIToken)
	if err != nil {
		return Profile{}, fmt.Errorf("the API token from %s %v", source, err)
	}
	p.APIToken = tok
	return p, nil
}

// CleanToken trims the white space around a token (a file's trailing
// newline, a pasted space) and refuses control characters inside it, which
// no header can carry. The error never quotes the token.
func CleanToken(tok string) (string, error) {
	tok = strings.TrimSpace(tok)
	if i := strings.IndexFunc(tok, unicode.IsControl); i >= 0 {
		return "", fmt.Errorf("contains a control character (byte %d of %d, e.g. a tab or newline inside it): set it again without it", i+1, len(tok))
	}
	return tok, nil
}
