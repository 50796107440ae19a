package validate

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

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
