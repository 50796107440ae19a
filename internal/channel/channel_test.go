package channel

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

func TestNewMID(t *testing.T) {
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := NewMID()
		if !uuid.MatchString(id) || len(id) > MaxMIDLen {
			t.Fatalf("NewMID() = %q: not a UUID v4 within %d chars", id, MaxMIDLen)
		}
		if seen[id] {
			t.Fatalf("NewMID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestWebhookJSON(t *testing.T) {
	ev := NewEvent(EventMessage, Text("Hello World"))
	ev.MID, ev.Timestamp = "xcvzzxcxczxczxc", 2132131321000
	w := NewWebhook("gfd8g7fd89dgfd", "+60177872890", &Contact{FirstName: "John", LastName: "Doe"}, ev)
	got, _ := json.Marshal(w)
	want := `{"channelId":"gfd8g7fd89dgfd","contactId":"+60177872890","events":[{"type":"message","mId":"xcvzzxcxczxczxc","timestamp":2132131321000,"message":{"type":"text","text":"Hello World"}}],"contact":{"firstName":"John","lastName":"Doe"}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// An empty contact is left out, not sent as {}.
	w = NewWebhook("c", "+60177872890", &Contact{}, ev)
	got, _ = json.Marshal(w)
	if strings.Contains(string(got), "contact\":") {
		t.Errorf("empty contact was sent: %s", got)
	}
}

func TestReceiptJSON(t *testing.T) {
	ev := NewReceipt("jfoewaifjaoif", StatusFailed, "Invalid token")
	ev.Timestamp = 2132131321000
	got, _ := json.Marshal(ev)
	want := `{"type":"message_status","mId":"jfoewaifjaoif","timestamp":2132131321000,"status":{"value":"failed","message":"Invalid token"}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if ev.Timestamp = NowMillis(); ev.Timestamp < 1e12 {
		t.Errorf("NowMillis() = %d, not milliseconds", ev.Timestamp)
	}
}

func TestMessageJSON(t *testing.T) {
	tests := []struct {
		m    Message
		want string
	}{
		{Location(0, 0, ""), `{"type":"location","latitude":0,"longitude":0}`},
		{QuickReply("Rate", "Good", "Bad"), `{"type":"quick_reply","title":"Rate","replies":["Good","Bad"]}`},
		{NewAttachment(AttachmentImage, "https://x.test/a.jpg", "image/jpeg", "", ""), `{"type":"attachment","attachment":{"type":"image","url":"https://x.test/a.jpg","mimeType":"image/jpeg"}}`},
		{CustomPayload(json.RawMessage(`{"k":[1]}`)), `{"type":"custom_payload","payload":{"k":[1]}}`},
	}
	for _, tt := range tests {
		got, _ := json.Marshal(tt.m)
		if string(got) != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
	got, _ := json.Marshal(NewErrorReply("unauthorized"))
	if string(got) != `{"error":{"message":"unauthorized"}}` {
		t.Errorf("error reply: %s", got)
	}
}

func TestCheckContactID(t *testing.T) {
	tests := []struct {
		id   string
		t    IDType
		ok   bool
		hint string
	}{
		{"+60177872890", IDPhone, true, ""},
		{"+1234567", IDPhone, true, ""},
		{"+123456789012345", IDPhone, true, ""},
		{"+1234567890123456", IDPhone, false, "7 to 15"},
		{"+123456", IDPhone, false, "7 to 15"},
		{"60177872890", IDPhone, false, "leading '+'"},
		{"+0177872890", IDPhone, false, "+0"},
		{"+6017 7872890", IDPhone, false, "' '"},
		{"+6017-7872890", IDPhone, false, "'-'"},
		{"user_42=+/@", IDCustom, true, ""},
		{strings.Repeat("a", 50), IDCustom, true, ""},
		{strings.Repeat("a", 51), IDCustom, false, "maximum is 50"},
		{"john.doe", IDCustom, false, "'.'"},
		{"a-b", IDCustom, false, "'-'"},
		{"émile", IDCustom, false, "'é'"},
		{"", IDCustom, false, "empty"},
		{"anything goes-here.", "", true, ""},
		{strings.Repeat("é", 50), "", true, ""}, // 50 characters, 100 bytes
	}
	for _, tt := range tests {
		err := CheckContactID(tt.id, tt.t)
		if (err == nil) != tt.ok {
			t.Errorf("CheckContactID(%q, %q) = %v, want ok=%v", tt.id, tt.t, err, tt.ok)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), tt.hint) {
			t.Errorf("CheckContactID(%q, %q) = %q, want it to mention %q", tt.id, tt.t, err, tt.hint)
		}
	}
}

func TestParseIDTypeAndKindForMIME(t *testing.T) {
	for in, want := range map[string]IDType{"phone": IDPhone, "Custom ID": IDCustom, "custom": IDCustom} {
		if got, err := ParseIDType(in); err != nil || got != want {
			t.Errorf("ParseIDType(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseIDType("email"); err == nil {
		t.Error("ParseIDType(email) should fail")
	}
	for mime, want := range map[string]AttachmentKind{"image/png": AttachmentImage, "video/mp4": AttachmentVideo, "audio/ogg": AttachmentAudio, "application/pdf": AttachmentFile, "": AttachmentFile} {
		if got := KindForMIME(mime); got != want {
			t.Errorf("KindForMIME(%q) = %q, want %q", mime, got, want)
		}
	}
}
