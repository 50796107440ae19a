package listen

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The configured token is redacted wherever a caller puts it (query string,
// any header, cookies, the body), and credential headers always are, in
// what OnRequest/OnCall see and so in --json and --record output. The
// forwarded request keeps the exact bytes.
func TestTokenRedactedEverywhereInRecords(t *testing.T) {
	var fwdBody []byte
	var fwdHeader http.Header
	user := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fwdBody, _ = io.ReadAll(r.Body)
		fwdHeader = r.Header.Clone()
		w.Header().Set("Set-Cookie", "sid=server-session-cookie-value; Path=/; HttpOnly")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"mId":"m-1","echo":"`+testToken+`"}`)
	}))
	defer user.Close()

	var mu sync.Mutex
	var out bytes.Buffer
	jp := NewJSONPrinter(&out)
	recPath := filepath.Join(t.TempDir(), "calls.ndjson")
	rec, err := OpenRecorder(recPath, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var seen []Call
	sink := func(c Call) { mu.Lock(); seen = append(seen, c); mu.Unlock(); _ = jp.Print(c); _ = rec.Print(c) }
	secrets := []string{testToken, "other-api-key-value-0001", "browser-cookie-value-0002", "query-secret-value-0003", "server-session-cookie-value"}
	body := `{"channelId":"gfd8g7fd89dgfd","contactId":"+60177872890","message":{"type":"text","text":"token is ` + testToken + `"}}`
	for _, fwd := range []string{"", user.URL + "/message"} {
		h := NewHandler(Options{Token: testToken, ForwardTo: fwd, OnRequest: sink, OnCall: sink})
		r := httptest.NewRequest("POST", "/message?token="+testToken+"&access_token=query-secret-value-0003&page=2", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+testToken)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("X-Api-Key", "other-api-key-value-0001")
		r.Header.Set("X-Forwarded-Authorization", "Bearer "+testToken)
		r.Header.Set("Cookie", "sid=browser-cookie-value-0002; theme=dark")
		r.Header.Set("X-Custom", "v="+testToken)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != 200 {
			t.Fatalf("forward %q: %d %s", fwd, w.Code, w.Body)
		}
	}
	rec.Close()
	file, _ := os.ReadFile(recPath)
	for name, text := range map[string]string{"--json": out.String(), "--record": string(file)} {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Fatalf("%s output holds %q:\n%s", name, s, text)
			}
		}
	}
	if len(seen) != 4 {
		t.Fatalf("%d calls seen, want 4", len(seen))
	}
	c := seen[3]
	if c.Header.Get("Cookie") != "sid=brow…0002; theme=********" || !strings.HasPrefix(c.Header.Get("X-Forwarded-Authorization"), "Bearer aaax…") ||
		c.Header.Get("X-Custom") != "v=aaax…casd" || !strings.Contains(c.Path, "page=2") || c.Message == nil || c.Message.Text != "token is aaax…casd" ||
		!strings.HasPrefix(c.ReplyHeader.Get("Set-Cookie"), "sid=") || !strings.HasSuffix(c.ReplyHeader.Get("Set-Cookie"), "; Path=/; HttpOnly") {
		t.Fatalf("redacted call: path %q header %v message %+v reply header %v", c.Path, c.Header, c.Message, c.ReplyHeader)
	}
	// Records stay readable for replay.
	for _, line := range strings.Split(strings.TrimSpace(string(file)), "\n") {
		var back Call
		if err := json.Unmarshal([]byte(line), &back); err != nil || back.Method != "POST" {
			t.Fatalf("record %s: %v", line, err)
		}
	}
	// What the user's server got is exact.
	if string(fwdBody) != body || fwdHeader.Get("X-Api-Key") != "other-api-key-value-0001" || fwdHeader.Get("Authorization") != "Bearer "+testToken {
		t.Fatalf("forwarded %q %v", fwdBody, fwdHeader)
	}
}
