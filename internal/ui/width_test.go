package ui

import (
	"strings"
	"testing"
)

func TestWrapHangingIndent(t *testing.T) {
	in := "12:00:00  --> c1  POST /message  +60123  text \"the quick brown fox jumps over the lazy dog again and again\"  auth ok\n"
	got := Wrap(in, 40, 12)
	for _, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		if w := len([]rune(l)); w > 40 {
			t.Errorf("line %q is %d columns, want ≤ 40", l, w)
		}
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "12:00:00  --> c1") {
		t.Fatalf("not wrapped:\n%s", got)
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, strings.Repeat(" ", 12)) || l[12] == ' ' {
			t.Errorf("continuation %q is not indented by 12", l)
		}
	}
	if !strings.HasSuffix(got, "auth ok\n") {
		t.Errorf("lost the end or the newline: %q", got)
	}
	if strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(in), " ") {
		t.Errorf("words changed:\n%s", got)
	}
	if Wrap(in, 0, 12) != in {
		t.Error("width 0 (not a terminal) changed the line")
	}
}

func TestPlural(t *testing.T) {
	for _, c := range []struct {
		n    int
		want string
	}{{0, "0 warnings"}, {1, "1 warning"}, {2, "2 warnings"}} {
		if got := Plural(c.n, "warning"); got != c.want {
			t.Errorf("Plural(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	if got := Plural(1, "reply", "replies"); got != "1 reply" {
		t.Errorf("got %q", got)
	}
	if got := Plural(3, "reply", "replies"); got != "3 replies" {
		t.Errorf("got %q", got)
	}
}

func TestTableFitsWidth(t *testing.T) {
	tb := Table{MinWidths: []int{8}}
	tb.Row("CHECK", "RESULT", "EVIDENCE")
	tb.Row("auth-ok", "PASS", "200 {\"mId\":\"abc\"} and a long explanation of what the server answered, word by word")
	tb.Row("", "", "↳ short")
	plain := tb.Render(0)
	want := "CHECK    RESULT EVIDENCE\nauth-ok  PASS   200 {\"mId\":\"abc\"} and a long explanation of what the server answered, word by word\n                ↳ short\n"
	if plain != want {
		t.Fatalf("plain:\n%q\nwant\n%q", plain, want)
	}
	if tb.Render(200) != plain {
		t.Error("a table that fits changed on a wide terminal")
	}
	got := tb.Render(50)
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) < 4 {
		t.Fatalf("not wrapped:\n%s", got)
	}
	for _, l := range lines {
		if w := len([]rune(l)); w > 50 {
			t.Errorf("line %q is %d columns, want ≤ 50", l, w)
		}
	}
	// The evidence goes on under its own column.
	col := strings.Index(lines[1], "200")
	if col < 0 || !strings.HasPrefix(lines[2], strings.Repeat(" ", col)) || lines[2][col] == ' ' {
		t.Errorf("evidence does not continue under its column:\n%s", got)
	}
}

func TestWidthOnlyOnATerminal(t *testing.T) {
	io, _, _, _ := Test()
	io.SetWidth(60)
	if io.Width() != 0 {
		t.Error("a pipe has a width")
	}
	io.SetStdoutTTY(true)
	if io.Width() != 60 {
		t.Errorf("width %d, want 60", io.Width())
	}
}
