package launch

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/relay"
	toml "github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// File is a relay config file (`ccx relay --config`): the channels one relay
// serves, with every env:NAME reference resolved.
type File struct {
	Path     string
	Channels []Channel
}

// Channel is one [[channel]] table.
type Channel struct {
	ID         string
	Token      string
	IDType     string
	WebhookURL string
	Provider   string
	HTTPConfig string // resolved against the file's directory
	// Credentials are the provider's, by their CCX_* names (short keys in
	// the file take the provider's prefix: auth_token → CCX_TWILIO_AUTH_TOKEN).
	Credentials map[string]string
	lines       map[string]int // key (credentials.KEY for those) → line; "" the header
	credKeys    map[string]string
	unresolved  bool // a credential's env: reference is not set (reported)
}

// line is where key was set, else the channel's header.
func (c *Channel) line(key string) int {
	if n, ok := c.lines[key]; ok {
		return n
	}
	return c.lines[""]
}

// Problem is one mistake in a config file, where it is.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Channel string `json:"channel,omitempty"`
	Message string `json:"message"`
	idx     int    // 1 + the index of the channel it is in, named once the file is read
}

func (p Problem) String() string {
	ch := ""
	if p.Channel != "" {
		ch = fmt.Sprintf("channel %q: ", p.Channel)
	}
	return fmt.Sprintf("%s:%d: %s%s", p.File, p.Line, ch, p.Message)
}

// channelKeys are the keys a [[channel]] takes, with what they are.
var channelKeys = map[string]string{
	"id":          "the channel ID",
	"token":       "the channel's API token",
	"id_type":     "phone or custom",
	"webhook_url": "the IS-Messenger webhook URL",
	"provider":    "the provider adapter",
	"http_config": "the generic http adapter's config file",
	"credentials": "the provider's credentials (a table)",
}

// LoadFile reads and checks a relay config file. Problems are the file's
// mistakes, all of them; the error is an unreadable file.
func LoadFile(path string, getenv func(string) string) (*File, []Problem, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	f := &File{Path: path}
	at := func(line int, ch, format string, args ...any) Problem {
		return Problem{File: path, Line: line, Channel: ch, Message: fmt.Sprintf(format, args...)}
	}
	// The strict decoder catches what the walk below does not look for
	// (a key set twice, a table redefined); the file is unusable then.
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ := de.Position()
			return f, []Problem{at(line, "", "%s", strings.TrimPrefix(de.Error(), "toml: "))}, nil
		}
		return f, []Problem{at(1, "", "%v", err)}, nil
	}
	var probs []Problem
	p := unstable.Parser{}
	p.Reset(data)
	var cur *Channel
	table := ""   // the current table header: "", "channel", "channel.credentials"
	skip := false // in a table already reported unknown
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.ArrayTable, unstable.Table:
			keys, line := keyOf(&p, e.Key())
			table, skip = strings.Join(keys, "."), false
			switch {
			case e.Kind == unstable.ArrayTable && table == "channel":
				f.Channels = append(f.Channels, Channel{lines: map[string]int{"": line}, Credentials: map[string]string{}, credKeys: map[string]string{}})
				cur = &f.Channels[len(f.Channels)-1]
			case e.Kind == unstable.Table && table == "channel.credentials" && cur != nil:
			default:
				skip = true
				probs = append(probs, at(line, "", "unknown table [%s]: a relay config file has [[channel]] tables (and [channel.credentials] in them)", table))
			}
		case unstable.KeyValue:
			if skip {
				continue
			}
			keys, line := keyOf(&p, e.Key())
			full := append(strings.Split(table, "."), keys...)
			if table == "" {
				full = keys
			}
			for _, pr := range cur.set(full, e.Value(), line, at) {
				pr.idx = len(f.Channels)
				probs = append(probs, pr)
			}
		}
	}
	if err := p.Error(); err != nil { // the strict decoder would have said so first
		probs = append(probs, at(1, "", "%v", err))
	}
	if len(f.Channels) == 0 && len(probs) == 0 {
		probs = append(probs, at(1, "", "no channels: add a [[channel]] table for each channel (see docs/relay.md)"))
	}
	for i := range probs {
		if probs[i].idx > 0 && cur != nil {
			probs[i].Channel = f.Channels[probs[i].idx-1].ID
		}
	}
	for i := range f.Channels {
		probs = append(probs, f.Channels[i].resolve(path, getenv, at)...)
	}
	probs = append(probs, f.crossCheck(at)...)
	sort.SliceStable(probs, func(i, j int) bool { return probs[i].Line < probs[j].Line })
	return f, probs, nil
}

