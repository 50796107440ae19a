package validate

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
)

type streamed struct {
	index, line, col int
	kind             Kind
	findings         []string // "line:col rule"
}

func runStream(t *testing.T, in string, opts StreamOptions) (Format, []streamed) {
	t.Helper()
	var got []streamed
	format, err := Stream(strings.NewReader(in), opts, func(p Payload) error {
		s := streamed{index: p.Index, line: p.Line, col: p.Column, kind: p.Report.Kind}
		for _, f := range p.Report.Findings {
			s.findings = append(s.findings, fmt.Sprintf("%d:%d %s", f.Line, f.Column, f.Rule))
		}
		got = append(got, s)
		return nil
	})
	if err != nil {
		t.Fatalf("Stream: %v", err)
	}
	return format, got
}

const okLine = `{"channelId":"c1","contactId":"+60177872890","events":[{"type":"message","mId":"m1","timestamp":1732435200000,"message":{"type":"text","text":"hi"}}]}`

func TestStreamFormats(t *testing.T) {
	badTS := strings.Replace(okLine, "1732435200000", "1732435200", 1)
	tsCol := strings.Index(badTS, "1732435200") + 1
	// Each payload its own mId (a repeat is mid-duplicate, tested below).
	mid := func(s, id string) string { return strings.Replace(s, `"m1"`, `"`+id+`"`, 1) }
	tests := []struct {
		name   string
		in     string
		opts   StreamOptions
		format Format
		want   []string // per payload: "line:col [findings...]"
	}{
		{"single pretty document", "\n\n{\n  \"mId\": \"\"\n}\n", StreamOptions{}, FormatJSON,
			[]string{"3:1 [4:10 empty]"}},
		{"single line document", okLine, StreamOptions{}, FormatJSON, []string{"1:1 []"}},
		{"ndjson with blank lines and CRLF", okLine + "\r\n\r\n" + mid(badTS, "m2") + "\r\n  " + mid(badTS, "m3") + "\n", StreamOptions{}, FormatNDJSON,
			[]string{"1:1 []", fmt.Sprintf("3:1 [3:%d timestamp-seconds]", tsCol), fmt.Sprintf("4:1 [4:%d timestamp-seconds]", tsCol+2)}},
		{"ndjson broken line does not swallow the next", okLine + "\n{\"events\":[\n" + mid(okLine, "m2") + "\n", StreamOptions{}, FormatNDJSON,
			[]string{"1:1 []", "2:1 [2:12 json-syntax]", "3:1 []"}},
		{"forced ndjson", okLine + "\n", StreamOptions{Format: FormatNDJSON}, FormatNDJSON, []string{"1:1 []"}},
		{"array of payloads", "[\n  " + okLine + ",\n  " + mid(badTS, "m2") + ", \"x\"]", StreamOptions{}, FormatArray,
			[]string{"2:3 []", fmt.Sprintf("3:3 [3:%d timestamp-seconds]", tsCol+2), fmt.Sprintf("3:%d [3:%d type]", len(badTS)+5, len(badTS)+5)}},
		{"empty array", " [ ] ", StreamOptions{}, FormatArray, []string{"1:2 [1:2 array-empty]"}}, // nothing to validate is an error
		{"truncated array", "[" + okLine + ",\n" + okLine[:40], StreamOptions{}, FormatArray,
			[]string{"1:2 []", "2:1 [2:41 json-syntax]", "2:41 [2:41 json-syntax]"}},
		{"trailing comma", "[" + okLine + ",]", StreamOptions{}, FormatArray,
			[]string{"1:2 []", fmt.Sprintf("1:%d [1:%d json-syntax]", len(okLine)+3, len(okLine)+3)}},
		{"junk after array", "[]x", StreamOptions{}, FormatArray, []string{"1:1 [1:1 array-empty]", "1:3 [1:3 json-syntax]"}},
		{"missing comma", "[{} {}]", StreamOptions{}, FormatArray, []string{"1:2 [1:2 kind-unknown]", "1:5 [1:5 json-syntax]"}},
		{"empty input", " \n ", StreamOptions{}, FormatAuto, []string{"2:2 [2:2 json-syntax]"}},
		{"empty ndjson", "\n\n", StreamOptions{Format: FormatNDJSON}, FormatNDJSON, []string{"3:1 [3:1 json-syntax]"}},
		{"too large document", "{\n\"mId\": \"" + strings.Repeat("x", 200) + "\"}", StreamOptions{MaxDocBytes: 100}, FormatJSON,
			[]string{"1:1 [1:1 json-too-large]"}},
		{"too large ndjson line is skipped", okLine + "\n" + `{"x":"` + strings.Repeat("x", 300) + `"}` + "\n" + mid(okLine, "m2") + "\n", StreamOptions{MaxDocBytes: 200}, FormatNDJSON,
			[]string{"1:1 []", "2:1 [2:1 json-too-large]", "3:1 []"}},
		{"too large array element", "[" + okLine + "," + okLine + "]", StreamOptions{MaxDocBytes: 100}, FormatArray,
			[]string{"1:2 [1:2 json-too-large]", fmt.Sprintf("1:%d [1:%d json-too-large]", len(okLine)+3, len(okLine)+3)}},
		{"deep first line of ndjson", strings.Repeat(`{"a":`, 1<<20) + "1" + strings.Repeat("}", 1<<20) + "\n" + okLine + "\n", StreamOptions{}, FormatNDJSON,
			[]string{"1:1 [1:321 json-depth]", "2:1 []"}},
		{"deep array element", "[" + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "]", StreamOptions{}, FormatArray,
			[]string{"1:2 [1:66 json-depth]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			format, got := runStream(t, tt.in, tt.opts)
			if format != tt.format {
				t.Errorf("format %q, want %q", format, tt.format)
			}
			var lines []string
			for i, p := range got {
				if p.index != i {
					t.Errorf("payload %d has index %d", i, p.index)
				}
				lines = append(lines, fmt.Sprintf("%d:%d [%s]", p.line, p.col, strings.Join(p.findings, " ")))
			}
			if strings.Join(lines, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestStreamCorpusSamples checks the NDJSON and array samples used by the
// command tests.
func TestStreamCorpusSamples(t *testing.T) {
	for file, want := range map[string]int{
		"../../testdata/ndjson/mixed.ndjson": 7,
		"../../testdata/ndjson/valid.ndjson": 4,
		"../../testdata/array/mixed.json":    4,
		"../../testdata/array/valid.json":    2,
	} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		_, got := runStream(t, string(data), StreamOptions{})
		if len(got) != want {
			t.Errorf("%s: %d payloads, want %d", file, len(got), want)
		}
	}
}

// countingReader generates n copies of line without holding them.
type repeatReader struct {
	line  []byte
	n     int
	off   int
	total int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	c := copy(p, r.line[r.off:])
	r.off += c
	r.total += int64(c)
	if r.off == len(r.line) {
		r.off = 0
		r.n--
	}
	return c, nil
}

// TestStreamBoundedMemory streams ~24 MB of NDJSON and checks the heap stays
// small, and that an oversized single document is not read to its end.
func TestStreamBoundedMemory(t *testing.T) {
	line := []byte(okLine + "\n")
	n := 24 << 20 / len(line)
	r := &repeatReader{line: line, n: n}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak uint64
	count := 0
	_, err := Stream(r, StreamOptions{}, func(p Payload) error {
		count++
		if p.Report.HasErrors() {
			t.Fatalf("payload %d: %+v", p.Index, p.Report.Findings)
		}
		if count%20000 == 0 {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if count != n {
		t.Fatalf("%d payloads, want %d", count, n)
	}
	if peak > base.HeapInuse+16<<20 {
		t.Errorf("heap in use grew from %d to %d bytes while streaming %d bytes", base.HeapInuse, peak, r.total)
	}

	big := &repeatReader{line: []byte(`{"mId":"` + strings.Repeat("x", 1000) + `",`), n: 10000}
	var findings []Finding
	if _, err := Stream(big, StreamOptions{MaxDocBytes: 64 << 10}, func(p Payload) error {
		findings = append(findings, p.Report.Findings...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(findings) != 1 || findings[0].Rule != RuleTooLarge {
		t.Fatalf("findings %+v", findings)
	}
	if big.total > 1<<20 {
		t.Errorf("read %d bytes of an oversized document; want it abandoned near the cap", big.total)
	}
}

func TestStreamReadError(t *testing.T) {
	_, err := Stream(io.MultiReader(strings.NewReader(okLine+"\n"), errReader{}), StreamOptions{}, func(Payload) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err = %v", err)
	}
	stop := fmt.Errorf("stop here")
	_, err = Stream(bytes.NewReader([]byte(okLine+"\n"+okLine)), StreamOptions{}, func(Payload) error { return stop })
	if err != stop {
		t.Fatalf("callback error not returned: %v", err)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, fmt.Errorf("disk on fire") }

// A message mId used again for the same channel within one input is a
// mid-duplicate warning at the repeat, naming the first occurrence; a
// receipt for it, or the same mId on another channel, is not.
func TestStreamMIDDuplicate(t *testing.T) {
	line := func(ch, typ, mid string) string {
		body := `"message":{"type":"text","text":"hi"}`
		if typ == "message_status" {
			body = `"status":{"value":"read"}`
		}
		return `{"channelId":"` + ch + `","contactId":"+60177872890","events":[{"type":"` + typ + `","mId":"` + mid + `","timestamp":1732435200000,` + body + `}]}`
	}
	col := strings.Index(line("c1", "message", "m1"), `"m1"`) + 1
	ecol := strings.Index(line("c1", "message_echo", "m2"), `"m2"`) + 1
	ndjson := strings.Join([]string{
		line("c1", "message", "m1"),
		line("c1", "message_status", "m1"), // a receipt names the message's mId
		line("c2", "message", "m1"),        // another channel
		line("c1", "message_echo", "m2"),
		line("c1", "message", "m1"), // the repeat
		line("c1", "message_echo", "m2"),
	}, "\n") + "\n"
	want := fmt.Sprintf("5:%d events[0].mId mId \"m1\" was already used for this channel at 1:%d;6:%d events[0].mId mId \"m2\" was already used for this channel at 4:%d;", col, col, ecol, ecol)
	for _, jobs := range []int{1, 2} {
		for name, in := range map[string]string{"ndjson": ndjson, "array": "[" + strings.ReplaceAll(strings.TrimSuffix(ndjson, "\n"), "\n", ",\n") + "]"} {
			var got strings.Builder
			_, err := Stream(strings.NewReader(in), StreamOptions{Jobs: jobs}, func(p Payload) error {
				for _, f := range p.Report.Findings {
					if f.Severity != Warning || f.Rule != RuleMIDDuplicate {
						t.Errorf("%s: unexpected %+v", name, f)
						continue
					}
					msg, _, _ := strings.Cut(f.Message, ";")
					fmt.Fprintf(&got, "%d:%d %s %s;", f.Line, f.Column, f.Path, msg)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			w := want
			if name == "array" { // one more column on the first line ('[')
				w = strings.Replace(w, fmt.Sprintf("at 1:%d", col), fmt.Sprintf("at 1:%d", col+1), 1)
			}
			if got.String() != w {
				t.Errorf("%s, %d jobs:\n got  %s\n want %s", name, jobs, got.String(), w)
			}
		}
	}

	// One index over several files (a directory): the first occurrence is
	// named with its file.
	idx := NewMIDIndex()
	var msgs []string
	for _, f := range []string{"a.json", "b.json"} {
		idx.File(f)
		_, err := Stream(strings.NewReader(line("c1", "message", "m9")), StreamOptions{MIDs: idx}, func(p Payload) error {
			for _, f := range p.Report.Findings {
				msgs = append(msgs, f.Rule+" "+f.Message)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], fmt.Sprintf("mid-duplicate mId \"m9\" was already used for this channel at a.json:1:%d", col)) {
		t.Errorf("across files: %q", msgs)
	}
}

// The index grows past its first table and still names the first
// occurrence; positions that do not fit its packing are shown as "?".
func TestMIDIndexGrowth(t *testing.T) {
	var b strings.Builder
	const n = 5000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"channelId":"c","contactId":"+60177872890","events":[{"type":"message","mId":"m%d","timestamp":1732435200000,"message":{"type":"text","text":"hi"}}]}`+"\n", i)
	}
	b.WriteString(`{"channelId":"c","contactId":"+60177872890","events":[{"type":"message","mId":"m0","timestamp":1732435200000,"message":{"type":"text","text":"hi"}}]}` + "\n")
	b.WriteString(`{"channelId":"c","contactId":"+60177872890","events":[{"type":"message","mId":"m4999","timestamp":1732435200000,"message":{"type":"text","text":"hi"}}]}` + "\n")
	var got []string
	idx := NewMIDIndex()
	if _, err := Stream(strings.NewReader(b.String()), StreamOptions{MIDs: idx}, func(p Payload) error {
		for _, f := range p.Report.Findings {
			got = append(got, fmt.Sprintf("%d %s", f.Line, f.Message[:strings.Index(f.Message, ";")]))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf(`%d mId "m0" was already used for this channel at 1:79`, n+1),
		fmt.Sprintf(`%d mId "m4999" was already used for this channel at %d:79`, n+2, n),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if idx.npos != n || len(idx.slots) <= 1024 || idx.npos*5 > len(idx.slots)*4 {
		t.Errorf("%d mIds in %d slots", idx.npos, len(idx.slots))
	}
	if _, line, col := unpackPos(packPos(1, 1<<31-1, 1<<25)); line != "?" || col != "?" {
		t.Errorf("unpacked %s:%s", line, col)
	}
	if f, line, col := unpackPos(packPos(3, 7, 9)); f != 3 || line != "7" || col != "9" {
		t.Errorf("unpacked %d %s:%s", f, line, col)
	}
}
