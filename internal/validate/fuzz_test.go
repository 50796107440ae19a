package validate

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/ccx-cli/ccx/internal/channel"
)

// seedCorpus adds every testdata payload file to the fuzzer's seeds.
func seedCorpus(f *testing.F) {
	for _, pattern := range []string{"valid/*/*.json", "invalid/*/*.json", "ndjson/*", "array/*.json"} {
		files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", pattern))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data, uint8(len(data)))
		}
	}
}

// FuzzBytes: no input panics Bytes, and every finding has a known rule id,
// its table severity and an in-range line:column.
func FuzzBytes(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte, knob uint8) {
		opts := Options{
			Kind:        append(Kinds, KindAuto)[int(knob)%4],
			IDType:      append(channel.IDTypes, "")[int(knob/4)%3],
			ReplyStatus: []int{0, 200, 400, 500, 204}[int(knob/12)%5],
			ChannelID:   []string{"", "gfd8g7fd89dgfd"}[int(knob/60)%2],
			TextLimit:   int(knob % 16),
		}
		r := Bytes(data, opts)
		checkFindings(t, data, r.Findings)
	})
}

// FuzzStream: the stream splitter never panics and maps every finding into
// the input's coordinates.
func FuzzStream(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte, knob uint8) {
		format := []Format{FormatAuto, FormatJSON, FormatNDJSON, FormatArray}[knob%4]
		n := 0
		_, err := Stream(bytes.NewReader(data), StreamOptions{Format: format, MaxDocBytes: 64 + int(knob)*8}, func(p Payload) error {
			if p.Index != n {
				t.Fatalf("index %d, want %d", p.Index, n)
			}
			n++
			checkFindings(t, data, p.Report.Findings)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzScan: the scanner accepts exactly what encoding/json accepts (for
// valid UTF-8 without NUL bytes, within MaxDepth), and walking what it
// accepts visits every value without going out of bounds.
func FuzzScan(f *testing.F) {
	seedCorpus(f)
	for _, s := range []string{`1`, `-0.5e+3`, `"\u00e9\n"`, `[1,[2,{"a":[]}]]`, `{"a":1,}`, `01`, `1.`, `"\x01"`, `[1 2]`, `{"a" 1}`, `tru`, `nul`, `"\ud800"`} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, _ uint8) {
		if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
			return
		}
		c := checker{data: data, s: string(data)}
		res, _ := c.scanJSON()
		if res == scanDepth {
			return
		}
		if got, want := res == scanOK, json.Valid(data); got != want {
			t.Fatalf("scanJSON ok=%v, encoding/json Valid=%v for %q", got, want, data)
		}
		if res != scanOK {
			return
		}
		start := skipSpace(data, 0)
		root, end, _ := c.value(start, 0)
		if skipSpace(data, end) != len(data) {
			t.Fatalf("root value ends at %d of %d", end, len(data))
		}
		var walk func(v val)
		walk = func(v val) {
			if v.Raw == "" || v.Index < 0 || v.Index+len(v.Raw) > len(data) {
				t.Fatalf("bad value %+v", v)
			}
			if v.Type == tString {
				var s string
				if err := json.Unmarshal([]byte(v.Raw), &s); err != nil || s != v.Str {
					t.Fatalf("string %s unescaped to %q, want %q (%v)", v.Raw, v.Str, s, err)
				}
			}
			c.forEach(v, func(k, x val) bool {
				walk(x)
				return true
			})
		}
		walk(root)
	})
}
