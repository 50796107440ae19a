package listen

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/ccx-cli/ccx/internal/verdict"
	"github.com/tidwall/gjson"
)

// refRecord is a record as encoding/json writes it without HTML escaping:
// the callJSON form through an Encoder with SetEscapeHTML(false), compacted
// (as an Encoder compacts a Marshaler's output).
func refRecord(t testing.TB, c Call) []byte {
	t.Helper()
	j := callJSON{callAlias: callAlias(c), LatencyMS: float64(c.Latency.Microseconds()) / 1000}
	j.Body, j.BodyBase64 = encodeBody(c.Body)
	j.ReplyBody, j.ReplyBodyBase64 = encodeBody(c.ReplyBody)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, bytes.TrimRight(buf.Bytes(), "\n")); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func sampleCalls() []Call {
	lat, lng := 3.139, 101.6869
	full := Call{
		ID: "a1b2c3-0001", Time: time.Date(2026, 11, 24, 8, 0, 0, 123456789, time.FixedZone("MYT", 8*3600)),
		Method: "POST", Path: "/message?x=<1>&y=2", Remote: "127.0.0.1:5555",
		Header: http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer aaax…casd"}, "X-Empty": {}, "X-Nil": nil, "A": {"1", "2"}},
		Body:   []byte(`{"channelId":"c","message":{"type":"text","text":"<b>hi</b> & \u2028"}}`), Auth: AuthOK,
		Kind: channel.MessageText, ChannelID: "c<", ContactID: "+60123456789",
		Message:  &channel.Message{Type: channel.MessageLocation, Latitude: &lat, Longitude: &lng, Address: "KL \u2029 <x>", Replies: []string{"a"}, Payload: json.RawMessage(`{"a": "<&>"}`)},
		Findings: []validate.Finding{{Severity: validate.Warning, Rule: "unknown-field", Path: "message.x", Line: 1, Column: 40, Message: "unknown field \"x\"\t\x01"}},
		Status:   200, ReplyHeader: http.Header{"Content-Type": {"application/json"}}, ReplyBody: []byte(`{"mId":"x"}`),
		Latency: 1234567 * time.Nanosecond, Forwarded: true, ForwardError: "dial tcp: refused",
	}
	return []Call{
		{},
		full,
		{ID: "x", Body: []byte{0xff, 0x00, 'a'}, ReplyBody: []byte{}, Findings: []validate.Finding{}, Header: http.Header{}, Latency: 3 * time.Microsecond},
		{ID: "\xff\xfe bad utf-8 \x7f", Path: "/\u2028", Header: http.Header{"K\"ey": {"v\\al\n\r\b\f"}}, Latency: 2 * time.Hour},
		{ID: "big", Body: bytes.Repeat([]byte("é<"), 5000), Latency: -time.Millisecond},
	}
}

// AppendJSON writes the bytes encoding/json writes for a call record
// (without HTML escaping: "<b>" stays "<b>").
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	for i, c := range sampleCalls() {
		want := refRecord(t, c)
		if got := c.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("call %d:\n got  %s\n want %s", i, got, want)
		}
		var enc bytes.Buffer
		e := json.NewEncoder(&enc)
		e.SetEscapeHTML(false)
		if err := e.Encode(c); err != nil || !bytes.Equal(bytes.TrimRight(enc.Bytes(), "\n"), want) {
			t.Errorf("call %d: Encoder = %s, %v", i, enc.Bytes(), err)
		}
		if bytes.Contains(c.AppendJSON(nil), []byte(`\u003c`)) {
			t.Errorf("call %d: HTML-escaped record %s", i, c.AppendJSON(nil))
		}
		var back Call
		if err := json.Unmarshal(c.AppendJSON(nil), &back); err != nil {
			t.Errorf("call %d: record does not read back: %v", i, err)
		}
	}
}

// The message bytes cached by public() are those ui.Marshal writes.
func TestPublicCachesTheMessageItWrites(t *testing.T) {
	h := NewHandler(Options{Token: testToken})
	c := sampleCalls()[1]
	p := h.public(c)
	if p.messageJSON == nil {
		t.Fatal("public did not keep the message JSON")
	}
	p.messageJSON = nil
	if got, want := h.public(c).AppendJSON(nil), p.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Errorf("cached:\n%s\nfresh:\n%s", got, want)
	}
}

