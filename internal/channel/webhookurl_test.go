package channel

import (
	"strings"
	"testing"
)

func TestWebhookURLWarning(t *testing.T) {
	tests := []struct {
		url  string
		want []string // substrings; nil: no warning
	}{
		{"https://webhook.respond.io/custom/channel/webhook/", nil},
		{"https://app.respond.io/custom/channel/webhook/", nil},
		{"http://127.0.0.1:4747/custom/channel/webhook/", nil},
		{"http://127.0.0.1:4747/custom/channel/webhook", nil}, // the emulator takes both
		{"http://127.0.0.1:9/", nil},                          // a local sink
		{"http://localhost:8080/w", nil},
		{"https://app.respond.io/custom/webhook", []string{"path /custom/webhook is not the documented /custom/channel/webhook/", "old example repository", "The documented form is " + DefaultWebhookURL}},
		{"http://127.0.0.1:4747/custom/webhook", []string{"path /custom/webhook is not the documented"}},
		{"https://webhook.respond.io/custom/channel/webhook", []string{"ends in a slash"}},
		{"https://webhook.respond.io/custom/channel/webhook/gfd8g7fd89dgfd", []string{"never in the path"}},
		{"https://app.IS-Messenger/custom/channel/webhook/", []string{"host app.is-messenger is not respond.io's", "self-hosted"}},
		{"http://chat.example.com/custom/channel/webhook/", []string{"not respond.io's", "plain http"}},
		{"https://user:secret@webhook.respond.io/x", []string{"user:xxxxx@", "path /x"}},
		{"not a url", nil},
		{"ftp://webhook.respond.io/", nil}, // refused elsewhere
	}
	for _, tt := range tests {
		got := WebhookURLWarning(tt.url)
		if tt.want == nil {
			if got != "" {
				t.Errorf("%s: unexpected warning %q", tt.url, got)
			}
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: warning %q lacks %q", tt.url, got, w)
			}
		}
		if strings.Contains(got, "secret") {
			t.Errorf("%s: password in %q", tt.url, got)
		}
	}
}
