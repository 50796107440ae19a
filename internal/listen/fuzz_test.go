package listen

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// FuzzHandler: whatever arrives, the handler never panics and every non-200
// answer carries {"error":{"message":...}}; a 200 carries a string mId.
func FuzzHandler(f *testing.F) {
	f.Add("POST", "Bearer "+testToken, "application/json", textBody)
	f.Add("POST", "bearer "+testToken, "application/json", `{"message":{"type":"location","latitude":"x"}}`)
	f.Add("PUT", "", "text/plain", "\x00\xff")
	f.Add("POST", "Bearer "+testToken, "application/json", `[1,2`)
	f.Add("POST", "Bearer "+testToken, "application/json; charset=\"", `{"channelId":1}`)
	f.Add("POST", "Bearer "+testToken, "application/json", `{"channelId":"`+testToken+`","message":{"type":"text","text":"\u0061`+testToken[1:]+`"}}`)
	f.Add("POST", testToken, "application/json", `{"contactId":"`+testToken+`","message":{"type":"`+testToken+`"}}`)
	var record []byte
	h := NewHandler(Options{Token: testToken, ChannelID: "gfd8g7fd89dgfd", MaxBody: 4096,
		OnCall: func(c Call) { record, _ = json.Marshal(c) }})
	f.Fuzz(func(t *testing.T, method, auth, ctype, body string) {
		if !validMethod(method) {
			method = "POST"
		}
		r := httptest.NewRequest(method, "/message", strings.NewReader(body))
		r.Header.Set("Authorization", auth)
		r.Header.Set("Content-Type", ctype)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		// Records (--record, --json) never hold the token, however it was sent.
		if bytes.Contains(record, []byte(testToken)) {
			t.Fatalf("token in the record: %s", record)
		}
		if w.Code == 200 {
			if gjson.GetBytes(w.Body.Bytes(), "mId").Type != gjson.String {
				t.Fatalf("200 without mId: %s", w.Body)
			}
			return
		}
		if m := gjson.GetBytes(w.Body.Bytes(), "error.message"); m.Type != gjson.String || !gjson.ValidBytes(w.Body.Bytes()) {
			t.Fatalf("%d without error.message: %q", w.Code, w.Body)
		}
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}
