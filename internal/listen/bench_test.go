package listen

import (
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
