package listen

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/outgoing"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/ccx-cli/ccx/internal/verdict"
)

func TestRenderMessage(t *testing.T) {
	for _, tt := range []struct {
		m    channel.Message
		want string
	}{
		{channel.Text("Hello"), `"Hello"`},
		{channel.NewAttachment(channel.AttachmentImage, "https://x.test/a.jpg", "", "a.jpg", ""), `image https://x.test/a.jpg "a.jpg"`},
		{channel.Location(3.5, -101.25, "KL"), `3.5,-101.25 "KL"`},
		{channel.QuickReply("Rate", "Good", "Bad"), `"Rate" [Good | Bad]`},
		{channel.CustomPayload(json.RawMessage(`{"a":1}`)), `{"a":1}`},
		{channel.Text(strings.Repeat("x", 100)), `"` + strings.Repeat("x", 79) + `…"`},
	} {
		if got := RenderMessage(&tt.m); got != tt.want {
			t.Errorf("RenderMessage(%s) = %s, want %s", tt.m.Type, got, tt.want)
		}
	}
}

func TestPrettyPrinterShowsFindingsAndForward(t *testing.T) {
	io, _, _, _ := ui.Test()
	var buf bytes.Buffer
	p := NewPrettyPrinter(&buf, io.Styles(&buf))
	c := Call{ID: "ab-0001", Time: time.Now(), Method: "POST", Path: "/message", Auth: AuthWrong,
		Findings: []validate.Finding{{Severity: validate.Warning, Rule: "unknown-field", Path: "message.x", Message: "unknown field"}}}
	p.Request(c)
	c.Status, c.ReplyBody, c.Forwarded, c.Latency = 502, []byte(`{"error":{"message":"down"}}`), true, time.Millisecond
	c.ForwardError = "refused"
	p.Reply(c)
	s := buf.String()
	for _, want := range []string{"--> ab-0001  POST /message", "auth wrong", "warning message.x unknown field (unknown-field)", "<-- ab-0001  502", "(forward failed)"} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in\n%s", want, s)
		}
	}
}

func TestStatsSummary(t *testing.T) {
	var s Stats
	if s.Summary() != "0 calls" {
		t.Error(s.Summary())
	}
	s.Add(Call{Status: 200, Auth: AuthOK})
	s.Add(Call{Status: 401, Auth: AuthMissing})
	s.Add(Call{Status: 400, Auth: AuthOK, Findings: []validate.Finding{{Severity: validate.Error}}})
	if got, want := s.Summary(), "3 calls: 1×200 1×400 1×401; auth refused: 1 missing; 1 invalid, 0 with warnings"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

// A forwarded reply is judged on the "<--" line in trigger's words.
func TestPrettyPrinterJudgesForwardedReply(t *testing.T) {
	io, _, _, _ := ui.Test()
	var buf bytes.Buffer
	p := NewPrettyPrinter(&buf, io.Styles(&buf))
	body := []byte(`{"ok":true}`)
	c := Call{ID: "ab-0002", Time: time.Now(), Method: "POST", Path: "/message", Auth: AuthOK, Forwarded: true,
		Status: 200, ReplyBody: body, ReplyHeader: http.Header{"Content-Type": {"application/json"}}}
	c.ReplyFindings = outgoing.Judge(200, c.ReplyHeader, body)
	c.Verdict = outgoing.Classify(200, c.ReplyHeader, body, c.ReplyFindings)
	p.Reply(c)
	s := buf.String()
	if !strings.Contains(s, "error mId:") || !strings.Contains(s, "✗ wrong reply: the reply breaks the /message contract") {
		t.Fatalf("%s", s)
	}
	buf.Reset()
	c.Status, c.ReplyBody = 401, []byte(`nope`)
	c.ReplyFindings = outgoing.Judge(401, c.ReplyHeader, c.ReplyBody)
	c.Verdict = outgoing.Classify(401, c.ReplyHeader, c.ReplyBody, c.ReplyFindings)
	p.Reply(c)
	if s := buf.String(); c.Verdict != verdict.Auth || !strings.Contains(s, "✗ auth rejected: the server refused the token (401)") || !strings.Contains(s, "error reply:") {
		t.Fatalf("%s %s", c.Verdict, s)
	}
	// ccx's own answers carry no verdict line.
	buf.Reset()
	p.Reply(Call{ID: "ab-0003", Time: time.Now(), Status: 200, ReplyBody: []byte(`{"mId":"x"}`)})
	if strings.Contains(buf.String(), "✓") || strings.Contains(buf.String(), "✗") {
		t.Fatalf("%s", buf.String())
	}
}

// On a narrow terminal a long line wraps with its continuation under the
// arrow; with no width (a pipe) it stays one line.
func TestPrettyPrinterFitsWidth(t *testing.T) {
	io, _, _, _ := ui.Test()
	msg := channel.Text("the quick brown fox jumps over the lazy dog and keeps running far away")
	c := Call{ID: "ab-0001", Time: time.Now(), Method: "POST", Path: "/message", Auth: AuthOK, ContactID: "+60123456789", Message: &msg}
	var wide bytes.Buffer
	NewPrettyPrinter(&wide, io.Styles(&wide)).Request(c)
	if n := strings.Count(wide.String(), "\n"); n != 1 {
		t.Fatalf("no width: %d lines, want 1:\n%s", n, wide.String())
	}
	var buf bytes.Buffer
	p := NewPrettyPrinter(&buf, io.Styles(&buf))
	p.Width = 50
	p.Request(c)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) < 3 {
		t.Fatalf("not wrapped:\n%s", buf.String())
	}
	for i, l := range lines {
		if w := len([]rune(l)); w > 50 {
			t.Errorf("line %q is %d columns, want ≤ 50", l, w)
		}
		if i > 0 && (!strings.HasPrefix(l, strings.Repeat(" ", 12)) || l[12] == ' ') {
			t.Errorf("continuation %q not indented by 12", l)
		}
	}
	if !strings.HasSuffix(buf.String(), "auth ok\n") {
		t.Errorf("lost the end: %q", buf.String())
	}
}