// keyOf is a key's parts and the line of its first part.
func keyOf(p *unstable.Parser, it unstable.Iterator) ([]string, int) {
	var parts []string
	line := 0
	for it.Next() {
		n := it.Node()
		if line == 0 {
			line = p.Shape(n.Raw).Start.Line
		}
		parts = append(parts, string(n.Data))
	}
	return parts, line
}

type atFunc func(line int, ch, format string, args ...any) Problem

// set records the value of key (its full dotted path) in c.
func (c *Channel) set(key []string, v *unstable.Node, line int, at atFunc) []Problem {
	if c == nil || key[0] != "channel" || len(key) < 2 {
		return []Problem{at(line, "", "unknown key %s: settings go in a [[channel]] table", strings.Join(key, "."))}
	}
	name := key[1]
	if _, ok := channelKeys[name]; !ok {
		return []Problem{at(line, "", "unknown key %s in [[channel]]: use %s", name, knownKeys())}
	}
	if name == "credentials" {
		if len(key) == 2 {
			if v.Kind != unstable.InlineTable {
				return []Problem{at(line, "", "credentials: want a table of KEY = \"value\"")}
			}
			var probs []Problem
			for it := v.Children(); it.Next(); {
				kv := it.Node()
				k, _ := keyOfNode(kv)
				probs = append(probs, c.setCred(k, kv.Value(), line, at)...)
			}
			return probs
		}
		if len(key) != 3 {
			return []Problem{at(line, "", "credentials.%s: want KEY = \"value\"", strings.Join(key[2:], "."))}
		}
		return c.setCred(key[2], v, line, at)
	}
	c.lines[name] = line // set, even when wrongly: not also "missing"
	if len(key) > 2 || v.Kind != unstable.String {
		return []Problem{at(line, "", "%s: want a string (%s)", strings.Join(key[1:], "."), channelKeys[name])}
	}
	val := string(v.Data)
	switch name {
	case "id":
		c.ID = val
	case "token":
		c.Token = val
	case "id_type":
		c.IDType = val
	case "webhook_url":
		c.WebhookURL = val
	case "provider":
		c.Provider = val
	case "http_config":
		c.HTTPConfig = val
	}
	return nil
}

func keyOfNode(kv *unstable.Node) (string, bool) {
	var parts []string
	for it := kv.Key(); it.Next(); {
		parts = append(parts, string(it.Node().Data))
	}
	return strings.Join(parts, "."), len(parts) == 1
}

func (c *Channel) setCred(k string, v *unstable.Node, line int, at atFunc) []Problem {
	if v.Kind != unstable.String {
		return []Problem{at(line, "", "credentials.%s: want a string", k)}
	}
	c.lines["credentials."+k] = line
	c.credKeys[k] = string(v.Data)
	return nil
}

