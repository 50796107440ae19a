package ui

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestColorWanted(t *testing.T) {
	tests := []struct {
		tty  bool
		env  map[string]string
		want bool
	}{
		{true, nil, true},
		{false, nil, false},
		{true, map[string]string{"NO_COLOR": "1"}, false},
		{true, map[string]string{"CLICOLOR": "0"}, false},
		{false, map[string]string{"CLICOLOR_FORCE": "1"}, true},
		{false, map[string]string{"CLICOLOR_FORCE": "0"}, false},
		{true, map[string]string{"NO_COLOR": "1", "CLICOLOR_FORCE": "1"}, false}, // NO_COLOR wins
		{true, map[string]string{"TERM": "dumb"}, false},
	}
	for _, tt := range tests {
		if got := ColorWanted(tt.tty, env(tt.env)); got != tt.want {
			t.Errorf("ColorWanted(tty=%v, %v) = %v, want %v", tt.tty, tt.env, got, tt.want)
		}
	}
}

func TestStylesPlainWithoutColor(t *testing.T) {
	s, _, out, _ := Test()
	if got := s.Styles(out).Error.Render("boom"); got != "boom" {
		t.Errorf("colour off rendered %q", got)
	}
	s.SetColorEnabled(true)
	if got := s.Styles(out).Error.Render("boom"); !strings.Contains(got, "\x1b[") {
		t.Errorf("colour on rendered no escape codes: %q", got)
	}
}

func TestCanPrompt(t *testing.T) {
	s, _, _, _ := Test()
	if s.CanPrompt() {
		t.Error("test streams must not prompt")
	}
	s.SetStdinTTY(true)
	s.SetStdoutTTY(true)
	if !s.CanPrompt() {
		t.Error("two TTYs should allow prompts")
	}
	s.SetNeverPrompt(true)
	if s.CanPrompt() {
		t.Error("CI must forbid prompts")
	}
}

func TestRedact(t *testing.T) {
	tok := "aaaxczsadzxcasdacxzcasdaaaxczsadzxcasdacxzcasd"
	if got := Redact(tok); got != "aaax…casd" {
		t.Errorf("Redact = %q", got)
	}
	if got := Redact("short"); strings.Contains(got, "short") || got == "" {
		t.Errorf("short secret leaked: %q", got)
	}
	if got := RedactIn("Bearer "+tok, tok); strings.Contains(got, tok) {
		t.Errorf("RedactIn leaked: %q", got)
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, map[string]string{"u": "<a&b>"}); err != nil || b.String() != "{\"u\":\"<a&b>\"}\n" {
		t.Errorf("WriteJSON = %q, %v", b.String(), err)
	}
}

func TestRedactHeaderAndURI(t *testing.T) {
	tok := "aaaxczsadzxcasdacxzcasd"
	h := http.Header{
		"Authorization":       {"Bearer " + tok},
		"Proxy-Authorization": {"Basic dXNlcjpwYXNzd29yZA=="},
		"X-Api-Key":           {"k-123"},
		"X-Auth-Token":        {"t-456"},
		"Cookie":              {"a=1; b=22"},
		"Set-Cookie":          {"sid=xyz; Path=/; Secure"},
		"X-Trace":             {"ok " + tok},
		"Accept":              {"application/json"},
	}
	got := RedactHeader(h, tok)
	want := map[string]string{
		"Authorization": "Bearer aaax…casd", "Proxy-Authorization": "Basic dXNl…ZA==", "X-Api-Key": "********", "X-Auth-Token": "********",
		"Cookie": "a=********; b=********", "Set-Cookie": "sid=********; Path=/; Secure", "X-Trace": "ok aaax…casd", "Accept": "application/json",
	}
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("%s: %q, want %q", k, got.Get(k), v)
		}
	}
	if h.Get("X-Api-Key") != "k-123" {
		t.Error("RedactHeader changed its argument")
	}
	for _, name := range []string{"X-Forwarded-Authorization", "x-csrf-token", "X-Session-Id", "Api-Key", "X-Amz-Security-Token"} {
		if !IsCredentialHeader(name) {
			t.Errorf("%s is not a credential header", name)
		}
	}
	for _, name := range []string{"Content-Type", "Accept", "User-Agent", "X-Request-Id", "Www-Authenticate"} {
		if IsCredentialHeader(name) {
			t.Errorf("%s is a credential header", name)
		}
	}
	u := RedactURI("/message?x="+tok+"&api_key=abc&q=a%20b&flag", tok)
	if u != "/message?x=aaax…casd&api_key=%2A%2A%2A%2A%2A%2A%2A%2A&q=a%20b&flag" {
		t.Errorf("RedactURI: %q", u)
	}
	if got := RedactIn("t=ab/cd+ef ghijklmnopqr", "ab/cd+ef ghijklmnopqr"); strings.Contains(got, "ab/cd") {
		t.Errorf("RedactIn raw: %q", got)
	}
	if got := RedactIn("t=ab%2Fcd%2Bef+ghijklmnopqr", "ab/cd+ef ghijklmnopqr"); strings.Contains(got, "ab%2F") {
		t.Errorf("RedactIn query-escaped: %q", got)
	}
}

