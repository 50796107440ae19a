package validate

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
)

// BenchmarkBytes measures one payload per op; b.SetBytes gives MB/s. The
// bench/ scripts compare the same corpus against JSON Schema validators.
func BenchmarkBytes(b *testing.B) {
	samples := []struct{ name, file string }{
		{"valid/text", "valid/webhook/message--text.json"},
		{"valid/attachment", "valid/webhook/message--attachment-image.json"},
		{"valid/full-contact", "valid/webhook/message--text-with-full-contact.json"},
		{"valid/status", "valid/webhook/status--failed-with-reason.json"},
		{"valid/reply", "valid/reply/200--mid.json"},
		{"invalid/timestamp-seconds", "invalid/webhook/timestamp-seconds--10-digits.json"},
		{"invalid/url", "invalid/webhook/url-invalid--relative.json"},
		{"invalid/syntax", "invalid/webhook/json-syntax--truncated.json"},
		{"invalid/unknown-fields", "invalid/message/unknown-field--extra-top-level.json"},
	}
	for _, s := range samples {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", s.file))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				Bytes(data, Options{IDType: channel.IDPhone})
			}
		})
	}
	// mixed: every corpus payload in turn.
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "*valid", "*", "*.json"))
	var corpus [][]byte
	total := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		corpus = append(corpus, data)
		total += len(data)
	}
	b.Run("mixed-corpus", func(b *testing.B) {
		b.SetBytes(int64(total / len(corpus)))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			Bytes(corpus[i%len(corpus)], Options{})
			i++
		}
	})
}

// BenchmarkStream measures the NDJSON path end to end (splitting + checking)
// over the mixed sample repeated to ~1 MB.
func BenchmarkStream(b *testing.B) {
	sample, err := os.ReadFile(filepath.Join("..", "..", "testdata", "ndjson", "valid.ndjson"))
	if err != nil {
		b.Fatal(err)
	}
	// Each copy gets its own mIds, as a real stream has (a repeated mId is
	// a mid-duplicate finding).
	var data []byte
	for i := 0; i < (1<<20)/len(sample); i++ {
		data = append(data, bytes.ReplaceAll(sample, []byte(`"mId":"n`), []byte(`"mId":"r`+strconv.Itoa(i)+`n`))...)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if _, err := Stream(bytes.NewReader(data), StreamOptions{}, func(p Payload) error {
			n += len(p.Report.Findings)
			return nil
		}); err != nil || n != 0 {
			b.Fatal(err, n)
		}
	}
}
