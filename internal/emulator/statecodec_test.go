package emulator

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzMessageDecode: the fast message decoder means what json.Unmarshal
// means: the same error or not, the same Message.
func FuzzMessageDecode(f *testing.F) {
	var buf bytes.Buffer
	if err := richState(f).writeState(&buf, Filter{}); err != nil {
		f.Fatal(err)
	}
	var st struct{ Messages []json.RawMessage }
	_ = json.Unmarshal(buf.Bytes(), &st)
	for _, m := range st.Messages {
		f.Add([]byte(m))
	}
	for _, s := range []string{`{"SEQ":1}`, `{"seq":1,"seq":2}`, `{"seq":1.0}`, `{"mId":null}`, `{"mId":"a\u00e9\"b"}`, "{\"mId\":\"\xff\"}",
		`{"timeline":[{"status":"sent","applied":1}]}`, `{"timeline":null}`, `{"message":{"type":"text","text":"a","extra":1}}`,
		`{"reply":null}`, `{"reply":{"httpStatus":"x"}}`, `{"seq":01}`, `{"seq":1}x`, `[]`, `{"timeline":[]}`, `{"\u0073eq":5}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var want Message
		werr := json.Unmarshal(raw, &want)
		var got Message
		gerr := decodeMessage(raw, &got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%s: json.Unmarshal says %v, decodeMessage %v", raw, werr, gerr)
		}
		if werr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n got %#v\nwant %#v", raw, got, want)
		}
	})
}

// FuzzStateDecode: a state the streaming decoder takes is one json.Unmarshal
// takes too, with the same contacts, messages and warnings.
func FuzzStateDecode(f *testing.F) {
	for _, s := range stateSeeds(f) {
		f.Add([]byte(s))
	}
	var buf bytes.Buffer
	_ = richState(f).writeState(&buf, Filter{})
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := decodeState("f.json", data)
		if err != nil {
			return
		}
		var want State
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatalf("decodeState took what json.Unmarshal refuses (%v):\n%s", err, data)
		}
		for i := range want.Messages {
			if len(want.Messages[i].Timeline) == 0 {
				m := want.Messages[i]
				want.Messages[i].Timeline = []StatusChange{{Status: m.Status, Reason: m.Reason, Timestamp: m.Timestamp, Applied: true}}
			}
		}
		if len(want.Warnings) > 2*maxWarnings {
			want.Warnings = lastWarnings(want.Warnings)
		}
		if len(want.Messages) == 0 {
			want.Messages = st.Messages // nil or empty: the same state
		}
		if !reflect.DeepEqual(st.Messages, want.Messages) || !reflect.DeepEqual(st.Contacts, want.Contacts) || !reflect.DeepEqual(st.Warnings, want.Warnings) ||
			st.Seq != want.Seq || st.Version != want.Version {
			t.Fatalf("decodeState and json.Unmarshal differ on\n%s\n got %+v\nwant %+v", data, st, want)
		}
	})
}