// RedactIn runs on every header value and field of every listen call: a
// string without the secret costs no allocation (the redacted form is made
// only for a match), and every form of the secret is still replaced.
func TestRedactInOnlyWorksOnAMatch(t *testing.T) {
	const tok = "aaaxczsadzxcasdacxzcasd+/=aaaxczsadzxcasd"
	if n := testing.AllocsPerRun(100, func() { RedactIn("application/json; charset=utf-8", tok) }); n != 0 {
		t.Errorf("%v allocations without a match, want 0", n)
	}
	in := "a " + tok + " b " + url.QueryEscape(tok) + " c " + url.PathEscape(tok)
	if got := RedactIn(in, tok); strings.Contains(got, "xczsadzxcasdacxzcasd") || strings.Count(got, Redact(tok)) != 3 {
		t.Errorf("RedactIn(%q) = %q", in, got)
	}
}

// IsCredentialHeader runs on every header of every call: no allocation for
// an ASCII name, and the same verdicts as strings.ToLower + Contains.
func TestIsCredentialHeaderAllocFree(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { IsCredentialHeader("Content-Type") }); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
	for name, want := range map[string]bool{"Authorization": true, "X-API-KEY": true, "x-auth-token": true, "Set-Cookie": true,
		"Content-Type": false, "Accept": false, "To\u212Aen": true, strings.Repeat("a", 80) + "Secret": true, strings.Repeat("a", 80): false} {
		if got := IsCredentialHeader(name); got != want {
			t.Errorf("IsCredentialHeader(%q) = %v, want %v", name, got, want)
		}
	}
	// Past the cache's bound the verdicts stay right.
	for i := 0; i < 2*maxCredentialNames; i++ {
		n := strconv.Itoa(i)
		if IsCredentialHeader("X-Plain-"+n) || !IsCredentialHeader("X-Token-"+n) || !IsCredentialHeader("X-Token-"+n) {
			t.Fatalf("wrong verdict for name %d", i)
		}
	}
}

// AppendJSONString writes what encoding/json writes, with and without HTML
// escaping.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "plain", "<a href=\"x\">&amp;</a>", "tab\tnl\n\x00\x1f", "\u2028\u2029", "\xff\xfe bad", "é 日本 🎉"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		html, _ := json.Marshal(s)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		plain := bytes.TrimRight(buf.Bytes(), "\n")
		if got := AppendJSONString(nil, s, true); !bytes.Equal(got, html) {
			t.Fatalf("html: got %s want %s", got, html)
		}
		if got := AppendJSONString(nil, s, false); !bytes.Equal(got, plain) {
			t.Fatalf("plain: got %s want %s", got, plain)
		}
	})
}

func TestMarshalKeepsHTML(t *testing.T) {
	b, err := Marshal(map[string]string{"text": "<b>Tom & Jerry</b>"})
	if err != nil || string(b) != `{"text":"<b>Tom & Jerry</b>"}` {
		t.Errorf("Marshal = %s, %v", b, err)
	}
}
