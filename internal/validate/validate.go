package validate

import (
	"fmt"
	"unicode/utf8"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/tidwall/gjson"
)

// Bytes validates one payload.
func Bytes(data []byte, opts Options) Report {
	c := &checker{data: data, opts: opts}
	c.run()
	return Report{Kind: c.kind, Findings: c.findings}
}

// DetectKind tells a webhook body, a /message body and a /message reply apart
// by their top-level keys; KindAuto when it cannot tell.
func DetectKind(data []byte) Kind {
	switch {
	case gjson.GetBytes(data, "events").Exists():
		return KindWebhook
	case gjson.GetBytes(data, "message").Exists():
		return KindMessage
	case gjson.GetBytes(data, "mId").Exists(), gjson.GetBytes(data, "error").Exists():
		return KindReply
	}
	return KindAuto
}

type checker struct {
	data     []byte
	opts     Options
	kind     Kind
	findings []Finding
}

func (c *checker) add(sev Severity, rule, path string, offset int, format string, args ...any) {
	line, col := Position(c.data, offset)
	c.findings = append(c.findings, Finding{Severity: sev, Rule: rule, Path: path, Line: line, Column: col, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) run() {
	if !utf8.Valid(c.data) {
		c.add(Error, RuleEncoding, "", 0, "input is not valid UTF-8")
		return
	}
	if !gjson.ValidBytes(c.data) {
		c.add(Error, RuleSyntax, "", 0, "not well-formed JSON")
		return
	}
	root := gjson.ParseBytes(c.data)
	if !root.IsObject() {
		c.add(Error, RuleType, "", root.Index, "a payload must be a JSON object, got %s", typeName(root))
		return
	}
	c.kind = c.opts.Kind
	if c.kind == KindAuto {
		c.kind = DetectKind(c.data)
	}
	switch c.kind {
	case KindWebhook:
		c.envelope(root)
	case KindMessage:
		c.ids(root)
		c.message(root.Get("message"), "message")
	case KindReply:
		if !root.Get("mId").Exists() && !root.Get("error.message").Exists() {
			c.add(Error, RuleRequired, "mId", root.Index, `a /message reply needs "mId" (200) or "error.message" (4xx)`)
		}
	default:
		c.add(Error, RuleKind, "", root.Index, `cannot tell the payload kind: expected "events" (webhook), "message" (/message body) or "mId"/"error" (reply); use --kind`)
	}
}

func (c *checker) ids(root gjson.Result) {
	for _, k := range []string{"channelId", "contactId"} {
		v := root.Get(k)
		if !v.Exists() {
			c.add(Error, RuleRequired, k, root.Index, "%q is required", k)
			continue
		}
		if v.Type != gjson.String {
			c.add(Error, RuleType, k, v.Index, "%q must be a string, got %s", k, typeName(v))
			continue
		}
	}
	if v := root.Get("contactId"); v.Type == gjson.String {
		if err := channel.CheckContactID(v.Str, c.opts.IDType); err != nil {
			rule := RuleContactIDFormat
			if utf8.RuneCountInString(v.Str) > channel.MaxContactIDLen {
				rule = RuleContactIDLength
			}
			c.add(Error, rule, "contactId", v.Index, "%s", err)
		}
	}
}

func (c *checker) envelope(root gjson.Result) {
	c.ids(root)
	events := root.Get("events")
	if !events.Exists() {
		c.add(Error, RuleRequired, "events", root.Index, `"events" is required`)
		return
	}
	if !events.IsArray() {
		c.add(Error, RuleType, "events", events.Index, `"events" must be an array, got %s`, typeName(events))
		return
	}
	arr := events.Array()
	if len(arr) == 0 {
		c.add(Error, RuleEventsEmpty, "events", events.Index, `"events" is empty; send one event per POST`)
	}
	for i, ev := range arr {
		c.event(ev, fmt.Sprintf("events[%d]", i))
	}
}

func (c *checker) event(ev gjson.Result, path string) {
	t := ev.Get("type")
	if t.Type != gjson.String {
		c.add(Error, RuleRequired, path+".type", ev.Index, "event type is required: message, message_echo or message_status")
		return
	}
	mid := ev.Get("mId")
	if mid.Type != gjson.String {
		c.add(Error, RuleRequired, path+".mId", ev.Index, `"mId" is required and must be a string`)
	} else if n := utf8.RuneCountInString(mid.Str); n > channel.MaxMIDLen {
		c.add(Error, RuleMIDLength, path+".mId", mid.Index, "mId is %d characters; the maximum is %d", n, channel.MaxMIDLen)
	}
	switch channel.EventType(t.Str) {
	case channel.EventMessage, channel.EventEcho:
		c.message(ev.Get("message"), path+".message")
	case channel.EventStatus:
		if !ev.Get("status.value").Exists() {
			c.add(Error, RuleRequired, path+".status.value", ev.Index, "message_status needs status.value: sent, delivered, read or failed")
		}
	default:
		c.add(Error, RuleEnum, path+".type", t.Index, "unknown event type %q: use message, message_echo or message_status", t.Str)
	}
}

func (c *checker) message(m gjson.Result, path string) {
	if !m.IsObject() {
		c.add(Error, RuleRequired, path, m.Index, "%s must be an object with a type", path)
		return
	}
	t := m.Get("type")
	switch channel.MessageType(t.Str) {
	case channel.MessageText:
		if m.Get("text").Str == "" {
			c.add(Error, RuleTextEmpty, path+".text", m.Index, "text message needs non-empty text")
		}
	case channel.MessageAttachment, channel.MessageLocation, channel.MessageQuickReply, channel.MessageCustomPayload:
	default:
		c.add(Error, RuleEnum, path+".type", t.Index, "unknown message type %q: use text, attachment, location, quick_reply or custom_payload", t.Str)
	}
}

func typeName(r gjson.Result) string {
	switch r.Type {
	case gjson.Null:
		if !r.Exists() {
			return "nothing"
		}
		return "null"
	case gjson.False, gjson.True:
		return "a boolean"
	case gjson.Number:
		return "a number"
	case gjson.String:
		return "a string"
	}
	if r.IsArray() {
		return "an array"
	}
	return "an object"
}

// Position turns a byte offset into a 1-based line and column.
func Position(data []byte, offset int) (line, col int) {
	if offset > len(data) {
		offset = len(data)
	}
	line, col = 1, 1
	for i := 0; i < offset; i++ {
		if data[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}
