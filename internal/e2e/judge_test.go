package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/conformance"
	"github.com/ccx-cli/ccx/internal/provider"
)

func TestJudges(t *testing.T) {
	att := channel.NewAttachment(channel.AttachmentImage, "https://cdn.example/p.png", "image/png", "p.png", "a photo")
	loc := channel.Location(3.139003, 101.686855, "Kuala Lumpur")
	qr := channel.QuickReply("Rate us", "Good", "Bad")
	cases := []struct {
		name string
		v    verdict
		want conformance.Verdict
		says string
	}{
		{"text equal", judgeText("hi", channel.Text("hi")), conformance.Pass, ""},
		{"text undefined", judgeText("hi", channel.Text("undefined")), conformance.Fail, "read the wrong field"},
		{"text empty", judgeText("hi", channel.Text("")), conformance.Fail, "an empty message"},
		{"text as media", judgeText("hi", att), conformance.Fail, "want text"},

		{"media passed", judgeAttachment(att.Attachment, att), conformance.Pass, ""},
		{"media caption lost", judgeAttachment(att.Attachment, channel.NewAttachment(channel.AttachmentImage, att.Attachment.URL, "", "", "")), conformance.Warn, "caption"},
		{"media rehosted", judgeAttachment(att.Attachment, channel.NewAttachment(channel.AttachmentImage, "https://other/x.png", "", "", "a photo")), conformance.Warn, "not the URL"},
		{"media fallback", judgeAttachment(att.Attachment, channel.Text(provider.AttachmentText(att.Attachment))), conformance.Pass, ""},
		{"media URL in text", judgeAttachment(att.Attachment, channel.Text("see https://cdn.example/p.png")), conformance.Warn, "documented fallback"},
		{"media as undefined", judgeAttachment(att.Attachment, channel.Text("undefined")), conformance.Fail, `"undefined" and no media URL`},
		{"media as empty SMS", judgeAttachment(att.Attachment, channel.Text("")), conformance.Fail, "an empty message"},

		{"location native", judgeLocation(loc, loc), conformance.Pass, ""},
		{"location moved", judgeLocation(loc, channel.Location(1, 2, "Kuala Lumpur")), conformance.Fail, "want 3.139003,101.686855"},
		{"location no address", judgeLocation(loc, channel.Location(3.139003, 101.686855, "")), conformance.Warn, "address"},
		{"location fallback", judgeLocation(loc, channel.Text(provider.LocationText(loc))), conformance.Pass, ""},
		{"location other text", judgeLocation(loc, channel.Text("at 3.139003, 101.686855")), conformance.Warn, "documented fallback"},
		{"location dropped", judgeLocation(loc, channel.Text("")), conformance.Fail, "the location was dropped"},

		{"quick reply native", judgeQuickReply(qr, qr), conformance.Pass, ""},
		{"quick reply fallback", judgeQuickReply(qr, channel.Text(provider.QuickReplyText(qr))), conformance.Pass, ""},
		{"quick reply other list", judgeQuickReply(qr, channel.Text("Rate us: Good / Bad")), conformance.Warn, "numbered list"},
		{"quick reply options lost", judgeQuickReply(qr, channel.Text("Rate us")), conformance.Fail, `lost "Good", "Bad"`},
		{"quick reply buttons changed", judgeQuickReply(qr, channel.QuickReply("Rate us", "Good")), conformance.Fail, "want quick_reply"},
	}
	for _, c := range cases {
		if c.v.v != c.want || !strings.Contains(c.v.reason, c.says) {
			t.Errorf("%s: %s %q, want %s saying %q", c.name, c.v.v, c.v.reason, c.want, c.says)
		}
	}
}

func TestIsProviderID(t *testing.T) {
	long := "SM" + strings.Repeat("a", 60)
	for _, c := range []struct {
		mid, id string
		want    bool
	}{
		{"SM123", "SM123", true},
		{provider.MID(long), long, true},
		{"7700900123:42", "42", true}, // Telegram: chat:message
		{"uuid-of-its-own", "SM123", false},
		{"SM123", "", false},
	} {
		if got := isProviderID(c.mid, c.id); got != c.want {
			t.Errorf("isProviderID(%q, %q) = %v, want %v", c.mid, c.id, got, c.want)
		}
	}
}

func TestNormAddr(t *testing.T) {
	for _, a := range []string{"+60177872890", "whatsapp:+60177872890", "60177872890", " +60177872890 "} {
		if normAddr(a) != "60177872890" {
			t.Errorf("normAddr(%q) = %q", a, normAddr(a))
		}
	}
}

func TestDefaultWebhooks(t *testing.T) {
	creds := map[string]string{"CCX_CLICKSEND_SECRET": "s3cr3t", "CCX_CLICKSEND_USERNAME": "u"}
	for _, c := range []struct {
		name string
		want Webhooks
	}{
		{"twilio", Webhooks{"http://h/providers/twilio/inbound", "http://h/providers/twilio/status"}},
		{"telegram", Webhooks{Inbound: "http://h/providers/telegram/webhook"}},
		{"clicksend", Webhooks{"http://h/providers/clicksend/inbound/s3cr3t", "http://h/providers/clicksend/receipt/s3cr3t"}},
		{"zalo", Webhooks{"http://h/providers/zalo/webhook", "http://h/providers/zalo/webhook"}},
	} {
		if got := DefaultWebhooks(c.name, "http://h/", creds); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
	// Gupshup: one callback URL for messages and message-events, with the path secret.
	want := Webhooks{"http://h/providers/gupshup/webhook/gs3cr3t", "http://h/providers/gupshup/webhook/gs3cr3t"}
	if got := DefaultWebhooks("gupshup", "http://h/", map[string]string{"CCX_GUPSHUP_SECRET": "gs3cr3t", "CCX_GUPSHUP_API_KEY": "k"}); got != want {
		t.Errorf("gupshup: %+v, want %+v", got, want)
	}
}

// docs/e2e.md documents every check.
func TestChecksDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "e2e.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range IDs() {
		if !strings.Contains(string(doc), "| `"+id+"` |") {
			t.Errorf("docs/e2e.md has no row for %s", id)
		}
	}
}
