package validate

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
)

// wh builds a one-event webhook body around an event's inner JSON.
func wh(event string) string {
	return `{"channelId":"gfd8g7fd89dgfd","contactId":"+60177872890","events":[` + event + `]}`
}

// ev builds a message event around a message object.
func ev(msg string) string {
	return wh(`{"type":"message","mId":"m1","timestamp":1732435200000,"message":` + msg + `}`)
}

func st(status string) string {
	return wh(`{"type":"message_status","mId":"m1","timestamp":1732435200000,"status":` + status + `}`)
}

func TestRules(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts Options
		want string // "rule@path"; "" means no findings at all
	}{
		{"valid text", ev(`{"type":"text","text":"hi"}`), Options{}, ""},
		{"valid echo", wh(`{"type":"message_echo","mId":"m1","timestamp":1732435200000,"message":{"type":"text","text":"hi"}}`), Options{}, ""},
		{"valid status", st(`{"value":"read"}`), Options{}, ""},
		{"syntax", `{"a":1,}`, Options{}, "json-syntax@"},
		{"empty input", "  \n", Options{}, "json-syntax@"},
		{"nul byte", "{\"a\":\"\x00\"}", Options{}, "json-encoding@"},
		{"utf-8 bom", "\xef\xbb\xbf{\"mId\":\"a\"}", Options{}, "json-encoding@"},
		{"bad utf8", "{\"a\":\"\xc3\x28\"}", Options{}, "json-encoding@"},
		{"deep", strings.Repeat("[", 65) + strings.Repeat("]", 65), Options{}, "json-depth@"},
		{"deep inside strings is fine", `{"error":{"message":"` + strings.Repeat("[", 100) + `"}}`, Options{}, ""},
		{"too large", `{"mId":"abc"}`, Options{MaxBytes: 5}, "json-too-large@"},
		{"not an object", `"hello"`, Options{}, "type@"},
		{"kind unknown", `{"foo":1}`, Options{}, "kind-unknown@"},
		{"channelId missing", `{"contactId":"+60177872890","events":[]}`, Options{Kind: KindWebhook}, "required@channelId events-empty@events"},
		{"events not array", `{"channelId":"c","contactId":"x","events":{}}`, Options{}, "type@events"},
		{"events empty", `{"channelId":"c","contactId":"x","events":[]}`, Options{}, "events-empty@events"},
		{"events multiple", wh(`{"type":"message_status","mId":"m1","timestamp":1732435200000,"status":{"value":"read"}},{"type":"message_status","mId":"m2","timestamp":1732435200000,"status":{"value":"read"}}`), Options{}, "events-multiple@events[1]"},
		{"event type enum", wh(`{"type":"msg","mId":"m1","timestamp":1732435200000}`), Options{}, "enum@events[0].type"},
		{"event type number", wh(`{"type":1,"mId":"m1","timestamp":1732435200000}`), Options{}, "type@events[0].type"},
		{"mId missing", wh(`{"type":"message_status","timestamp":1732435200000,"status":{"value":"read"}}`), Options{}, "required@events[0].mId"},
		{"mId 51", wh(`{"type":"message_status","mId":"` + strings.Repeat("é", 51) + `","timestamp":1732435200000,"status":{"value":"read"}}`), Options{}, "mid-length@events[0].mId"},
		{"mId 50 multibyte ok", wh(`{"type":"message_status","mId":"` + strings.Repeat("é", 50) + `","timestamp":1732435200000,"status":{"value":"read"}}`), Options{}, ""},
		{"timestamp seconds", strings.Replace(ev(`{"type":"text","text":"hi"}`), "1732435200000", "1732435200", 1), Options{}, "timestamp-seconds@events[0].timestamp"},
		{"timestamp fractional", strings.Replace(ev(`{"type":"text","text":"hi"}`), "1732435200000", "1732435200000.25", 1), Options{}, "timestamp-range@events[0].timestamp"},
		{"timestamp exponent integral ok", strings.Replace(ev(`{"type":"text","text":"hi"}`), "1732435200000", "1.7324352e12", 1), Options{}, ""},
		{"timestamp negative", strings.Replace(ev(`{"type":"text","text":"hi"}`), "1732435200000", "-5", 1), Options{}, "timestamp-range@events[0].timestamp"},
		{"timestamp nanoseconds", strings.Replace(ev(`{"type":"text","text":"hi"}`), "1732435200000", "1732435200000000000", 1), Options{}, "timestamp-range@events[0].timestamp"},
		{"timestamp string", strings.Replace(ev(`{"type":"text","text":"hi"}`), "1732435200000", `"1732435200000"`, 1), Options{}, "type@events[0].timestamp"},
		{"timestamp bool", strings.Replace(ev(`{"type":"text","text":"hi"}`), "1732435200000", `true`, 1), Options{}, "type@events[0].timestamp"},
		{"message missing", wh(`{"type":"message","mId":"m1","timestamp":1732435200000}`), Options{}, "required@events[0].message"},
		{"status on message", wh(`{"type":"message","mId":"m1","timestamp":1732435200000,"message":{"type":"text","text":"hi"},"status":{"value":"read"}}`), Options{}, "unexpected-field@events[0].status"},
		{"message on status", wh(`{"type":"message_status","mId":"m1","timestamp":1732435200000,"status":{"value":"read"},"message":{}}`), Options{}, "unexpected-field@events[0].message"},
		{"message type enum", ev(`{"type":"card"}`), Options{}, "enum@events[0].message.type"},
		{"text empty", ev(`{"type":"text","text":""}`), Options{}, "text-empty@events[0].message.text"},
		{"text blank", ev(`{"type":"text","text":" \t"}`), Options{}, "text-empty@events[0].message.text"},
		{"text length", ev(`{"type":"text","text":"` + strings.Repeat("a", 11) + `"}`), Options{TextLimit: 10}, "text-length@events[0].message.text"},
		{"text at limit multibyte", ev(`{"type":"text","text":"` + strings.Repeat("ü", 10) + `"}`), Options{TextLimit: 10}, ""},
		{"attachment type enum", ev(`{"type":"attachment","attachment":{"type":"pdf","url":"https://x.example/a"}}`), Options{}, "enum@events[0].message.attachment.type"},
		{"attachment url relative", ev(`{"type":"attachment","attachment":{"type":"file","url":"a.pdf"}}`), Options{}, "url-invalid@events[0].message.attachment.url"},
		{"attachment url empty", ev(`{"type":"attachment","attachment":{"type":"file","url":""}}`), Options{}, "url-invalid@events[0].message.attachment.url"},
		{"attachment url bad port", ev(`{"type":"attachment","attachment":{"type":"file","url":"https://x.example:ab/a"}}`), Options{}, "url-invalid@events[0].message.attachment.url"},
		{"attachment url ipv6 ok", ev(`{"type":"attachment","attachment":{"type":"file","url":"http://[::1]:8080/a"}}`), Options{}, ""},
		{"attachment url userinfo ok", ev(`{"type":"attachment","attachment":{"type":"file","url":"HTTPS://u:p@x.example/a"}}`), Options{}, ""},
		{"attachment mime", ev(`{"type":"attachment","attachment":{"type":"video","url":"https://x.example/a","mimeType":"image/png"}}`), Options{}, "attachment-mime@events[0].message.attachment.type"},
		{"attachment fileName type", ev(`{"type":"attachment","attachment":{"type":"file","url":"https://x.example/a","fileName":7}}`), Options{}, "type@events[0].message.attachment.fileName"},
		{"latitude range", ev(`{"type":"location","latitude":-90.0001,"longitude":0}`), Options{}, "latitude-range@events[0].message.latitude"},
		{"longitude range", ev(`{"type":"location","latitude":0,"longitude":180.5}`), Options{}, "longitude-range@events[0].message.longitude"},
		{"coordinate string", ev(`{"type":"location","latitude":"1.5","longitude":2}`), Options{}, "coordinate-string@events[0].message.latitude"},
		{"coordinate string out of range", ev(`{"type":"location","latitude":"100","longitude":2}`), Options{}, "coordinate-string@events[0].message.latitude latitude-range@events[0].message.latitude"},
		{"coordinate NaN string", ev(`{"type":"location","latitude":"NaN","longitude":2}`), Options{}, "type@events[0].message.latitude"},
		{"location nested only", ev(`{"type":"location","location":{"latitude":1,"longitude":2}}`), Options{}, "location-nested@events[0].message.location required@events[0].message.latitude"},
		{"location nested beside flat", ev(`{"type":"location","latitude":1,"longitude":2,"location":{"latitude":1,"longitude":2}}`), Options{}, "location-nested@events[0].message.location"},
		{"contact id email, no ID type", strings.Replace(ev(`{"type":"text","text":"hi"}`), "+60177872890", "alice@example.com", 1), Options{}, "contact-id-format@contactId"},
		{"contact id phone form, no ID type", ev(`{"type":"text","text":"hi"}`), Options{}, ""},
		{"contact id custom form, no ID type", strings.Replace(ev(`{"type":"text","text":"hi"}`), "+60177872890", "user_1/=@x", 1), Options{}, ""},
		{"replies empty", ev(`{"type":"quick_reply","title":"t","replies":[]}`), Options{}, "replies-empty@events[0].message.replies"},
		{"replies count", ev(`{"type":"quick_reply","title":"t","replies":["1","2","3","4","5","6","7","8","9","10","11"]}`), Options{}, "replies-count@events[0].message.replies[10]"},
		{"reply not string", ev(`{"type":"quick_reply","title":"t","replies":["a",1]}`), Options{}, "type@events[0].message.replies[1]"},
		{"reply blank", ev(`{"type":"quick_reply","title":"t","replies":["a",""]}`), Options{}, "empty@events[0].message.replies[1]"},
		{"title empty", ev(`{"type":"quick_reply","title":"","replies":["a"]}`), Options{}, "empty@events[0].message.title"},
		{"custom payload", ev(`{"type":"custom_payload","payload":{"a":1}}`), Options{}, "custom-payload-unverified@events[0].message.type"},
		{"custom payload not object", ev(`{"type":"custom_payload","payload":[1]}`), Options{}, "custom-payload-unverified@events[0].message.type type@events[0].message.payload"},
		{"field of another type", ev(`{"type":"text","text":"hi","replies":["a"]}`), Options{}, "unexpected-field@events[0].message.replies"},
		{"status enum", st(`{"value":"seen"}`), Options{}, "enum@events[0].status.value"},
		{"status failed no reason", st(`{"value":"failed"}`), Options{}, "status-reason-missing@events[0].status.message"},
		{"status failed blank reason", st(`{"value":"failed","message":" "}`), Options{}, "status-reason-missing@events[0].status.message"},
		{"status failed with reason", st(`{"value":"failed","message":"no route"}`), Options{}, ""},
		{"status message type", st(`{"value":"read","message":5}`), Options{}, "type@events[0].status.message"},
		{"unknown envelope", `{"channelId":"c","contactId":"x","events":[],"x":1}`, Options{}, "events-empty@events unknown-field@x"},
		{"duplicate key", `{"mId":"a","mId":"b"}`, Options{}, "duplicate-key@mId"},
		{"channel mismatch", ev(`{"type":"text","text":"hi"}`), Options{ChannelID: "other"}, "channel-id-mismatch@channelId"},
		{"channel match", ev(`{"type":"text","text":"hi"}`), Options{ChannelID: "gfd8g7fd89dgfd"}, ""},
		{"contact id phone", strings.Replace(ev(`{"type":"text","text":"hi"}`), "+60177872890", "+0177872890", 1), Options{IDType: channel.IDPhone}, "contact-id-format@contactId"},
		{"contact id custom", strings.Replace(ev(`{"type":"text","text":"hi"}`), "+60177872890", "a.b", 1), Options{IDType: channel.IDCustom}, "contact-id-format@contactId"},
		{"contact id length", strings.Replace(ev(`{"type":"text","text":"hi"}`), "+60177872890", strings.Repeat("a", 51), 1), Options{}, "contact-id-length@contactId"},
		{"contact id empty", strings.Replace(ev(`{"type":"text","text":"hi"}`), "+60177872890", "", 1), Options{}, "empty@contactId"},
		{"contact all good", strings.TrimSuffix(ev(`{"type":"text","text":"hi"}`), "}") + `,"contact":{"firstName":"J","lastName":"D","profilePic":"","countryCode":"MY","email":"a@b.co","phone":"+60123456789","language":"en","locale":"en_US","timezone":-9.5}}`, Options{}, ""},
		{"contact timezone range", strings.TrimSuffix(ev(`{"type":"text","text":"hi"}`), "}") + `,"contact":{"timezone":20}}`, Options{}, "contact-field@contact.timezone"},
		{"contact timezone bool", strings.TrimSuffix(ev(`{"type":"text","text":"hi"}`), "}") + `,"contact":{"timezone":true}}`, Options{}, "type@contact.timezone"},
		{"contact language", strings.TrimSuffix(ev(`{"type":"text","text":"hi"}`), "}") + `,"contact":{"language":"english!"}}`, Options{}, "contact-field@contact.language"},
		{"contact firstName type", strings.TrimSuffix(ev(`{"type":"text","text":"hi"}`), "}") + `,"contact":{"firstName":["J"]}}`, Options{}, "type@contact.firstName"},
		{"message body", `{"channelId":"c","contactId":"x","message":{"type":"text","text":"hi"}}`, Options{}, ""},
		{"message body missing message", `{"channelId":"c","contactId":"x"}`, Options{Kind: KindMessage}, "required@message"},
		{"reply ok", `{"mId":"p1"}`, Options{}, ""},
		{"reply 200 no mId", `{"error":{"message":"x"}}`, Options{ReplyStatus: 200}, "required@mId unexpected-field@error"},
		{"reply 4xx ok", `{"error":{"message":"x"}}`, Options{ReplyStatus: 404}, ""},
		{"reply 4xx with mId", `{"mId":"a"}`, Options{ReplyStatus: 400}, "required@error unexpected-field@mId"},
		{"reply 5xx", `{"error":{"message":"x"}}`, Options{ReplyStatus: 503}, "reply-status@"},
		{"reply 204", `{"mId":"a"}`, Options{ReplyStatus: 204}, "reply-status-not-200@"},
		{"reply mId 51", `{"mId":"` + strings.Repeat("a", 51) + `"}`, Options{}, "mid-length@mId"},
		{"reply error message type", `{"error":{"message":1}}`, Options{}, "type@error.message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Bytes([]byte(tt.in), tt.opts)
			var got []string
			for _, f := range r.Findings {
				got = append(got, f.Rule+"@"+f.Path)
				if sev, _ := RuleSeverity(f.Rule); sev != f.Severity {
					t.Errorf("%s has severity %s, table says %s", f.Rule, f.Severity, sev)
				}
				if f.Message == "" || f.Line < 1 || f.Column < 1 {
					t.Errorf("bad finding %+v", f)
				}
			}
			if g := strings.Join(got, " "); g != tt.want {
				t.Errorf("got  %q\nwant %q", g, tt.want)
			}
		})
	}
}

