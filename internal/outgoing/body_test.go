package outgoing

import (
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
)

// A /message body ccx builds shows text as typed: no \u003c for "<".
func TestBodyNotHTMLEscaped(t *testing.T) {
	b := string(Body("ch", "+60123456789", channel.Text("<b>hi</b> & bye")))
	if !strings.Contains(b, `"text":"<b>hi</b> & bye"`) || strings.Contains(b, `\u003c`) {
		t.Errorf("body %s", b)
	}
}