// FuzzAppendJSON compares AppendJSON with encoding/json on calls made of
// arbitrary strings and bytes.
func FuzzAppendJSON(f *testing.F) {
	f.Add("a1-0001", "/message", "Content-Type", "application/json", []byte(`{"a":"<b>"}`), "message.text", "hi \u2028", int64(1500))
	f.Add("\xff", "/\x00<>&", "K\"", "\\\n", []byte{0xff, 0xfe}, "", "\x7f\xed\xa0\x80", int64(-7))
	f.Fuzz(func(t *testing.T, id, path, hk, hv string, body []byte, fpath, text string, latency int64) {
		c := Call{ID: id, Time: time.Unix(0, latency).UTC(), Method: "POST", Path: path, Remote: hv,
			Header: http.Header{hk: {hv, id}, "B": nil}, Body: body, Auth: AuthOK, Kind: channel.MessageType(text),
			ChannelID: id, ContactID: hv, Message: &channel.Message{Type: channel.MessageText, Text: text, Replies: []string{hk}},
			Findings: []validate.Finding{{Severity: validate.Error, Rule: hk, Path: fpath, Line: len(id), Column: len(path), Message: text}},
			Status:   int(latency % 600), ReplyHeader: http.Header{hv: {text}}, ReplyBody: []byte(text),
			Latency: time.Duration(latency), ForwardError: fpath, Verdict: verdict.Verdict(hv),
			ReplyFindings: []validate.Finding{{Severity: validate.Warning, Rule: fpath, Path: hk, Message: id}}}
		if got, want := c.AppendJSON(nil), refRecord(t, c); !bytes.Equal(got, want) {
			t.Fatalf("\n got  %s\n want %s", got, want)
		}
	})
}

// The --json/--record printer writes a record without reflection or a
// second pass over the bytes: with the message JSON public() kept, a line
// costs no allocation (json.Marshal and its re-compaction took 11 for a
// small call).
func TestPrintDoesNotAllocate(t *testing.T) {
	h := NewHandler(Options{Token: testToken})
	c := h.public(sampleCalls()[1])
	p := NewJSONPrinter(io.Discard)
	if n := testing.AllocsPerRun(100, func() { _ = p.Print(c) }); n > 0 {
		t.Errorf("%v allocations per printed call, want 0", n)
	}
}

// refDescribe is describe as it was: four gjson.Get paths.
func refDescribe(c *Call) {
	if !gjson.ValidBytes(c.Body) {
		return
	}
	res := gjson.GetManyBytes(c.Body, "channelId", "contactId", "message.type", "message")
	c.ChannelID, c.ContactID, c.Kind = res[0].Str, res[1].Str, channel.MessageType(res[2].Str)
	if res[3].IsObject() {
		var m channel.Message
		if json.Unmarshal([]byte(res[3].Raw), &m) == nil {
			c.Message = &m
		}
	}
}

// FuzzDescribe: the one-pass describe finds what the four gjson paths did.
func FuzzDescribe(f *testing.F) {
	for _, s := range []string{textBody, `{"message":"x","message":{"text":"a"},"message":{"type":"text"}}`, `{"message":[{"type":"a"}],"channelId":1,"channelId":"b"}`,
		`{"chann\u0065lId":"c","message":{"ty\u0070e":"t\u00e9"}}`, `[{"channelId":"a"}]`, `"s"`, `{"message":{"message":{"type":"x"}}}`, `{"a":{"channelId":"x"},"message":{}}`, " \n\t{\"message\" : {\"type\":\"text\",\"text\":\"hi\"}}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		h := NewHandler(Options{Token: testToken})
		got, want := Call{Body: body}, Call{Body: body}
		h.describe(&got)
		refDescribe(&want)
		if got.ChannelID != want.ChannelID || got.ContactID != want.ContactID || got.Kind != want.Kind ||
			(got.Message == nil) != (want.Message == nil) || got.Message != nil && !reflect.DeepEqual(*got.Message, *want.Message) {
			t.Fatalf("%q:\n got  %q %q %q %+v\n want %q %q %q %+v", body, got.ChannelID, got.ContactID, got.Kind, got.Message, want.ChannelID, want.ContactID, want.Kind, want.Message)
		}
	})
}