func TestPositions(t *testing.T) {
	in := "{\n  \"channelId\": \"c\",\n  \"contactId\": \"x\",\n  \"events\": [\n    {\"type\": \"message\", \"mId\": \"m\", \"timestamp\": 1732435200,\n     \"message\": {\"type\": \"text\"}}\n  ]\n}\n"
	r := Bytes([]byte(in), Options{})
	want := []string{"5:50 timestamp-seconds events[0].timestamp", "6:17 required events[0].message.text"}
	var got []string
	for _, f := range r.Findings {
		got = append(got, strings.Join([]string{strconv.Itoa(f.Line) + ":" + strconv.Itoa(f.Column), f.Rule, f.Path}, " "))
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
	// Position agrees with the checker's line table.
	for off := 0; off <= len(in); off++ {
		c := checker{data: []byte(in)}
		l1, c1 := c.position(off)
		l2, c2 := Position([]byte(in), off)
		if l1 != l2 || c1 != c2 {
			t.Fatalf("offset %d: %d:%d vs %d:%d", off, l1, c1, l2, c2)
		}
	}
}

func TestDetectKind(t *testing.T) {
	for in, want := range map[string]Kind{
		`{"events":[]}`:               KindWebhook,
		`{"message":{}}`:              KindMessage,
		`{"mId":"a"}`:                 KindReply,
		`{"error":{}}`:                KindReply,
		`{"x":1}`:                     KindAuto,
		`not json`:                    KindAuto,
		`{"message":{},"events":[]}`:  KindWebhook,
		`{"events\u0000":1}`:          KindAuto,
		`{"m\u0065ssage":{"a":1}}`:    KindMessage,
		`[{"events":[]}]`:             KindAuto,
		`{"nested":{"events":[]}}`:    KindAuto,
		`{"mId":"a","contactId":"b"}`: KindReply,
	} {
		if got := DetectKind([]byte(in)); got != want {
			t.Errorf("DetectKind(%s) = %q, want %q", in, got, want)
		}
	}
}

func TestID(t *testing.T) {
	tests := []struct {
		value string
		typ   channel.IDType
		rule  string
		col   int
	}{
		{"+60177872890", channel.IDPhone, "", 0},
		{"+1234567", channel.IDPhone, "", 0},
		{"+123456", channel.IDPhone, RuleContactIDFormat, 1},
		{"+1234567890123456", channel.IDPhone, RuleContactIDFormat, 1},
		{"60177872890", channel.IDPhone, RuleContactIDFormat, 1},
		{"+60-177872890", channel.IDPhone, RuleContactIDFormat, 4},
		{"+0177872890", channel.IDPhone, RuleContactIDFormat, 2},
		{"user_1=+/@X", channel.IDCustom, "", 0},
		{"ünïcode", channel.IDCustom, RuleContactIDFormat, 1},
		{"abc.def", channel.IDCustom, RuleContactIDFormat, 4},
		{"aaé", channel.IDCustom, RuleContactIDFormat, 3},
		{strings.Repeat("a", 50), channel.IDCustom, "", 0},
		{strings.Repeat("a", 51), channel.IDCustom, RuleContactIDLength, 51},
		{strings.Repeat("é", 51), "", RuleContactIDLength, 51},
		{"", channel.IDPhone, RuleEmpty, 1},
		{"any_thing+goes/=@", "", "", 0},
		{"+60177872890", "", "", 0},
		{"alice@example.com", "", RuleContactIDFormat, 14},
		{"abc-def", "", RuleContactIDFormat, 4},
	}
	for _, tt := range tests {
		fs := ID(tt.value, tt.typ)
		if tt.rule == "" {
			if len(fs) != 0 {
				t.Errorf("ID(%q, %s) = %+v, want valid", tt.value, tt.typ, fs)
			}
			continue
		}
		if len(fs) != 1 || fs[0].Rule != tt.rule || fs[0].Column != tt.col || fs[0].Severity != Error {
			t.Errorf("ID(%q, %s) = %+v, want %s at %d", tt.value, tt.typ, fs, tt.rule, tt.col)
		}
	}
}

func TestRuleTable(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules {
		if seen[r.ID] {
			t.Errorf("rule %s listed twice", r.ID)
		}
		seen[r.ID] = true
		if r.Severity != Error && r.Severity != Warning || r.Summary == "" {
			t.Errorf("rule %+v", r)
		}
	}
	// Every Rule* constant in api.go is in the table.
	src, err := os.ReadFile("api.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "Rule") || !strings.Contains(line, `= "`) {
			continue
		}
		id := strings.SplitN(strings.SplitN(line, `"`, 2)[1], `"`, 2)[0]
		if !seen[id] {
			t.Errorf("rule %s (api.go) missing from Rules", id)
		}
	}
	// And docs/validate.md lists every rule.
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "validate.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range Rules {
		if !bytes.Contains(doc, []byte("`"+r.ID+"`")) {
			t.Errorf("docs/validate.md does not document %s", r.ID)
		}
	}
}

// TestNoPanic feeds hostile inputs; each must yield located, known findings.
func TestNoPanic(t *testing.T) {
	inputs := []string{
		"", "{", "}", "[", "\"", `{"events":`, `{"events":[{`, `{"events":[{"type":"message","message":`,
		strings.Repeat("{\"a\":", 100000), strings.Repeat("[", 100000) + strings.Repeat("]", 100000),
		"\xff\xfe{\x00}", "\x00", "{\"events\":[null,1,\"x\",[],{}]}", `{"message":null}`, `{"message":{"type":null}}`,
		`{"mId":null,"error":null}`, `{"events":[{"type":"message_status","status":null,"mId":1,"timestamp":-0.0}]}`,
		`{"events":[{"type":"message","message":{"type":"location","location":5,"latitude":1e999}}]}`,
		`{"contact":{"timezone":"x","phone":"","email":"@"},"events":[]}`,
		`{"channelId":"c","contactId":"` + strings.Repeat("\\u00e9", 60) + `","events":[]}`,
	}
	for _, in := range inputs {
		for _, k := range append(Kinds, KindAuto) {
			r := Bytes([]byte(in), Options{Kind: k, IDType: channel.IDPhone, ReplyStatus: 999})
			checkFindings(t, []byte(in), r.Findings)
		}
	}
}

// checkFindings asserts known rule ids and in-range positions.
func checkFindings(t testing.TB, data []byte, fs []Finding) {
	t.Helper()
	lines := bytes.Split(data, []byte{'\n'})
	for _, f := range fs {
		sev, ok := RuleSeverity(f.Rule)
		if !ok || sev != f.Severity {
			t.Fatalf("unknown rule or wrong severity: %+v", f)
		}
		if f.Line < 1 || f.Line > len(lines) {
			t.Fatalf("line %d out of range (%d lines): %+v", f.Line, len(lines), f)
		}
		if f.Column < 1 || f.Column > len(lines[f.Line-1])+1 {
			t.Fatalf("column %d out of range (line has %d bytes): %+v", f.Column, len(lines[f.Line-1]), f)
		}
		if f.Message == "" {
			t.Fatalf("empty message: %+v", f)
		}
	}
}

// TestHappyPathAllocs guards the allocation budget of a valid payload: the
// checker itself allocates nothing beyond what escapes into the Report.
func TestHappyPathAllocs(t *testing.T) {
	data := []byte(ev(`{"type":"attachment","attachment":{"type":"image","url":"https://x.example/a.jpg","mimeType":"image/jpeg"}}`))
	n := testing.AllocsPerRun(200, func() {
		if r := Bytes(data, Options{IDType: channel.IDPhone}); len(r.Findings) != 0 {
			t.Fatal(r.Findings)
		}
	})
	if n > 1 {
		t.Errorf("%v allocations per valid payload, want at most 1", n)
	}
}

// TestDeepNestingNeverRecurses: input nested millions of levels deep gets a
// json-depth finding at the 65th bracket, with the goroutine stack capped at
// 1 MiB, so a recursive parser (gjson's validator recurses once per level)
// reaching it would crash the test binary instead of passing.
func TestDeepNestingNeverRecurses(t *testing.T) {
	defer debug.SetMaxStack(debug.SetMaxStack(1 << 20))
	const n = 10_000_000
	tests := []struct {
		name string
		in   []byte
		col  int
	}{
		{"arrays", []byte(strings.Repeat("[", n)), MaxDepth + 1},
		{"closed arrays", []byte(strings.Repeat("[", n) + strings.Repeat("]", n)), MaxDepth + 1},
		{"objects", []byte(strings.Repeat(`{"a":`, n/5) + "1" + strings.Repeat("}", n/5)), 5*MaxDepth + 1},
		{"after a valid prefix", []byte(`{"mId":"[[[","x":` + strings.Repeat("[", n)), 17 + MaxDepth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Bytes(tt.in, Options{})
			if len(r.Findings) != 1 || r.Findings[0].Rule != RuleDepth || r.Findings[0].Line != 1 || r.Findings[0].Column != tt.col {
				t.Fatalf("findings %+v, want one json-depth at 1:%d", r.Findings, tt.col)
			}
			if k := DetectKind(tt.in); k != KindAuto {
				t.Errorf("DetectKind = %q", k)
			}
			var got []Finding
			if _, err := Stream(bytes.NewReader(tt.in), StreamOptions{}, func(p Payload) error {
				got = append(got, p.Report.Findings...)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 || got[0].Rule != RuleDepth {
				t.Errorf("Stream findings %+v, want json-depth first", got)
			}
		})
	}
}

// TestEscapes: \u0000 and lone surrogates are errors wherever a string is
// (located by path), full pairs and an escaped backslash before "u0000" are
// not.
func TestEscapes(t *testing.T) {
	const head = `{"channelId":"gfd8g7fd89dgfd","contactId":"+60177872890","message":{"type":"text","text":`
	cases := []struct {
		text string
		want []string // rule@path
	}{
		{`"smile \ud83d\ude00"`, nil},
		{`"not a NUL: \\u0000"`, nil},
		{`"a\u0000b"`, []string{"string-nul@message.text"}},
		{`"\ud800"`, []string{"string-surrogate@message.text"}},
		{`"\ud800x"`, []string{"string-surrogate@message.text"}},
		{`"\ude00\ud83d"`, []string{"string-surrogate@message.text"}},
		{`"ok"},"x\u0000":{"y":["a","\udfff"]`, []string{"unknown-field@x\x00", "string-nul@x\\u0000", "string-surrogate@x\\u0000.y[1]"}},
	}
	for _, tc := range cases {
		data := head + tc.text + "}}"
		r := Bytes([]byte(data), Options{Kind: KindMessage})
		var got []string
		for _, f := range r.Findings {
			got = append(got, f.Rule+"@"+f.Path)
			if f.Rule == RuleStringNUL || f.Rule == RuleStringSurrogate {
				if f.Severity != Error || data[f.Column-1] != '\\' {
					t.Errorf("%s: %+v does not point at the escape", tc.text, f)
				}
			}
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%s: findings %q, want %q", tc.text, got, tc.want)
		}
	}
}

// TestEmptyArray: "[]" is not "0 payloads, all valid" but an error, from
// Bytes and from Stream alike.
func TestEmptyArray(t *testing.T) {
	if r := Bytes([]byte(" [ ]"), Options{}); len(r.Findings) != 1 || r.Findings[0].Rule != RuleArrayEmpty || r.Findings[0].Column != 2 {
		t.Errorf("Bytes: %+v", r.Findings)
	}
	n := 0
	_, err := Stream(strings.NewReader("[]"), StreamOptions{}, func(p Payload) error {
		n++
		if !p.Report.HasErrors() || p.Report.Findings[0].Rule != RuleArrayEmpty {
			t.Errorf("Stream: %+v", p.Report.Findings)
		}
		return nil
	})
	if err != nil || n != 1 {
		t.Errorf("Stream: %d payloads, %v", n, err)
	}
}

// The messages of the new rules say what applies and what to do.
func TestFidelityMessages(t *testing.T) {
	ev := func(contactID, extra string) string {
		return `{"channelId":"c","contactId":"` + contactID + `","events":[{"type":"message","mId":"m1","timestamp":1732435200000,"message":{"type":"text","text":"hi"}}]` + extra + `}`
	}
	tests := []struct {
		name, in, rule string
		want           []string
	}{
		{"email contactId, no ID type", ev("alice@example.com", ""), RuleContactIDFormat,
			[]string{`'.' at position 14`, "neither ID type", "--id-type"}},
		{"dialling code, contactId gives it", ev("+919876543210", `,"contact":{"countryCode":"91"}`), RuleContactField,
			[]string{`"91" is a dialling code`, `likely "IN"`}},
		{"dialling code with plus, no phone contactId", ev("user_1", `,"contact":{"countryCode":"+60"}`), RuleContactField,
			[]string{"dialling code +60", `likely "MY"`}},
		{"location only nested", `{"channelId":"c","contactId":"x","events":[{"type":"message","mId":"m1","timestamp":1732435200000,"message":{"type":"location","location":{"latitude":1,"longitude":2}}}]}`, RuleRequired,
			[]string{"message.latitude", "only inside message.location{}", "flatten"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Bytes([]byte(tt.in), Options{})
			var msg string
			for _, f := range r.Findings {
				if f.Rule == tt.rule {
					msg = f.Message
				}
			}
			if msg == "" {
				t.Fatalf("no %s finding in %+v", tt.rule, r.Findings)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
		})
	}
	// Lower-case ISO codes keep their plain message (no dialling-code hint).
	r := Bytes([]byte(ev("+919876543210", `,"contact":{"countryCode":"in"}`)), Options{})
	if len(r.Findings) != 1 || strings.Contains(r.Findings[0].Message, "dialling") {
		t.Errorf("lower-case code: %+v", r.Findings)
	}
}
