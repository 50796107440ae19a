package emulator

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
)

// The state file is for people too: text is written as sent, and it reads
// back the same.
func TestStateFileNotHTMLEscaped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.json")
	st := &State{Messages: []Message{{Seq: 1, ChannelID: "c", ContactID: "+60177872890", Type: channel.MessageText,
		Content: channel.Text("<b>Tom & Jerry</b>"), Status: channel.StatusValue("received")}}}
	if err := writeStateFile(path, st); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"text": "<b>Tom & Jerry</b>"`) || strings.Contains(string(b), `\u003c`) {
		t.Errorf("state file:\n%s", b)
	}
}
