package relay

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider/loopback"
)

// FuzzProviderWebhook drives arbitrary bodies through the whole inbound path
// (verify, parse, spool) and arbitrary /message bodies through listen's
// checks: no panic, and only the documented statuses.
func FuzzProviderWebhook(f *testing.F) {
	f.Add(`{"id":"1","from":"+60177872890","text":"hi"}`)
	f.Add(`{"id":"1","from":"-5","text":"x"}`)
	f.Add(`{"channelId":"c","contactId":"+60177872890","message":{"type":"text","text":"hi"}}`)
	eng, err := New(Options{Adapter: loopback.New(), ChannelID: "c", Token: "tok", IDType: channel.IDPhone,
		WebhookURL: "http://127.0.0.1:9/", SpoolPath: filepath.Join(f.TempDir(), "s.db")})
	if err != nil {
		f.Fatal(err)
	}
	defer eng.Close()
	h := eng.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/providers/loopback/inbound", strings.NewReader(body)))
		if w.Code != 200 && w.Code != 400 && w.Code != 503 {
			t.Fatalf("inbound status %d", w.Code)
		}
		r := httptest.NewRequest(http.MethodPost, "/message", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer tok")
		r.Header.Set("Content-Type", "application/json")
		w = httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("/message status %d: %s", w.Code, w.Body)
		}
	})
}
