package telegram

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/netguard"
	"github.com/ccx-cli/ccx/internal/provider"
)

func TestSendEveryType(t *testing.T) {
	f := NewFake()
	defer f.Close()
	a := New(Options{BaseURL: f.URL(), BotToken: f.Token, Secret: "s"})
	lat, lng := 3.139, 101.6869
	cases := []struct {
		m      channel.Message
		method string
		check  func(map[string]any) bool
	}{
		{channel.Text("hi"), "sendmessage", func(b map[string]any) bool { return b["text"] == "hi" }},
		{channel.QuickReply("Rate", "Good", "Bad"), "sendmessage", func(b map[string]any) bool {
			kb := fmt.Sprint(b["reply_markup"])
			return b["text"] == "Rate" && strings.Contains(kb, "keyboard:[[map[text:Good]] [map[text:Bad]]]") && strings.Contains(kb, "one_time_keyboard:true")
		}},
		{channel.Message{Type: channel.MessageLocation, Latitude: &lat, Longitude: &lng}, "sendlocation", func(b map[string]any) bool { return b["latitude"] == 3.139 }},
		{channel.Message{Type: channel.MessageLocation, Latitude: &lat, Longitude: &lng, Address: "KL"}, "sendvenue", func(b map[string]any) bool { return b["address"] == "KL" }},
		{channel.NewAttachment(channel.AttachmentImage, "https://x/a.jpg", "", "", "cap"), "sendphoto", func(b map[string]any) bool { return b["photo"] == "https://x/a.jpg" && b["caption"] == "cap" }},
		{channel.NewAttachment(channel.AttachmentVideo, "https://x/a.mp4", "", "", ""), "sendvideo", func(b map[string]any) bool { return b["video"] != nil }},
		{channel.NewAttachment(channel.AttachmentAudio, "https://x/a.mp3", "", "", ""), "sendaudio", func(b map[string]any) bool { return b["audio"] != nil }},
		{channel.NewAttachment(channel.AttachmentFile, "https://x/a.pdf", "", "", ""), "senddocument", func(b map[string]any) bool { return b["document"] != nil }},
	}
	for i, c := range cases {
		id, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "42", Message: c.m})
		if err != nil || id != fmt.Sprintf("42:%d", i+1) {
			t.Fatalf("%s: %q %v", c.m.Type, id, err)
		}
		calls := f.Calls()
		got := calls[len(calls)-1]
		if got.Method != c.method || !c.check(got.Body) || got.Body["chat_id"] != float64(42) {
			t.Errorf("%s: %s %v", c.m.Type, got.Method, got.Body)
		}
	}
	if _, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "42", Message: channel.CustomPayload([]byte(`{}`))}); err == nil {
		t.Error("custom payload must be unsupported")
	}
	if _, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "-100", Message: channel.Text("x")}); err == nil {
		t.Error("group chat ids must be refused")
	}
}

func TestSendErrors(t *testing.T) {
	f := NewFake()
	defer f.Close()
	bad := New(Options{BaseURL: f.URL(), BotToken: "1:wrong"})
	_, err := bad.Send(t.Context(), channel.OutgoingRequest{ContactID: "42", Message: channel.Text("x")})
	if pe, ok := err.(*provider.Error); !ok || !strings.Contains(pe.Message, "bot token") || strings.Contains(pe.Message, "1:wrong") {
		t.Fatalf("auth: %v", err)
	}
	a := New(Options{BaseURL: f.URL(), BotToken: f.Token})
	f.SetFaults(provider.Faults{Reject: []string{"7"}})
	_, err = a.Send(t.Context(), channel.OutgoingRequest{ContactID: "7", Message: channel.Text("x")})
	if pe, ok := err.(*provider.Error); !ok || pe.Status != 400 || !strings.Contains(pe.Message, "blocked") {
		t.Fatalf("blocked: %v", err)
	}
	f.SetFaults(provider.Faults{RateLimit: 1})
	_, err = a.Send(t.Context(), channel.OutgoingRequest{ContactID: "42", Message: channel.Text("x")})
	if pe, ok := err.(*provider.Error); !ok || pe.Status != 429 || pe.RetryAfter.Seconds() != 1 {
		t.Fatalf("429: %v", err)
	}
	// The unreachable error must not leak the token in the URL.
	f.Close()
	_, err = a.Send(t.Context(), channel.OutgoingRequest{ContactID: "42", Message: channel.Text("x")})
	if err == nil || strings.Contains(err.Error(), f.Token) {
		t.Fatalf("down: %v", err)
	}
}

