package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// corpusLines returns every corpus file (testdata/valid, testdata/invalid)
// as one line: compacted where it is well-formed JSON, else with its line
// breaks turned into spaces (so broken payloads stay broken).
func corpusLines(t testing.TB) [][]byte {
	t.Helper()
	var lines [][]byte
	for _, dir := range []string{"../../testdata/valid", "../../testdata/invalid"} {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || filepath.Ext(path) != ".json" {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			var c bytes.Buffer
			if err := json.Compact(&c, data); err == nil {
				data = c.Bytes()
			} else {
				data = bytes.ReplaceAll(data, []byte("\n"), []byte(" "))
			}
			lines = append(lines, data)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(lines) < 100 {
		t.Fatalf("only %d corpus files", len(lines))
	}
	return lines
}

// mixedNDJSON draws n lines from the corpus (seeded), with blank lines, CRLF
// endings and over-long lines mixed in.
func mixedNDJSON(t testing.TB, n int) []byte {
	lines := corpusLines(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		switch rng.IntN(50) {
		case 0:
			b.WriteString("\n")
		case 1:
			b.WriteString(`{"mId":"` + strings.Repeat("x", 3000) + `"}` + "\n") // over the 2 KiB cap used below
		case 2:
			b.Write(lines[rng.IntN(len(lines))])
			b.WriteString("\r\n")
		default:
			b.Write(lines[rng.IntN(len(lines))])
			b.WriteString("\n")
		}
	}
	return b.Bytes()
}

// collect runs Stream and keeps everything fn sees (Raw copied).
func collect(t *testing.T, data []byte, opts StreamOptions) (Format, []Payload, error) {
	t.Helper()
	var got []Payload
	format, err := Stream(bytes.NewReader(data), opts, func(p Payload) error {
		p.Raw = bytes.Clone(p.Raw)
		got = append(got, p)
		return nil
	})
	return format, got, err
}

// TestStreamParallelMatchesSequential: with Jobs > 1 fn sees exactly the
// payloads, reports, positions and bytes of the sequential run, in order.
func TestStreamParallelMatchesSequential(t *testing.T) {
	ndjson := mixedNDJSON(t, 5000)
	lines := corpusLines(t)
	array := append([]byte("[\n"), bytes.Join(lines, []byte(",\n  "))...)
	array = append(array, "\n]\n"...)
	inputs := map[string][]byte{
		"mixed ndjson":        ndjson,
		"corpus as array":     array,
		"truncated array":     array[:len(array)*2/3],
		"array missing comma": bytes.Replace(array, []byte(",\n  "), []byte("\n  "), 1),
		"one document":        lines[0],
	}
	for _, f := range []string{"ndjson/mixed.ndjson", "ndjson/valid.ndjson", "ndjson/valid.jsonl", "array/mixed.json", "array/valid.json", "array/truncated.json"} {
		data, err := os.ReadFile("../../testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[f] = data
	}
	for name, data := range inputs {
		for _, o := range []StreamOptions{{}, {MaxDocBytes: 2048}, {Format: FormatNDJSON, Options: Options{IDType: "phone", ChannelID: "c1"}}} {
			t.Run(fmt.Sprintf("%s/%d/%s", name, o.MaxDocBytes, o.Format), func(t *testing.T) {
				seqOpts := o
				seqOpts.Jobs = 1
				wantFormat, want, wantErr := collect(t, data, seqOpts)
				for _, jobs := range []int{2, 4} {
					o.Jobs = jobs
					format, got, err := collect(t, data, o)
					if format != wantFormat || fmt.Sprint(err) != fmt.Sprint(wantErr) {
						t.Errorf("jobs %d: format %q err %v; sequential: %q %v", jobs, format, err, wantFormat, wantErr)
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("jobs %d: %d payloads differ from the sequential run's %d", jobs, len(got), len(want))
					}
				}
			})
		}
	}
}

// TestStreamParallelStopsOnCallbackError: after fn fails nothing more is
// reported and Stream returns fn's error.
func TestStreamParallelStopsOnCallbackError(t *testing.T) {
	data := bytes.Repeat([]byte(okLine+"\n"), 3000)
	stop := fmt.Errorf("stop here")
	calls := 0
	_, err := Stream(bytes.NewReader(data), StreamOptions{Jobs: 4}, func(p Payload) error {
		if p.Index != calls {
			t.Fatalf("payload %d reported as call %d", p.Index, calls)
		}
		calls++
		if calls == 1000 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 1000 {
		t.Fatalf("err %v after %d calls; want %v after 1000", err, calls, stop)
	}
}

// TestStreamParallelReadError: payloads read before a read error are all
// reported, then the error is returned.
func TestStreamParallelReadError(t *testing.T) {
	data := bytes.Repeat([]byte(okLine+"\n"), 600)
	calls := 0
	_, err := Stream(io.MultiReader(bytes.NewReader(data), errReader{}), StreamOptions{Jobs: 2}, func(Payload) error { calls++; return nil })
	if err == nil || !strings.Contains(err.Error(), "disk on fire") || calls != 600 {
		t.Fatalf("err %v after %d payloads; want the read error after 600", err, calls)
	}
}

// BenchmarkStreamJobs compares sequential and parallel streaming over ~4 MB
// of the generated mixed NDJSON (valid and invalid payloads).
func BenchmarkStreamJobs(b *testing.B) {
	data := mixedNDJSON(b, 5000)
	data = bytes.Repeat(data, (4<<20)/len(data)+1)
	for _, jobs := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("jobs=%d", jobs), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				if _, err := Stream(bytes.NewReader(data), StreamOptions{Jobs: jobs}, func(p Payload) error {
					n++
					return nil
				}); err != nil || n == 0 {
					b.Fatal(err, n)
				}
			}
		})
	}
}

// FuzzStreamJobs: on any input, with batches of a few payloads, the parallel
// stream reports exactly what the sequential one reports.
func FuzzStreamJobs(f *testing.F) {
	seedCorpus(f)
	f.Add([]byte(strings.Repeat(okLine+"\n{\n", 7)), uint8(2))
	f.Add([]byte("["+strings.Repeat(okLine+",", 9)+"1]"), uint8(3))
	defer func(n, b int) { batchPayloads, batchBytes = n, b }(batchPayloads, batchBytes)
	batchPayloads, batchBytes = 3, 512
	f.Fuzz(func(t *testing.T, data []byte, knob uint8) {
		opts := StreamOptions{
			Format:      []Format{FormatAuto, FormatJSON, FormatNDJSON, FormatArray}[knob%4],
			MaxDocBytes: 64 + int(knob)*8,
		}
		wantFormat, want, wantErr := collect(t, data, opts)
		opts.Jobs = 1 + int(knob%3)
		format, got, err := collect(t, data, opts)
		if format != wantFormat || fmt.Sprint(err) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
			t.Fatalf("jobs %d: format %q err %v, %d payloads; sequential: %q %v, %d payloads", opts.Jobs, format, err, len(got), wantFormat, wantErr, len(want))
		}
	})
}
