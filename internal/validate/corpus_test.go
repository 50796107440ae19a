package validate

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
)

// corpusChannelID is the channel every corpus file belongs to (docs/validate.md).
const corpusChannelID = "gfd8g7fd89dgfd"

// corpusOptions reads the file-name conventions of testdata/valid and
// testdata/invalid: "--"-separated segments where a 3-digit segment is the
// reply's HTTP status, "id-phone"/"id-custom" the ID type, "auto" means no
// --kind, and json-too-large files are read with a 1 KiB cap.
func corpusOptions(kind Kind, name string) Options {
	opts := Options{Kind: kind, ChannelID: corpusChannelID}
	segs := strings.Split(strings.TrimSuffix(name, ".json"), "--")
	for _, s := range segs {
		switch {
		case len(s) == 3 && isDigits(s):
			opts.ReplyStatus, _ = strconv.Atoi(s)
		case s == "id-phone":
			opts.IDType = channel.IDPhone
		case s == "id-custom":
			opts.IDType = channel.IDCustom
		case s == "auto":
			opts.Kind = KindAuto
		}
	}
	if segs[0] == RuleTooLarge {
		opts.MaxBytes = 1024
	}
	return opts
}

func corpusFiles(t *testing.T, dir string) map[Kind][]string {
	t.Helper()
	out := map[Kind][]string{}
	for _, k := range Kinds {
		files, err := filepath.Glob(filepath.Join("..", "..", "testdata", dir, string(k), "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		out[k] = files
	}
	return out
}

func TestCorpusValid(t *testing.T) {
	n := 0
	for kind, files := range corpusFiles(t, "valid") {
		for _, file := range files {
			n++
			t.Run(string(kind)+"/"+filepath.Base(file), func(t *testing.T) {
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				opts := corpusOptions(kind, filepath.Base(file))
				r := Bytes(data, opts)
				for _, f := range r.Findings {
					t.Errorf("%d:%d %s %s %s: %s", f.Line, f.Column, f.Severity, f.Rule, f.Path, f.Message)
				}
				if r.Kind != kind {
					t.Errorf("kind %q, want %q", r.Kind, kind)
				}
				// Auto-detection must agree with the directory.
				opts.Kind = KindAuto
				if got := Bytes(data, opts); got.Kind != kind || len(got.Findings) > 0 {
					t.Errorf("auto: kind %q with %d findings, want %q and none", got.Kind, len(got.Findings), kind)
				}
			})
		}
	}
	if n < 40 {
		t.Fatalf("only %d valid corpus files", n)
	}
}

func TestCorpusInvalid(t *testing.T) {
	covered := map[string]bool{}
	for kind, files := range corpusFiles(t, "invalid") {
		for _, file := range files {
			name := filepath.Base(file)
			rule := strings.SplitN(name, "--", 2)[0]
			covered[rule] = true
			t.Run(string(kind)+"/"+name, func(t *testing.T) {
				sev, ok := RuleSeverity(rule)
				if !ok {
					t.Fatalf("file name starts with unknown rule id %q", rule)
				}
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				r := Bytes(data, corpusOptions(kind, name))
				found := false
				for _, f := range r.Findings {
					if f.Rule == rule {
						found = true
						if f.Line < 1 || f.Column < 1 {
							t.Errorf("finding %s at %d:%d", f.Rule, f.Line, f.Column)
						}
					}
				}
				if !found {
					t.Errorf("rule %s not reported; got %+v", rule, r.Findings)
				}
				// A warning file is "invalid under --strict": warnings only.
				if sev == Warning && r.HasErrors() {
					t.Errorf("warning-rule file has errors: %+v", r.Findings)
				}
			})
		}
	}
	for _, r := range Rules {
		if !covered[r.ID] && !slices.Contains(NetworkRules, r.ID) { // internal/mediacheck's tests cover these
			t.Errorf("no testdata/invalid file for rule %s", r.ID)
		}
	}
}
