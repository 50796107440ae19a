package e2e

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/conformance"
	"github.com/ccx-cli/ccx/internal/provider"
)

// verdict is a judge's answer about one piece of content.
type verdict struct {
	v      conformance.Verdict
	reason string
}

func ok() verdict { return verdict{v: conformance.Pass} }

func bad(format string, a ...any) verdict {
	return verdict{conformance.Fail, fmt.Sprintf(format, a...)}
}

func meh(format string, a ...any) verdict {
	return verdict{conformance.Warn, fmt.Sprintf(format, a...)}
}

func (v verdict) apply(r *conformance.Result) {
	switch v.v {
	case conformance.Fail:
		fail(r, "%s", v.reason)
	case conformance.Warn:
		warn(r, "%s", v.reason)
	}
}

// wrongField explains text that is a program's placeholder for a missing value.
func wrongField(text string) string {
	switch strings.TrimSpace(text) {
	case "":
		return " (an empty message)"
	case "undefined", "null", "nil", "None", "[object Object]", "<nil>", "NaN":
		return " (a placeholder for a missing value: the server read the wrong field)"
	}
	return ""
}

// Describe is a one-line summary of a message, for evidence.
func describe(m channel.Message) string {
	switch m.Type {
	case channel.MessageText:
		return fmt.Sprintf("text %q", clip(m.Text, 80))
	case channel.MessageAttachment:
		if m.Attachment == nil {
			return "attachment without a file"
		}
		s := fmt.Sprintf("%s %s", m.Attachment.Type, m.Attachment.URL)
		if m.Attachment.Description != "" {
			s += fmt.Sprintf(" caption %q", clip(m.Attachment.Description, 40))
		}
		return s
	case channel.MessageLocation:
		s := "location"
		if m.Latitude != nil && m.Longitude != nil {
			s += fmt.Sprintf(" %g,%g", *m.Latitude, *m.Longitude)
		}
		if m.Address != "" {
			s += fmt.Sprintf(" %q", clip(m.Address, 40))
		}
		return s
	case channel.MessageQuickReply:
		return fmt.Sprintf("quick_reply %q [%s]", clip(m.Title, 40), strings.Join(m.Replies, " | "))
	case "":
		return "nothing"
	}
	return string(m.Type)
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func judgeText(want string, got channel.Message) verdict {
	switch {
	case got.Type == channel.MessageText && got.Text == want:
		return ok()
	case got.Type == channel.MessageText:
		return bad("the provider received text %q, want %q%s", clip(got.Text, 80), want, wrongField(got.Text))
	}
	return bad("the provider received %s, want text %q", describe(got), want)
}

func judgeAttachment(want *channel.Attachment, got channel.Message) verdict {
	switch got.Type {
	case channel.MessageAttachment:
		a := got.Attachment
		switch {
		case a == nil || a.URL == "":
			return meh("the provider received an attachment without a URL (uploaded?); cannot compare it with %s", want.URL)
		case a.URL != want.URL:
			return meh("the provider received media at %s, not the URL the platform sent (%s)", a.URL, want.URL)
		case want.Description != "" && a.Description != want.Description:
			return meh("the media URL passed, but the caption %q became %q", want.Description, a.Description)
		}
		return ok()
	case channel.MessageText:
		if got.Text == provider.AttachmentText(want) {
			return ok()
		}
		if strings.Contains(got.Text, want.URL) {
			return meh("the provider received %q: the URL passed, but not as the documented fallback %q", clip(got.Text, 80), provider.AttachmentText(want))
		}
		return bad("the provider received text %q and no media URL%s; want the media (%s) or the fallback %q",
			clip(got.Text, 80), wrongField(got.Text), want.URL, provider.AttachmentText(want))
	}
	return bad("the provider received %s, want the attachment %s", describe(got), want.URL)
}

func sameCoord(a *float64, b float64) bool { return a != nil && math.Abs(*a-b) < 1e-6 }

func judgeLocation(want channel.Message, got channel.Message) verdict {
	lat, lng := *want.Latitude, *want.Longitude
	switch got.Type {
	case channel.MessageLocation:
		if !sameCoord(got.Latitude, lat) || !sameCoord(got.Longitude, lng) {
			return bad("the provider received %s, want %g,%g", describe(got), lat, lng)
		}
		if want.Address != "" && got.Address == "" {
			return meh("the coordinates passed, but the address %q was dropped", want.Address)
		}
		return ok()
	case channel.MessageText:
		fallback := provider.LocationText(want)
		if got.Text == fallback {
			return ok()
		}
		la, lo := strconv.FormatFloat(lat, 'f', -1, 64), strconv.FormatFloat(lng, 'f', -1, 64)
		if strings.Contains(got.Text, la) && strings.Contains(got.Text, lo) || want.Address != "" && strings.Contains(got.Text, want.Address) {
			return meh("the provider received %q, not the documented fallback %q", clip(got.Text, 80), fallback)
		}
		return bad("the location was dropped: the provider received text %q%s; want a location or %q", clip(got.Text, 80), wrongField(got.Text), fallback)
	}
	return bad("the provider received %s, want the location %g,%g", describe(got), lat, lng)
}

func judgeQuickReply(want channel.Message, got channel.Message) verdict {
	switch got.Type {
	case channel.MessageQuickReply:
		if got.Title != want.Title || strings.Join(got.Replies, "\x00") != strings.Join(want.Replies, "\x00") {
			return bad("the provider received %s, want %s", describe(got), describe(want))
		}
		return ok()
	case channel.MessageText:
		fallback := provider.QuickReplyText(want)
		if got.Text == fallback {
			return ok()
		}
		missing := []string{}
		for _, s := range append([]string{want.Title}, want.Replies...) {
			if !strings.Contains(got.Text, s) {
				missing = append(missing, strconv.Quote(s))
			}
		}
		if len(missing) == 0 {
			return meh("the provider received %q, not the documented numbered list %q", clip(got.Text, 80), fallback)
		}
		return bad("the quick reply lost %s: the provider received text %q%s", strings.Join(missing, ", "), clip(got.Text, 80), wrongField(got.Text))
	}
	return bad("the provider received %s, want %s", describe(got), describe(want))
}

// normAddr compares addresses across forms: +E.164, whatsapp:+E.164, digits.
func normAddr(a string) string {
	a = strings.TrimSpace(a)
	for _, p := range []string{"whatsapp:", "tel:", "sms:"} {
		a = strings.TrimPrefix(a, p)
	}
	return strings.TrimPrefix(a, "+")
}

// isProviderID says whether the mId the server returned is the provider's
// id for the send (as ccx relay does), in any of the usual forms.
func isProviderID(mid, id string) bool {
	if id == "" || mid == "" {
		return false
	}
	return mid == id || mid == provider.MID(id) || strings.HasSuffix(mid, ":"+id) || len(id) >= 8 && strings.Contains(mid, id)
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Host
}

// cleanErr drops the URL from a transport error (it may hold a secret).
func cleanErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("no answer in time (timeout)")
	}
	return err
}

// mentions reports whether msg names one of the words (case-insensitive).
func mentions(msg string, words ...string) bool {
	low := strings.ToLower(msg)
	for _, w := range words {
		if w = strings.ToLower(strings.TrimSpace(w)); len(w) >= 3 && strings.Contains(low, w) {
			return true
		}
	}
	return false
}
