package replay

import (
	"context"
	"github.com/ccx-cli/ccx/internal/fault"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/ui"
)

func TestReplayHeaderResigns(t *testing.T) {
	rec := http.Header{
		"Authorization":   {"Bearer aaax…casd"},
		"Content-Length":  {"12"},
		"Connection":      {"keep-alive"},
		"X-Request-Id":    {"r-1"},
		"Accept-Encoding": {"gzip"},
		"Cookie":          {"sid=********"},
		"X-Api-Key":       {"abcd…wxyz"},
	}
	h := Header(rec, cliToken)
	if h.Get("Authorization") != "Bearer "+cliToken || h.Get("X-Request-Id") != "r-1" || h.Get("Content-Type") != "application/json" {
		t.Errorf("%v", h)
	}
	for _, k := range []string{"Content-Length", "Connection", "Accept-Encoding", "Cookie", "X-Api-Key"} {
		if h.Get(k) != "" {
			t.Errorf("%s kept", k)
		}
	}
	if len(h.Values("Authorization")) != 1 {
		t.Errorf("two Authorization headers")
	}
}

func TestRestoreTokenInBody(t *testing.T) {
	red := ui.Redact(cliToken)
	body := []byte(`{"text":"` + red + `"}`)
	if got := string(RestoreToken(body, cliToken)); got != `{"text":"`+cliToken+`"}` {
		t.Errorf("restored %s", got)
	}
	if got := string(RestoreToken(body, "another-token-of-some-length")); got != string(body) {
		t.Errorf("another token changed the body: %s", got)
	}
	if got := string(RestoreToken([]byte(`{"p":"********"}`), "short")); got != `{"p":"********"}` {
		t.Errorf("short token: %s", got)
	}
}

func TestReadRecordsErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := Read(context.Background(), write("empty", "\n\n"), nil); !isFormat(err) {
		t.Errorf("empty: %v", err)
	}
	if _, err := Read(context.Background(), write("bad", `{"method":"POST","body":"{}"}`+"\n"+`{"x":1}`), nil); !isFormat(err) || !strings.Contains(err.Error(), "bad:2:") {
		t.Errorf("bad: %v", err)
	}
	if _, err := Read(context.Background(), filepath.Join(dir, "missing"), nil); !isIO(err) {
		t.Errorf("missing: %v", err)
	}
	calls, err := Read(context.Background(), "-", strings.NewReader(`{"id":"a","method":"POST","body":"{\"k\":1}","bodyBase64":""}`))
	if err != nil || len(calls) != 1 || string(calls[0].Body) != `{"k":1}` {
		t.Errorf("stdin: %v %+v", err, calls)
	}
}

const cliToken = "aaaxczsadzxcasdacxzcasdaaaxczsadzxcasdacxzcasd"

func isFormat(err error) bool {
	k, ok := fault.KindOf(err)
	return ok && k == fault.Usage
}

func isIO(err error) bool {
	k, ok := fault.KindOf(err)
	return ok && k == fault.IO
}