func update(t *testing.T, secret, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/providers/telegram/webhook", strings.NewReader(body))
	if secret != "" {
		r.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	return r
}

func TestInboundKindsAndSecret(t *testing.T) {
	a := New(Options{BotToken: "1:x", Secret: "sekret"})
	msg := func(extra string) string {
		return `{"update_id":1,"message":{"message_id":5,"date":1732435200,"from":{"id":42,"first_name":"Ada","language_code":"en"},"chat":{"id":42,"type":"private"},` + extra + `}}`
	}
	cases := map[string]func(provider.Inbound) bool{
		msg(`"text":"hi"`): func(in provider.Inbound) bool {
			return in.Message.Text == "hi" && in.ContactID == "42" && in.ProviderID == "42:5" && in.Timestamp == 1732435200000 && in.Contact.FirstName == "Ada"
		},
		msg(`"photo":[{"file_id":"small"},{"file_id":"big"}],"caption":"c"`): func(in provider.Inbound) bool {
			return in.MediaRef == "big" && in.Message.Attachment.Type == channel.AttachmentImage && in.Message.Attachment.Description == "c"
		},
		msg(`"document":{"file_id":"d","file_name":"a.pdf","mime_type":"application/pdf"}`): func(in provider.Inbound) bool {
			return in.MediaRef == "d" && in.Message.Attachment.Type == channel.AttachmentFile && in.Message.Attachment.FileName == "a.pdf"
		},
		msg(`"voice":{"file_id":"v","mime_type":"audio/ogg"}`): func(in provider.Inbound) bool { return in.Message.Attachment.Type == channel.AttachmentAudio },
		msg(`"video":{"file_id":"v","mime_type":"video/mp4"}`): func(in provider.Inbound) bool { return in.Message.Attachment.Type == channel.AttachmentVideo },
		msg(`"location":{"latitude":3.1,"longitude":101.6}`): func(in provider.Inbound) bool {
			return in.Message.Type == channel.MessageLocation && *in.Message.Longitude == 101.6
		},
		msg(`"venue":{"location":{"latitude":3.1,"longitude":101.6},"title":"KLCC","address":"KL"}`): func(in provider.Inbound) bool { return in.Message.Address == "KLCC, KL" },
		msg(`"contact":{"phone_number":"+60177872890","first_name":"Bo"}`):                           func(in provider.Inbound) bool { return strings.Contains(in.Message.Text, "+60177872890") },
		`{"update_id":2,"callback_query":{"id":"99","from":{"id":42},"data":"yes","message":{"chat":{"id":42,"type":"private"}}}}`: func(in provider.Inbound) bool {
			return in.Message.Text == "yes" && in.ProviderID == "cq-99"
		},
	}
	for body, check := range cases {
		r := update(t, "sekret", body)
		if err := a.Verify(r, []byte(body)); err != nil {
			t.Fatal(err)
		}
		ins, err := a.Parse(r, []byte(body))
		if err != nil || len(ins) != 1 || !check(ins[0]) {
			t.Errorf("%s: %+v %v", body, ins, err)
		}
	}
	// Groups, edits and stickers carry nothing for the platform.
	for _, body := range []string{
		`{"update_id":3,"message":{"message_id":1,"chat":{"id":-100,"type":"group"},"text":"x"}}`,
		`{"update_id":4,"edited_message":{"message_id":1,"chat":{"id":42,"type":"private"},"text":"x"}}`,
		msg(`"sticker":{"file_id":"s"}`),
	} {
		if ins, err := a.Parse(update(t, "sekret", body), []byte(body)); err != nil || len(ins) != 0 {
			t.Errorf("%s: %+v %v", body, ins, err)
		}
	}
	for _, s := range []string{"", "wrong", "sekret2"} {
		if err := a.Verify(update(t, s, "{}"), nil); err == nil {
			t.Errorf("secret %q verified", s)
		}
	}
	if _, err := a.Parse(update(t, "", "not json"), []byte("not json")); err == nil {
		t.Error("bad JSON parsed")
	}
}

func TestMediaThroughGetFile(t *testing.T) {
	f := NewFake()
	defer f.Close()
	f.AddFile("big", "image/jpeg", []byte("JPEG"))
	a := New(Options{BaseURL: f.URL(), BotToken: f.Token})
	resp, err := a.OpenMedia(t.Context(), "big")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b := make([]byte, 10)
	n, _ := resp.Body.Read(b)
	if string(b[:n]) != "JPEG" {
		t.Fatalf("media = %q", b[:n])
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`{"update_id":1,"message":{"message_id":5,"chat":{"id":42,"type":"private"},"text":"hi"}}`)
	f.Add(`{"update_id":1,"message":{"chat":{"id":42,"type":"private"},"photo":[]}}`)
	f.Add(`{"update_id":2,"callback_query":{"id":"1","data":"x","message":{"chat":{"id":1,"type":"private"}}}}`)
	a := New(Options{Secret: "s"})
	f.Fuzz(func(t *testing.T, body string) {
		r := update(t, "s", body)
		_ = a.Verify(r, []byte(body))
		_, _ = a.Parse(r, []byte(body))
	})
}

func TestDocumentUploadedWhenURLNotAccepted(t *testing.T) {
	f := NewFake()
	defer f.Close()
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("DOCX")) }))
	defer files.Close()
	// The file server is on loopback: allowed only because the test says so.
	a := New(Options{BaseURL: f.URL(), BotToken: f.Token, Media: netguard.Options{AllowPrivate: true}})
	att := channel.NewAttachment(channel.AttachmentFile, files.URL+"/report.docx?sig=1", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "", "the report")
	if _, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "42", Message: att}); err != nil {
		t.Fatal(err)
	}
	calls := f.Calls()
	got := calls[len(calls)-1]
	if got.Method != "senddocument" || got.Body["document"] != "upload:report.docx" || got.Body["caption"] != "the report" || got.Body["chat_id"] != "42" {
		t.Fatalf("%+v", got)
	}
	// PDF stays by URL.
	pdf := channel.NewAttachment(channel.AttachmentFile, files.URL+"/a.pdf", "", "", "")
	if _, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "42", Message: pdf}); err != nil {
		t.Fatal(err)
	}
	if c := f.Calls(); c[len(c)-1].Body["document"] != files.URL+"/a.pdf" {
		t.Fatalf("%+v", c[len(c)-1])
	}
}

