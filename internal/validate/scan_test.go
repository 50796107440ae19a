package validate

import (
	"strings"
	"testing"
)

// scanned runs the scanner alone over data.
func scanned(t *testing.T, data string) *checker {
	t.Helper()
	c := &checker{data: []byte(data)}
	if !c.scan(skipSpace(c.data, 0)) {
		t.Fatalf("scan rejected %q", data)
	}
	return c
}

// The tape holds what the rules read and no more: a custom payload's or an
// unknown field's content is scanned (and checked) but not recorded, so a
// big one costs no memory.
func TestTapeRecordsOnlyWhatRulesRead(t *testing.T) {
	big := `{"k":[` + strings.Repeat(`{"a":"b","c":[1,2,3]},`, 500) + `{}]}`
	base := scanned(t, ev(`{"type":"custom_payload","payload":{}}`))
	for name, body := range map[string]string{
		"custom payload":          ev(`{"type":"custom_payload","payload":` + big + `}`),
		"unknown event field":     strings.Replace(ev(`{"type":"custom_payload","payload":{}}`), `"mId"`, `"x":`+big+`,"mId"`, 1),
		"unknown top-level field": strings.Replace(ev(`{"type":"custom_payload","payload":{}}`), `{"channelId"`, `{"x":`+big+`,"channelId"`, 1),
	} {
		c := scanned(t, body)
		if extra := len(c.tape) - len(base.tape); extra > 2 {
			t.Errorf("%s: %d tape nodes for a %d-byte value nobody reads (want at most a key and a value)", name, extra, len(big))
		}
	}
	// A root array is not looked into either.
	if c := scanned(t, `[`+strings.Repeat(`1,`, 1000)+`1]`); len(c.tape) != 1 {
		t.Errorf("root array: %d tape nodes, want 1", len(c.tape))
	}
	// What the rules read is there: every event and every reply.
	c := scanned(t, wh(strings.Repeat(`{"type":"message","mId":"m","timestamp":1,"message":{"type":"quick_reply","title":"t","replies":["a","b"]}},`, 3)+`{}`))
	if got := len(c.tape); got < 3*19 { // per event: itself, 6 nodes of members, message{} with 11
		t.Errorf("3 events with replies: %d tape nodes, want every member recorded", got)
	}
}

// A valid payload is validated without allocating (the tape and the
// scanner's stack are reused).
func TestBytesValidDoesNotAllocate(t *testing.T) {
	data := []byte(ev(`{"type":"attachment","attachment":{"type":"image","url":"https://example.com/a.jpg","mimeType":"image/jpeg"}}`))
	if r := Bytes(data, Options{}); len(r.Findings) != 0 {
		t.Fatalf("findings: %+v", r.Findings)
	}
	if n := testing.AllocsPerRun(100, func() { Bytes(data, Options{}) }); n != 0 {
		t.Errorf("%v allocations per valid payload, want 0", n)
	}
}

// Findings in strings with escapes name the decoded key in their path, as
// before the scanner: a path segment with a bad escape is shown as written.
func TestEscapePaths(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a\u0062":["x","\u0000"]}`, "string-nul@ab[1]"},
		{`{"\ud800":1}`, `string-surrogate@\ud800`},
		{`{"events":[{"message":{"t\"":"\udc00"}}]}`, `string-surrogate@events[0].message.t"`},
	} {
		found := false
		for _, f := range Bytes([]byte(tc.in), Options{Kind: KindWebhook}).Findings {
			found = found || f.Rule+"@"+f.Path == tc.want
		}
		if !found {
			t.Errorf("%s: no %s finding", tc.in, tc.want)
		}
	}
}

// A big document's tape grows to its extrapolated size in one or two
// steps, not by doubling (which left several times its size in garbage).
func TestBigTapeGrowsByEstimate(t *testing.T) {
	doc := `{"channelId":"c","contactId":"x","message":{"type":"quick_reply","title":"t","replies":[` + strings.Repeat(`"a",`, 1<<20) + `"a"]}}`
	c := scanned(t, doc)
	if c.bigGrowths > 2 {
		t.Errorf("the tape grew %d times past %d nodes to %d, want at most 2", c.bigGrowths, bigTape, len(c.tape))
	}
	if cap(c.tape) > len(c.tape)+len(c.tape)/4 {
		t.Errorf("tape cap %d for %d nodes", cap(c.tape), len(c.tape))
	}
}
