package prompt

import (
	"errors"
	"testing"
)

var _ Prompter = (*Survey)(nil)
var _ Prompter = (*Fake)(nil)

func TestFakeRetypesRejectedAnswers(t *testing.T) {
	f := &Fake{Answers: map[string][]string{
		"Channel ID": {"", "abc"},
		"Kind":       {"nope", "b"},
		"Sure":       {"y"},
		"Name":       {""},
	}}
	notEmpty := func(s string) error {
		if s == "" {
			return errors.New("required")
		}
		return nil
	}
	got, err := f.Input("Channel ID", "", notEmpty)
	if err != nil || got != "abc" {
		t.Fatalf("Input = %q, %v", got, err)
	}
	sel, err := f.Select("Kind?", []string{"a", "b"}, "a")
	if err != nil || sel != "b" {
		t.Fatalf("Select = %q, %v", sel, err)
	}
	ok, _ := f.Confirm("Sure?", false)
	if !ok {
		t.Error("Confirm y = false")
	}
	name, _ := f.Input("Name", "default", nil)
	if name != "default" {
		t.Errorf("empty answer should take the default, got %q", name)
	}
	if len(f.Rejected) != 2 || len(f.Asked) != 6 {
		t.Errorf("rejected=%v asked=%v", f.Rejected, f.Asked)
	}
	if _, err := f.Password("Unscripted", nil); err == nil {
		t.Error("an unscripted question should fail, not hang")
	}
}
