package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
)

func TestGitHubEscaping(t *testing.T) {
	f := validate.Finding{Severity: validate.Warning, Rule: "r:1,2", Path: "a", Line: 3, Column: 4, Message: "100% bad\r\nnext: line, more"}
	got := githubAnnotation("dir/a,b:c%.json", false, f)
	want := "::warning file=dir/a%2Cb%3Ac%25.json,line=3,col=4,title=r%3A1%2C2::a: 100%25 bad%0D%0Anext: line, more\n"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := githubAnnotation("<stdin>", true, f); strings.Contains(got, "file=") {
		t.Errorf("stdin annotation has a file: %q", got)
	}
}

func TestSnippet(t *testing.T) {
	raw := []byte("{\n\t\"mId\": \"x\x01\",\n}")
	line, pad, ok := snippet(validate.Payload{Line: 10, Column: 1, Raw: raw}, validate.Finding{Line: 11, Column: 9})
	if !ok || line != "\t\"mId\": \"x·\"," || pad != "\t       " {
		t.Errorf("got %q %q %v", line, pad, ok)
	}
	// An array element starting mid-line is padded to its column.
	line, pad, ok = snippet(validate.Payload{Line: 2, Column: 5, Raw: []byte(`{"a":1}`)}, validate.Finding{Line: 2, Column: 6})
	if !ok || line != `    {"a":1}` || pad != "     " {
		t.Errorf("got %q %q %v", line, pad, ok)
	}
	long := bytes.Repeat([]byte("é"), 500)
	line, pad, ok = snippet(validate.Payload{Line: 1, Column: 1, Raw: long}, validate.Finding{Line: 1, Column: 601})
	if !ok || len([]rune(line)) > 100 || !strings.HasPrefix(line, "…") || len(pad) != 50 {
		t.Errorf("long line: %q (%d) pad %d", line, len([]rune(line)), len(pad))
	}
	if _, _, ok := snippet(validate.Payload{Line: 1, Column: 1}, validate.Finding{Line: 1, Column: 1}); ok {
		t.Error("snippet without raw bytes")
	}
}

func TestExpandInput(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"b.json", "a.ndjson", "sub/c.jsonl", "d.txt", "sub/e.JSON", ".git/x.json", "sub/.hidden/y.json", ".top.json"} {
		p := filepath.Join(dir, name)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := ExpandInput(dir, noSkipNote(t))
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, g := range got {
		r, _ := filepath.Rel(dir, g)
		rel = append(rel, filepath.ToSlash(r))
	}
	if strings.Join(rel, ",") != ".top.json,a.ndjson,b.json,sub/c.jsonl,sub/e.JSON" {
		t.Errorf("got %v", rel)
	}
	if _, err := ExpandInput(filepath.Join(dir, "nope"), noSkipNote(t)); err == nil {
		t.Error("missing path accepted")
	}
}

// TestPayloadJSONMatchesEncodingJSON: the hand-written encoder writes exactly
// what encoding/json (HTML escaping off) would.
func TestPayloadJSONMatchesEncodingJSON(t *testing.T) {
	type finding = validate.Finding
	strs := []string{"", "plain", `q"uo\te`, "ctl\x00\x01\x1f\b\f\n\r\t", "uni é 👋 \u2028 \u2029", "bad \xff\xfe utf8", "<html>&amp;", "\x7f"}
	for _, s := range strs {
		p := validate.Payload{Index: 3, Line: 4, Column: 5, Report: validate.Report{Kind: validate.Kind(s), Findings: []finding{
			{Severity: validate.Error, Rule: s, Path: s, Line: 1, Column: 2, Message: s},
			{Severity: validate.Warning, Rule: "r", Path: "", Line: 7, Column: 8, Message: "m"},
		}}}
		got := appendPayloadJSON(nil, appendJSONString(nil, s), p, true, 1, 1)
		var want bytes.Buffer
		_ = ui.WriteJSON(&want, struct {
			Type     string             `json:"type"`
			File     string             `json:"file"`
			Index    int                `json:"index"`
			Line     int                `json:"line"`
			Column   int                `json:"column"`
			Kind     validate.Kind      `json:"kind"`
			Valid    bool               `json:"valid"`
			Errors   int                `json:"errors"`
			Warnings int                `json:"warnings"`
			Findings []validate.Finding `json:"findings"`
		}{"payload", s, 3, 4, 5, p.Report.Kind, true, 1, 1, p.Report.Findings})
		if string(got) != want.String() {
			t.Errorf("%q:\ngot  %s\nwant %s", s, got, want.String())
		}
	}
	empty := appendPayloadJSON(nil, []byte(`"f"`), validate.Payload{}, true, 0, 0)
	if !bytes.Contains(empty, []byte(`"findings":[]}`)) {
		t.Errorf("empty findings: %s", empty)
	}
}

// noSkipNote fails the test when a walk skips a file.
func noSkipNote(t *testing.T) func(string, string) {
	return func(path, why string) { t.Errorf("skipped %s: %s", path, why) }
}
