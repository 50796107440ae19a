package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/ui"
)

func runSchemaCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	io, _, out, errOut := ui.Test()
	code = Run(context.Background(), &Factory{IO: io}, args)
	return code, out.String(), errOut.String()
}

func TestSchemaCmdPrintsJSONSchema(t *testing.T) {
	for _, args := range [][]string{
		{"schema"},
		{"schema", "--kind", "webhook"},
		{"schema", "--kind", "message", "--id-type", "phone"},
		{"schema", "--kind", "reply"},
		{"schema", "--id-type", "custom"},
	} {
		code, out, errOut := runSchemaCLI(t, args...)
		if code != ExitOK || errOut != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errOut)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%v: stdout is not JSON: %v", args, err)
		}
		if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%v: $schema = %v", args, doc["$schema"])
		}
		if id, _ := doc["$id"].(string); !strings.HasPrefix(id, "https://") {
			t.Errorf("%v: $id = %v", args, doc["$id"])
		}
	}
}

func TestSchemaCmdBundleHoldsEveryKind(t *testing.T) {
	_, out, _ := runSchemaCLI(t, "schema")
	var doc struct {
		Defs map[string]struct {
			ID string `json:"$id"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"webhook", "message", "reply"} {
		if !strings.HasSuffix(doc.Defs[k].ID, "/"+k+".schema.json") {
			t.Errorf("$defs.%s.$id = %q", k, doc.Defs[k].ID)
		}
	}
}

func TestSchemaCmdWritesFiles(t *testing.T) {
	dir := t.TempDir()
	if code, _, errOut := runSchemaCLI(t, "schema", "--dir", dir); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, k := range []string{"webhook", "message", "reply"} {
		data, err := os.ReadFile(filepath.Join(dir, k+".schema.json"))
		if err != nil || !json.Valid(data) {
			t.Errorf("%s: %v (valid JSON: %v)", k, err, json.Valid(data))
		}
	}
	file := filepath.Join(dir, "one.json")
	code, out, _ := runSchemaCLI(t, "schema", "--kind", "reply", "-o", file)
	if code != ExitOK || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	if data, _ := os.ReadFile(file); !strings.Contains(string(data), `"oneOf"`) {
		t.Errorf("--output file lacks the reply schema: %.80s", data)
	}
}

func TestSchemaCmdErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"schema", "--kind", "sms"}, ExitUsage, `unknown kind "sms"`},
		{[]string{"schema", "--id-type", "x"}, ExitUsage, `unknown ID type "x"`},
		{[]string{"schema", "-o", "a", "--dir", "b"}, ExitUsage, "cannot be used together"},
		{[]string{"schema", "extra"}, ExitUsage, ""},
		{[]string{"schema", "-o", t.TempDir()}, ExitIO, "error:"},
	}
	for _, tt := range tests {
		code, out, errOut := runSchemaCLI(t, tt.args...)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tt.args, code, tt.code, errOut)
		}
		if out != "" {
			t.Errorf("%v: stdout %q on error", tt.args, out)
		}
		if !strings.Contains(errOut, tt.msg) {
			t.Errorf("%v: stderr %q lacks %q", tt.args, errOut, tt.msg)
		}
	}
}
