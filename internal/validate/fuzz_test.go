package validate

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/tidwall/gjson"
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
		r := Bytes(data, fuzzOptions(knob))
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

// FuzzDepth checks the reading path of Bytes against encoding/json (for
// valid UTF-8 without NUL bytes): the flat depth pre-check reports deep
// exactly when the real nesting passes MaxDepth, at the bracket that passes
// it; within MaxDepth, the scanner and gjson accept exactly what
// encoding/json accepts; and walking what gjson accepts stays in bounds and
// unescapes strings as encoding/json does.
func FuzzDepth(f *testing.F) {
	seedCorpus(f)
	for _, s := range []string{`1`, `-0.5e+3`, `"\u00e9\n"`, `[1,[2,{"a":[]}]]`, `{"a":1,}`, `01`, `1.`, `"\x01"`, `[1 2]`, `{"a" 1}`, `tru`, `nul`, `"\ud800"`,
		strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
		`["\"[[` + strings.Repeat("[", MaxDepth) + `"]`} {
		f.Add([]byte(s), uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, _ uint8) {
		if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
			return
		}
		off, deep := depthExceeded(data, MaxDepth)
		// The one-pass scanner accepts exactly what encoding/json does
		// within MaxDepth.
		var c checker
		c.data = data
		start := skipSpace(data, 0)
		if got, want := start < len(data) && c.scan(start), json.Valid(data) && !deep; got != want {
			t.Fatalf("scan = %v, encoding/json (within depth) = %v for %q", got, want, data)
		}
		if !json.Valid(data) {
			if !deep && gjson.ValidBytes(data) {
				t.Fatalf("gjson accepts %q, encoding/json does not", data)
			}
			return
		}
		// Real nesting and where it first passes MaxDepth, from the
		// standard library's (iterative) tokenizer.
		dec := json.NewDecoder(bytes.NewReader(data))
		depth, maxDepth, at := 0, 0, -1
		for {
			before := dec.InputOffset()
			tok, err := dec.Token()
			if err != nil {
				break
			}
			switch tok {
			case json.Delim('['), json.Delim('{'):
				depth++
				if depth > maxDepth {
					maxDepth = depth
				}
				if depth == MaxDepth+1 && at < 0 {
					at = int(before) + bytes.IndexAny(data[before:], "[{")
				}
			case json.Delim(']'), json.Delim('}'):
				depth--
			}
		}
		if deep != (maxDepth > MaxDepth) || deep && off != at {
			t.Fatalf("depthExceeded = %d, %v; nesting is %d (passes %d at %d) in %q", off, deep, maxDepth, MaxDepth, at, data)
		}
		if deep {
			return
		}
		if !gjson.ValidBytes(data) {
			t.Fatalf("encoding/json accepts %q, gjson does not", data)
		}
		var walk func(v gjson.Result)
		walk = func(v gjson.Result) {
			if v.Raw == "" || v.Index < 0 || v.Index+len(v.Raw) > len(data) || string(data[v.Index:v.Index+len(v.Raw)]) != v.Raw {
				t.Fatalf("bad value %+v in %q", v, data)
			}
			if v.Type == gjson.String {
				var s string
				if err := json.Unmarshal([]byte(v.Raw), &s); err != nil || s != v.Str {
					t.Fatalf("string %s unescaped to %q, want %q (%v)", v.Raw, v.Str, s, err)
				}
				if got := unescape([]byte(v.Raw[1 : len(v.Raw)-1])); strings.Contains(v.Raw, `\`) && got != s {
					t.Fatalf("unescape(%s) = %q, want %q", v.Raw, got, s)
				}
			}
			if v.IsObject() || v.IsArray() {
				v.ForEach(func(k, x gjson.Result) bool {
					if v.IsObject() && string(data[k.Index:k.Index+len(k.Raw)]) != k.Raw {
						t.Fatalf("bad key %+v in %q", k, data)
					}
					walk(x)
					return true
				})
			}
		}
		root := gjson.ParseBytes(data)
		root.Index = start
		root.Raw = strings.TrimRight(root.Raw, " \t\r\n")
		walk(root)
	})
}

// FuzzScannerDiff checks the one-pass scanner and the checker on its tape
// against the validator they replaced (reference_test.go): the same kind
// and the same findings (rule, severity, path, line:column, message), in
// the same order, for every input and option.
func FuzzScannerDiff(f *testing.F) {
	seedCorpus(f)
	for _, s := range diffSeeds {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, knob uint8) {
		opts := fuzzOptions(knob)
		got, want := Bytes(data, opts), refBytes(data, opts)
		if got.Kind != want.Kind || !slices.Equal(got.Findings, want.Findings) {
			t.Fatalf("input %q, options %+v:\n got  %q %+v\n want %q %+v", data, opts, got.Kind, got.Findings, want.Kind, want.Findings)
		}
	})
}

// fuzzOptions spreads one byte over the options that change findings.
func fuzzOptions(knob uint8) Options {
	return Options{
		Kind:        append(Kinds, KindAuto)[int(knob)%4],
		IDType:      append(channel.IDTypes, "")[int(knob/4)%3],
		ReplyStatus: []int{0, 200, 400, 500, 204}[int(knob/12)%5],
		ChannelID:   []string{"", "gfd8g7fd89dgfd"}[int(knob/60)%2],
		TextLimit:   int(knob % 16),
	}
}

// diffSeeds reach the scanner's corners: escapes in keys and values, bad
// escapes at every level, numbers, literals, white space, depth, UTF-8.
var diffSeeds = []string{
	`{"channelId":"c","contactId":"+60177872890","events":[{"type":"message","mId":"m\u0031","timestamp":1732435200000,"message":{"type":"text","text":"h\u00e9 \ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t"}}]}`,
	`{"ev\u0065nts":[{"type":"message","mId":"m1","timestamp":1732435200000,"message":{"type":"text","text":"\u0000"}}],"channelId":"c","contactId":"x"}`,
	`{"events":[{"type":"message_status","mId":"\ud800","timestamp":1732435200000,"status":{"value":"failed","message":"\udc00x"}}],"k\u0000ey":1,"\ud800":{"a":["\u0000",{"\udfff":2}]}}`,
	`{"events":[{"type":"message","mId":"m","timestamp":-0.5e+3,"message":{"type":"location","location":{"latitude":"91","longitude":1E400,"latitude":-90}}}]}`,
	`{"events":[{"type":"message","mId":"m","timestamp":1.7324352e12,"message":{"type":"quick_reply","title":"t","replies":["a"," ",1,{},[],null,true,false,"b","c","d","e"]}}],"contact":{"timezone":"8","phone":"123","email":"a@b","locale":"en_US","countryCode":"my","profilePic":"ftp://x"}}`,
	"  \t\r\n{\"mId\" : \"a\" ,\n \"error\" :\t{ \"message\" : \"\" } }\n ",
	`{"message":{"type":"attachment","attachment":{"type":"Image","url":"https://[::1]/a","mimeType":"video/mp4","type":"image"}},"channelId":"gfd8g7fd89dgfd","contactId":"a b"}`,
	`{"message":{"type":"custom_payload","payload":{"deep":[[[[{"x":"\ud83d"}]]]]}},"channelId":"c","contactId":"c"}`,
	`["\u0000", "\ud800\ud800\udc00", {"a\\"   : "b\u0000"}]`,
	`[]`, `[ ]`, `{}`, `""`, `0`, `-`, `-01`, `1.`, `1e`, `1e+`, `tru`, `nulL`, `{"a":1}x`, `{"a" 1}`, `{"a":1,}`, `[1,]`, `{,}`, "\"\x7f\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"", "\"\xed\xa0\x80\"", "\"\xc3\"", "{\"a\":\"\x01\"}",
	strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth),
	strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
	strings.Repeat(`{"a":`, MaxDepth) + `"\u0000"` + strings.Repeat("}", MaxDepth),
	strings.Repeat(`{"events":[`, 20) + `"\ud800"` + strings.Repeat("]}", 20),
	`{"a":"` + strings.Repeat(`\u0000`, 30) + `"}`,
	`{` + strings.Repeat(`"k":"\u0000",`, 30) + `"k":1}`,
}

func init() {
	diffSeeds = append(diffSeeds,
		`{"channelId":"c","contactId":"x","events":[{"type":"message","mId":"a","timestamp":1732435200000,"message":{"type":"text","text":"hi"}},{"type":"message_status","mId":"a","timestamp":1732435200000,"status":{"value":"read"}},{"type":"message_echo","mId":"a","timestamp":1732435200000,"message":{"type":"text","text":"hi"}},{"type":"message","mId":"a\u0062","timestamp":1732435200000,"message":{"type":"text","text":"hi"}},{"type":"message","mId":"ab","timestamp":1732435200000,"message":{"type":"text","text":"hi"}}]}`)
}
