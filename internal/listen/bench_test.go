package listen

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkHandler measures one authenticated, validated text call end to
// end through the handler (no network), with a no-op printer.
func BenchmarkHandler(b *testing.B) {
	h := NewHandler(Options{Token: testToken, ChannelID: "gfd8g7fd89dgfd", OnCall: func(Call) {}})
	hdr := http.Header{"Authorization": {"Bearer " + testToken}, "Content-Type": {"application/json"}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("POST", "/message", strings.NewReader(textBody))
			r.Header = hdr.Clone()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}

// BenchmarkHandlerJSON is BenchmarkHandler with the --json printer writing
// every record (to io.Discard), as `ccx listen --json > file` runs.
func BenchmarkHandlerJSON(b *testing.B) {
	p := NewJSONPrinter(io.Discard)
	h := NewHandler(Options{Token: testToken, OnCall: func(c Call) { _ = p.Print(c) }})
	hdr := http.Header{"Authorization": {"Bearer " + testToken}, "Content-Type": {"application/json"}}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := httptest.NewRequest("POST", "/message", strings.NewReader(textBody))
			r.Header = hdr.Clone()
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != 200 {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}

// BenchmarkRecord: one call record, written by AppendJSON and (for
// comparison) the way json.Marshal wrote it before.
func BenchmarkRecord(b *testing.B) {
	c := sampleCalls()[1]
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = c.AppendJSON(buf[:0])
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			refRecord(b, c)
		}
	})
}