func knownKeys() string {
	var ks []string
	for k := range channelKeys {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// credName is a credentials key's CCX_* name: upper-case keys are taken as
// they are; lower-case ones are the provider's (auth_token under twilio →
// CCX_TWILIO_AUTH_TOKEN), and provider_base_url is CCX_PROVIDER_BASE_URL.
func credName(provider, k string) string {
	if strings.ToUpper(k) == k {
		return k
	}
	if k == "provider_base_url" {
		return "CCX_PROVIDER_BASE_URL"
	}
	return "CCX_" + strings.ToUpper(provider) + "_" + strings.ToUpper(k)
}

// resolve checks one channel's values and resolves its env: references.
func (c *Channel) resolve(path string, getenv func(string) string, at atFunc) []Problem {
	var probs []Problem
	ch := c.ID
	bad := func(key, format string, args ...any) {
		probs = append(probs, at(c.line(key), ch, format, args...))
	}
	env := func(key, v string) string {
		name, ok := strings.CutPrefix(v, "env:")
		if !ok {
			return v
		}
		if name == "" {
			bad(key, "%s: env: names no variable (env:NAME)", key)
			return ""
		}
		got := strings.TrimSpace(getenv(name))
		if got == "" {
			bad(key, "%s: env:%s is not set (or empty)", key, name)
		}
		return got
	}
	for _, k := range []string{"id", "token", "webhook_url", "provider"} {
		if _, ok := c.lines[k]; !ok {
			bad(k, "missing %s (%s)", k, channelKeys[k])
		}
	}
	c.ID = env("id", c.ID)
	if _, ok := c.lines["id"]; ok && c.ID != "" {
		if err := relay.CheckRouteID(c.ID); err != nil {
			bad("id", "id: %v", err)
		}
	}
	if _, set := c.lines["token"]; set && c.Token == "" {
		bad("token", "token: empty")
	}
	c.Token = env("token", c.Token)
	c.WebhookURL = env("webhook_url", c.WebhookURL)
	if c.WebhookURL != "" {
		if u, err := url.Parse(c.WebhookURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("webhook_url", "webhook_url: not an http(s) URL with a host")
		}
	}
	if c.IDType != "" {
		if _, err := channel.ParseIDType(c.IDType); err != nil {
			bad("id_type", "id_type %q: use phone or custom", c.IDType)
		}
	}
	if c.Provider != "" && !oneOf(c.Provider, Providers) {
		bad("provider", "provider %q: use one of %s", c.Provider, strings.Join(Providers, ", "))
	}
	if c.HTTPConfig != "" {
		c.HTTPConfig = env("http_config", c.HTTPConfig)
		if c.HTTPConfig != "" && !filepath.IsAbs(c.HTTPConfig) {
			c.HTTPConfig = filepath.Join(filepath.Dir(path), c.HTTPConfig)
		}
		if c.Provider != "http" {
			bad("http_config", "http_config: only provider \"http\" reads it")
		}
	}
	keys := make([]string, 0, len(c.credKeys))
	for k := range c.credKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n := len(probs)
		c.Credentials[credName(c.Provider, k)] = env("credentials."+k, c.credKeys[k])
		c.unresolved = c.unresolved || len(probs) > n
	}
	return probs
}

// crossCheck finds what only the channels together get wrong: a channel ID
// twice, and one API token for two channels (each would accept the other's
// calls).
func (f *File) crossCheck(at atFunc) []Problem {
	var probs []Problem
	ids, tokens := map[string]*Channel{}, map[string]*Channel{}
	for i := range f.Channels {
		c := &f.Channels[i]
		if c.ID != "" {
			if first, ok := ids[c.ID]; ok {
				probs = append(probs, at(c.line("id"), c.ID, "id: duplicate channel ID (first at line %d)", first.line("id")))
			} else {
				ids[c.ID] = c
			}
		}
		if c.Token != "" {
			if first, ok := tokens[c.Token]; ok {
				probs = append(probs, at(c.line("token"), c.ID, "token: the same API token as channel %q (line %d): a token must be valid for one channel only", first.ID, first.line("token")))
			} else {
				tokens[c.Token] = c
			}
		}
	}
	return probs
}

func oneOf(s string, list []string) bool {
	for _, v := range list {
		if s == v {
			return true
		}
	}
	return false
}