// TestUploadRefusesPrivateAddresses: an attachment URL naming the relay's own
// network (its /metrics, a metadata address) is never fetched, and a refused
// address, a closed port and a 404 give the platform the same answer.
func TestUploadRefusesPrivateAddresses(t *testing.T) {
	f := NewFake()
	defer f.Close()
	hits := 0
	internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		if r.URL.Path == "/missing.docx" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("ccx_relay_spool_depth 0"))
	}))
	defer internal.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	send := func(a *Adapter, u string) error {
		att := channel.NewAttachment(channel.AttachmentFile, u, "application/msword", "x.docx", "")
		_, err := a.Send(t.Context(), channel.OutgoingRequest{ContactID: "42", Message: att})
		return err
	}
	strict := New(Options{BaseURL: f.URL(), BotToken: f.Token})
	var msgs []string
	for _, u := range []string{internal.URL + "/metrics", "http://169.254.169.254/latest/meta-data/x.docx", "file:///etc/passwd"} {
		err := send(strict, u)
		if err == nil {
			t.Fatalf("%s: uploaded", u)
		}
		msgs = append(msgs, err.Error())
	}
	if hits != 0 {
		t.Fatalf("the internal server saw %d requests", hits)
	}
	open := New(Options{BaseURL: f.URL(), BotToken: f.Token, Media: netguard.Options{AllowPrivate: true}})
	for _, u := range []string{closedURL + "/x.docx", internal.URL + "/missing.docx"} {
		err := send(open, u)
		if err == nil {
			t.Fatalf("%s: uploaded", u)
		}
		msgs = append(msgs, err.Error())
	}
	for _, m := range msgs {
		if m != msgs[0] || !strings.Contains(m, "media could not be fetched") {
			t.Fatalf("error texts differ or are not the generic one: %q", msgs)
		}
	}
	for _, c := range f.Calls() {
		if c.Method == "senddocument" {
			t.Fatalf("something was uploaded: %+v", c)
		}
	}
}
