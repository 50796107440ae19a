package payload

import (
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/fault"
)

func isUsage(err error) bool {
	k, ok := fault.KindOf(err)
	return ok && k == fault.Usage
}

func TestParseSets(t *testing.T) {
	edits, err := ParseSets([]string{"a.b=42", "c=hi"}, []string{"d=true"})
	if err != nil || len(edits) != 3 || !edits[0].Raw || edits[1].Raw || edits[2].Raw {
		t.Fatalf("%+v %v", edits, err)
	}
	for _, bad := range []string{"novalue", "=x", "a..b=1", "a.*=1", ".a=1", "a.=1"} {
		if _, err := ParseSets([]string{bad}, nil); !isUsage(err) {
			t.Errorf("%q: want a usage error, got %v", bad, err)
		}
	}
}

func TestFromFile(t *testing.T) {
	data := []byte(`{"contactId":"keep","events":[{"type":"message","mId":"a"},{"type":"message_status","mId":"b"}]}`)
	edits, _ := ParseSets([]string{"events.0.message.text=hi"}, nil)
	p, err := FromFile("f.json", data, FileOptions{ChannelID: "ch", ContactID: "other", MID: "m1", Timestamp: 5, Edits: edits})
	if err != nil {
		t.Fatal(err)
	}
	b := string(p.Body)
	for _, want := range []string{`"channelId":"ch"`, `"contactId":"keep"`, `"mId":"m1"`, `"timestamp":5`, `"text":"hi"`} {
		if !strings.Contains(b, want) {
			t.Errorf("no %s in %s", want, b)
		}
	}
	if len(p.MIDPaths) != 1 || p.MIDPaths[0] != "events.0.mId" || p.MID != "m1" {
		t.Errorf("mId paths %v, mId %q", p.MIDPaths, p.MID)
	}
	if p, err := FromFile("f.json", data, FileOptions{ContactID: "other", SetContact: true}); err != nil || !strings.Contains(string(p.Body), `"contactId":"other"`) {
		t.Errorf("--contact-id given explicitly must override: %v", err)
	}
	if _, err := FromFile("x", []byte("not json"), FileOptions{Count: 2}); !isUsage(err) {
		t.Errorf("--count on a non-object: %v", err)
	}
	if p, err := FromFile("x", []byte("not json"), FileOptions{}); err != nil || string(p.Body) != "not json" {
		t.Errorf("a non-object passes as is for validation to report: %v", err)
	}
}

func TestMessageAndReceipt(t *testing.T) {
	f := Fields{ChannelID: "c", ContactID: "+60177872890", MID: "m"}
	p, err := Message(f, channel.Text("hi"), true)
	if err != nil || p.What != "message_echo text" || p.MID != "m" || len(p.TSPaths) != 1 {
		t.Fatalf("%+v %v", p, err)
	}
	f.Timestamp = 7
	r, err := Receipt(f, "x", channel.StatusValue("read"), "")
	if err != nil || r.MIDPaths != nil || r.TSPaths != nil || r.MID != "x" || !strings.Contains(string(r.Body), `"timestamp":7`) {
		t.Fatalf("%+v %v", r, err)
	}
	if _, err := Timezone("15"); !isUsage(err) {
		t.Errorf("timezone 15: %v", err)
	}
}

// --timezone is checked where it applies: a non-object goes to validation as is.
func TestFromFileTimezoneOnlyForObjects(t *testing.T) {
	if _, err := FromFile("x", []byte("not json"), FileOptions{Timezone: "99"}); err != nil {
		t.Errorf("non-object: %v", err)
	}
	if _, err := FromFile("x", []byte(`{"events":[]}`), FileOptions{Timezone: "99"}); !isUsage(err) {
		t.Errorf("object: %v", err)
	}
	p, err := FromFile("x", []byte(`{"events":[]}`), FileOptions{Timezone: "8"})
	if err != nil || !strings.Contains(string(p.Body), `"timezone":8`) {
		t.Errorf("%v %s", err, p.Body)
	}
}
