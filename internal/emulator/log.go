package emulator

import (
	"fmt"
	"strings"

	"github.com/ccx-cli/ccx/internal/ui"
)

// FormatEvent renders one event as a human log line (the live log of `ccx
// emulate` on a terminal; --json prints the Event itself).
func FormatEvent(ev Event, s ui.Styles) string {
	ts := s.Dim.Render(ev.Time.Local().Format("15:04:05.000"))
	who := ""
	if ev.ContactID != "" {
		who = " " + s.Bold.Render(ev.ContactID)
	}
	mid := ""
	if ev.MID != "" {
		mid = " " + s.Dim.Render("mId "+ev.MID)
	}
	var tag, text string
	switch ev.Kind {
	case EventWebhookAccepted:
		tag, text = s.OK.Render("POST 200"), "webhook "+ev.Summary
	case EventWebhookRejected:
		method := ev.Method
		if method == "" {
			method = "POST"
		}
		tag, text = s.Error.Render(fmt.Sprintf("%s %d", method, ev.HTTPStatus)), "webhook rejected: "+ev.Summary
		for _, f := range ev.Findings {
			text += fmt.Sprintf("\n      %s %s: %s (%s)", f.Severity, pathOrBody(f.Path), f.Message, f.Rule)
		}
	case EventContactCreated:
		tag, text = s.Info.Render("contact"), "created"
		if ev.Contact != nil {
			text += contactName(*ev.Contact)
		}
	case EventMessageReceived:
		tag, text = s.Info.Render("   ← in"), ev.Summary
	case EventMessageEcho:
		tag, text = s.Info.Render(" → echo"), ev.Summary
	case EventStatusChanged:
		tag, text = s.Info.Render(" status"), ev.Summary
	case EventOutgoingSent:
		tag, text = s.OK.Render("  → out"), fmt.Sprintf("%s (server answered %d)", ev.Summary, ev.HTTPStatus)
	case EventOutgoingFailed:
		tag, text = s.Error.Render("  → out"), "FAILED: "+ev.Summary
	case EventWarning:
		tag, text = s.Warning.Render("warning"), ev.Summary
	case EventCustomerMessage, EventProviderSend, EventProviderReceipt, EventPhoneLinked:
		tag, text = providerTag(ev, s), ev.Summary
		if ev.Phone != nil && ev.Phone.Flow != "" {
			text += " " + s.Dim.Render("["+ev.Phone.Flow+"]")
		}
	default:
		tag, text = string(ev.Kind), ev.Summary
	}
	return strings.TrimRight(fmt.Sprintf("%s %s%s %s%s", ts, tag, who, text, mid), " ")
}

// providerTag marks provider-face lines, red when the hop failed.
func providerTag(ev Event, s ui.Styles) string {
	failed := false
	if p := ev.Phone; p != nil {
		switch ev.Kind {
		case EventCustomerMessage:
			failed = p.Webhook != nil && p.Webhook.Error != ""
		case EventProviderSend:
			failed = p.API != nil && !p.API.Accepted
		case EventProviderReceipt:
			failed = len(p.Receipts) > 0 && p.Receipts[len(p.Receipts)-1].Error != ""
		}
	}
	tag := map[EventKind]string{EventCustomerMessage: "customer", EventProviderSend: "provider", EventProviderReceipt: " receipt", EventPhoneLinked: "  linked"}[ev.Kind]
	if failed {
		return s.Error.Render(tag)
	}
	return s.Info.Render(tag)
}
