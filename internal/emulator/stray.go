package emulator

import (
	"fmt"
	"io"
	"net/http"
	"strings"
)

// handleStray answers a request (any method but GET, HEAD and OPTIONS) to a
// path no route owns. Integration servers post to copied or guessed paths
// (/custom/webhook from the platform's example repository, the channel ID
// appended, /webhook): each gets a JSON 404 naming the right path, and is
// logged like a webhook post, body included, so the mistake is visible.
func (e *Emulator) handleStray(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, e.maxBody))
	rec := webhookRecord(w)
	if rec != nil {
		rec.body = body
		rec.ChannelID, rec.ContactID, rec.Events = peekWebhook(body)
	}
	msg := e.strayMessage(r, rec)
	ev := Event{Kind: EventWebhookRejected, Method: r.Method, HTTPStatus: http.StatusNotFound, Summary: msg}
	if rec != nil {
		ev.ChannelID, ev.ContactID = rec.ChannelID, rec.ContactID
		if len(rec.Events) > 0 {
			ev.MID = rec.Events[0].MID
		}
	}
	writeError(w, http.StatusNotFound, msg, nil)
	e.bus.publish(ev)
}

// strayMessage names the right path when the request looks like a webhook
// post; otherwise it says what this address serves.
func (e *Emulator) strayMessage(r *http.Request, rec *RequestRecord) string {
	path := r.URL.EscapedPath()
	lower := strings.ToLower(path)
	what := fmt.Sprintf("no route %s %s", r.Method, path)
	want := "did you mean POST " + WebhookPath + "?"
	segs := strings.FieldsFunc(path, func(c rune) bool { return c == '/' })
	for _, s := range segs {
		if _, ok := e.channelByID(s); ok {
			return fmt.Sprintf("%s: %s The channel ID goes in the body (\"channelId\"), not in the path.", what, want)
		}
	}
	if len(segs) > 0 && strings.EqualFold(segs[len(segs)-1], "message") {
		return fmt.Sprintf("%s: %s %s/message is your integration server's endpoint, which the platform calls; your server posts its events to the webhook.", what, want, "<API base URL>")
	}
	if strings.Contains(lower, "webhook") || strings.Contains(lower, "custom") || strings.Contains(lower, "channel") {
		return fmt.Sprintf("%s: %s", what, want)
	}
	if _, ok := bearer(r.Header.Get("Authorization")); ok {
		return fmt.Sprintf("%s: %s (the request carries a Bearer token, like a webhook post)", what, want)
	}
	if rec != nil && (rec.ChannelID != "" || len(rec.Events) > 0) {
		return fmt.Sprintf("%s: %s (the body has channelId or events, like a webhook post)", what, want)
	}
	return fmt.Sprintf("%s on this emulator: integration servers POST events to %s, and its API is under %s", what, WebhookPath, APIPrefix)
}
