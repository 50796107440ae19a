package emulator

import (
	"net"
	"net/url"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
)

// onThisMachine reports whether an attachment URL names this machine by a
// literal (localhost, a loopback address): checking it needs no outside
// network, so it is checked without --fetch-media. No name is resolved.
func onThisMachine(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// checkMedia fetches the headers of the attachment URLs of an accepted
// webhook post (those on this machine; all with Options.FetchMedia) after
// the answer was written, so the
// integration server never waits for it, and records each problem as a
// warning on the message: in the state, the live log and the event stream.
func (e *Emulator) checkMedia(channelID string, wh *channel.Webhook) {
	type job struct{ mid, url, kind string }
	var jobs []job
	for _, ev := range wh.Events {
		if ev.Type != channel.EventMessage && ev.Type != channel.EventEcho {
			continue
		}
		if m := ev.Message; m != nil && m.Type == channel.MessageAttachment && m.Attachment != nil &&
			(e.opts.FetchMedia || onThisMachine(m.Attachment.URL)) {
			jobs = append(jobs, job{ev.MID, m.Attachment.URL, string(m.Attachment.Type)})
		}
	}
	if len(jobs) == 0 {
		return
	}
	e.closeMu.Lock()
	defer e.closeMu.Unlock()
	if e.closed { // Shutdown is waiting on wg: no new work
		return
	}
	e.wg.Add(1)
	contactID := wh.ContactID
	go func() {
		defer e.wg.Done()
		ctx := e.mediaCtx
		for _, j := range jobs {
			ps := e.media.Check(ctx, j.url, j.kind)
			if ctx.Err() != nil {
				return // Shutdown's deadline passed: an interrupted fetch says nothing about the URL
			}
			for _, p := range ps {
				chg := e.store.addWarning(Warning{ChannelID: channelID, ContactID: contactID, MID: j.mid, Rule: p.Rule, Message: p.Message})
				e.bus.publish(chg.events()...)
			}
		}
	}()
}
