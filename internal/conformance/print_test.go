package conformance

import (
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/ui"
)

func TestPrintTable(t *testing.T) {
	io, _, out, _ := ui.Test()
	PrintTable(out, io.Styles(out), 0, []Result{
		{ID: "text", Verdict: Pass, Status: 200, Body: `{"mId":"a"}`, LatencyMS: 1.5},
		{ID: "auth-missing", Verdict: Fail, Security: true, Status: 200, Body: "{\n \"mId\": \"b\"}", Reason: "SECURITY: accepted"},
		{ID: "bad-json", Verdict: Fail, Error: "no answer within 1s (timeout)", Reason: "the server did not answer in time"},
	}, 1, 2, 0, 0)
	s := out.String()
	for _, want := range []string{
		"CHECK             RESULT EVIDENCE",
		"text              PASS   200 {\"mId\":\"a\"}  1.5ms",
		"auth-missing      FAIL   200 { \"mId\": \"b\"}",
		"↳ SECURITY: accepted",
		"bad-json          FAIL   no answer within 1s (timeout)",
		"1 passed, 2 failed, 0 warnings, 0 skipped",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in\n%s", want, s)
		}
	}
}

// Ids longer than the column widen it for every row.
func TestPrintTableWideIDs(t *testing.T) {
	io, _, out, _ := ui.Test()
	PrintTable(out, io.Styles(out), 0, []Result{
		{ID: "in-platform-down", Verdict: Pass, Body: "delivered"},
		{ID: "fail-provider-error", Verdict: Fail, Reason: "/message answered 200"},
	}, 1, 1, 0, 0)
	s := out.String()
	for _, want := range []string{
		"CHECK               RESULT EVIDENCE",
		"in-platform-down    PASS   delivered",
		"fail-provider-error FAIL   ",
		"                           ↳ /message answered 200",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("missing %q in\n%s", want, s)
		}
	}
}

// On a narrow terminal the evidence wraps under its own column; the
// summary says "1 warning".
func TestPrintTableNarrowTerminal(t *testing.T) {
	io, _, out, _ := ui.Test()
	io.SetStdoutTTY(true)
	io.SetWidth(60)
	PrintTable(out, io.Styles(out), io.Width(), []Result{
		{ID: "bad-json", Verdict: Fail, Error: "no answer within 1s (timeout): dial tcp 127.0.0.1:3030: connect: connection refused"},
		{ID: "text", Verdict: Warn, Status: 200, Body: `{"mId":"a"}`, LatencyMS: 1.5},
	}, 0, 1, 1, 0)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	for _, l := range lines {
		if w := len([]rune(l)); w > 60 {
			t.Errorf("line %q is %d columns, want ≤ 60", l, w)
		}
	}
	if len(lines) != 6 || !strings.HasPrefix(lines[1], "bad-json          FAIL   no answer") ||
		!strings.HasPrefix(lines[2], strings.Repeat(" ", 25)+"tcp") {
		t.Errorf("evidence not wrapped under its column:\n%s", out)
	}
	if lines[5] != "0 passed, 1 failed, 1 warning, 0 skipped" {
		t.Errorf("summary %q", lines[5])
	}
}
