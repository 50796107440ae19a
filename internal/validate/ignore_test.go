package validate

import (
	"strings"
	"testing"
)

func TestParseIgnore(t *testing.T) {
	set, err := ParseIgnore([]string{"mid-duplicate", " unknown-field "})
	if err != nil || !set[RuleMIDDuplicate] || !set[RuleUnknownField] || len(set) != 2 {
		t.Fatalf("ParseIgnore = %v, %v", set, err)
	}
	if _, err := ParseIgnore([]string{"no-such-rule"}); err == nil || !strings.Contains(err.Error(), `unknown rule "no-such-rule"`) || !strings.Contains(err.Error(), RuleMIDDuplicate) {
		t.Errorf("unknown rule: %v, want the id named and the rules listed", err)
	}
	for _, id := range Unignorable {
		if _, err := ParseIgnore([]string{id}); err == nil || !strings.Contains(err.Error(), "cannot be ignored") {
			t.Errorf("%s: %v, want it refused", id, err)
		}
		if _, ok := RuleSeverity(id); !ok {
			t.Errorf("Unignorable names %q, which is no rule", id)
		}
	}
}

func TestStreamNoMIDsSkipsTheIndex(t *testing.T) {
	body := `{"channelId":"c1","contactId":"u1","events":[{"type":"message","mId":"m1","timestamp":1700000000000,"message":{"type":"text","text":"hi"}}]}`
	in := body + "\n" + body + "\n"
	count := func(o StreamOptions) int {
		n := 0
		if _, err := Stream(strings.NewReader(in), o, func(p Payload) error {
			for _, f := range p.Report.Findings {
				if f.Rule == RuleMIDDuplicate {
					n++
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(StreamOptions{}); n != 1 {
		t.Fatalf("default stream: %d mid-duplicate findings, want 1", n)
	}
	if n := count(StreamOptions{NoMIDs: true}); n != 0 {
		t.Errorf("NoMIDs: %d mid-duplicate findings, want 0", n)
	}
	r := Report{Findings: []Finding{{Rule: RuleMIDDuplicate}, {Rule: RuleUnknownField}, {Rule: RuleMIDDuplicate}}}
	r.Drop(map[string]bool{RuleMIDDuplicate: true})
	if len(r.Findings) != 1 || r.Findings[0].Rule != RuleUnknownField {
		t.Errorf("Drop left %+v", r.Findings)
	}
}
