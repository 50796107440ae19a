package channel

import (
	"net"
	"net/url"
	"strings"
)

// WebhookPath is the path of the documented webhook URL (spec §2.1).
const WebhookPath = "/custom/channel/webhook/"

// WebhookURLWarning sanity-checks a webhook URL as it is entered (init,
// config set, send --webhook-url) and returns a warning, "" when it looks
// like the documented form. It never refuses: self-hosted platforms exist.
// Loopback hosts are the user's own fakes and sinks: only a path that is a
// near miss of the webhook path (it mentions "webhook" or "custom") is
// flagged there. A URL that does not parse is left to the caller's check.
func WebhookURLWarning(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	local := isLoopbackHost(host)
	path := u.Path
	if path == "" {
		path = "/"
	}
	var why []string
	if !local && host != "respond.io" && !strings.HasSuffix(host, ".respond.io") {
		why = append(why, "host "+host+" is not respond.io's (webhook.respond.io or app.respond.io); fine for a self-hosted platform, otherwise copy the URL from the channel's settings")
	}
	switch {
	case path == WebhookPath:
	case path == strings.TrimSuffix(WebhookPath, "/"):
		if !local {
			why = append(why, "the documented path ends in a slash: "+WebhookPath)
		}
	case strings.HasPrefix(path, WebhookPath):
		why = append(why, "path "+path+" goes below "+WebhookPath+"; the channel is named by the body's channelId, never in the path")
	case local && !strings.Contains(strings.ToLower(path), "webhook") && !strings.Contains(strings.ToLower(path), "custom"):
		// a local sink or fake with a path of its own
	default:
		hint := ""
		if strings.EqualFold(strings.TrimSuffix(path, "/"), "/custom/webhook") {
			hint = " (/custom/webhook is the path of an old example repository, not the platform's)"
		}
		why = append(why, "path "+path+" is not the documented "+WebhookPath+hint)
	}
	if u.Scheme == "http" && !local && host != "" {
		why = append(why, "plain http sends the API token unencrypted")
	}
	if len(why) == 0 {
		return ""
	}
	return "webhook URL " + u.Redacted() + ": " + strings.Join(why, "; ") + ". The documented form is " + DefaultWebhookURL
}

func isLoopbackHost(h string) bool {
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
