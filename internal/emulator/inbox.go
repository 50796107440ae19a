package emulator

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/ui"
)

// Conversation is one contact's messages, for the inbox view.
type Conversation struct {
	Contact  Contact   `json:"contact"`
	Messages []Message `json:"messages"`
}

// Conversations groups st by contact, oldest conversation first (by first
// message), messages in arrival order. contactID filters ("" for all).
func Conversations(st State, channelID, contactID string) []Conversation {
	var out []Conversation
	idx := map[contactKey]int{}
	for _, c := range st.Contacts {
		if (channelID != "" && c.ChannelID != channelID) || (contactID != "" && c.ID != contactID) {
			continue
		}
		idx[contactKey{c.ChannelID, c.ID}] = len(out)
		out = append(out, Conversation{Contact: c, Messages: []Message{}})
	}
	for _, m := range st.Messages {
		if i, ok := idx[contactKey{m.ChannelID, m.ContactID}]; ok {
			out[i].Messages = append(out[i].Messages, m)
		}
	}
	first := func(c Conversation) int64 {
		if len(c.Messages) == 0 {
			return 1<<63 - 1
		}
		return c.Messages[0].Seq
	}
	sort.SliceStable(out, func(i, j int) bool { return first(out[i]) < first(out[j]) })
	return out
}

// WriteInbox prints conversations the way an inbox shows them: one block per
// contact, one line per message (→ outgoing, ← incoming) with its status and
// status timeline, then the warnings.
func WriteInbox(w io.Writer, st State, convs []Conversation, s ui.Styles) {
	if len(convs) == 0 {
		fmt.Fprintln(w, "No conversations yet.")
	}
	for i, c := range convs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		name := contactName(c.Contact)
		fmt.Fprintf(w, "%s %s%s  %s\n", s.Bold.Render("Contact"), s.Bold.Render(c.Contact.ID), name,
			s.Dim.Render(fmt.Sprintf("channel %s · %s", c.Contact.ChannelID, ui.Plural(len(c.Messages), "message"))))
		for _, m := range c.Messages {
			fmt.Fprintf(w, "  %s\n", MessageLine(m, s))
			if len(m.Timeline) > 1 || m.Reason != "" {
				parts := make([]string, 0, len(m.Timeline))
				for _, t := range m.Timeline {
					p := string(t.Status)
					if t.Reason != "" {
						p += " (" + t.Reason + ")"
					}
					if !t.Applied {
						p += " [ignored]"
					}
					parts = append(parts, p)
				}
				fmt.Fprintf(w, "      %s\n", s.Dim.Render(strings.Join(parts, " → ")))
			}
		}
	}
	if len(st.Warnings) > 0 {
		fmt.Fprintf(w, "\n%s\n", s.Warning.Render(ui.Plural(len(st.Warnings), "warning")+":"))
		for _, wn := range st.Warnings {
			fmt.Fprintf(w, "  %s %s\n", s.Warning.Render("!"), wn.Message)
		}
	}
}

// MessageLine is one message as the inbox lists it: time, direction (←
// from the contact, → to it), content, status and mId.
func MessageLine(m Message, s ui.Styles) string {
	arrow := s.Info.Render("←")
	if m.Direction == Out {
		arrow = s.OK.Render("→")
	}
	origin := ""
	if m.Origin == OriginEcho {
		origin = s.Dim.Render(" (echo)")
	}
	line := fmt.Sprintf("%s %s %s%s  %s", s.Dim.Render(stamp(m.Timestamp)), arrow, Describe(m.Content), origin, statusStyle(s, m.Status).Render(string(m.Status)))
	if m.MID != "" {
		line += "  " + s.Dim.Render("mId "+m.MID)
	}
	return line
}

func contactName(c Contact) string {
	if c.Profile == nil {
		return ""
	}
	n := strings.TrimSpace(c.Profile.FirstName + " " + c.Profile.LastName)
	if n == "" {
		return ""
	}
	return " (" + n + ")"
}

func stamp(ms int64) string {
	if ms <= 0 {
		return "--:--:--"
	}
	return time.UnixMilli(ms).Local().Format("15:04:05")
}

func statusStyle(s ui.Styles, v channel.StatusValue) interface{ Render(...string) string } {
	switch v {
	case channel.StatusFailed:
		return s.Error
	case channel.StatusRead, channel.StatusDelivered:
		return s.OK
	}
	return s.Dim
}
