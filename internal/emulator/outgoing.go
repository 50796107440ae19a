package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	neturl "net/url"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/tidwall/gjson"
)

// Errors of Send that stop before any call is made.
var (
	ErrUnknownChannel = errors.New("unknown channel")
	ErrNoAPIBaseURL   = errors.New("the channel has no API base URL")
	ErrNoContact      = errors.New("no contact to send to")
	// ErrCannotStart: with Custom ID channels the contact must write first (spec §1.2).
	ErrCannotStart = errors.New("a Custom ID channel cannot start a conversation")
)

// InvalidMessageError is an outgoing message the platform would not send.
type InvalidMessageError struct {
	Findings []validate.Finding
}

func (e *InvalidMessageError) Error() string {
	var errs []validate.Finding
	for _, f := range e.Findings {
		if f.Severity == validate.Error {
			errs = append(errs, f)
		}
	}
	return "invalid outgoing message: " + summarize(errs)
}

// maxReplyBody bounds what is read of the server's answer.
const maxReplyBody = 1 << 20

// Send makes the emulator do what the platform does when an agent sends a
// message: POST {channelId, contactId, message} to <APIBaseURL>/message with
// the channel's Bearer token, judge the reply and store the outcome. A
// rejected or unreachable server is not a Go error: the returned message has
// status failed and the reason. An empty contactID picks the channel's most
// recently active contact.
func (e *Emulator) Send(ctx context.Context, channelID, contactID string, m channel.Message) (Message, error) {
	if channelID == "" {
		channelID = e.channels[0].ID
	}
	ch, ok := e.channelByID(channelID)
	if !ok {
		return Message{}, fmt.Errorf("%w %q", ErrUnknownChannel, channelID)
	}
	if ch.APIBaseURL == "" {
		return Message{}, fmt.Errorf("%w: set it (ccx emulate --server URL) to where your integration server listens", ErrNoAPIBaseURL)
	}
	if contactID == "" {
		id, ok := e.store.latestContact(ch.ID)
		if !ok {
			return Message{}, fmt.Errorf("%w: channel %s has no contacts yet; name one (--to)", ErrNoContact, ch.ID)
		}
		contactID = id
	}
	if ch.IDType == channel.IDCustom && !e.store.hasContact(ch.ID, contactID) {
		return Message{}, fmt.Errorf("%w: contact %q has not written yet", ErrCannotStart, contactID)
	}
	req := channel.OutgoingRequest{ChannelID: ch.ID, ContactID: contactID, Message: m}
	body, err := json.Marshal(req)
	if err != nil {
		return Message{}, fmt.Errorf("encode the outgoing message: %w", err)
	}
	if rep := validate.Bytes(body, validate.Options{Kind: validate.KindMessage, IDType: ch.IDType, ChannelID: ch.ID}); rep.HasErrors() {
		return Message{}, &InvalidMessageError{Findings: rep.Findings}
	}
	if lim := e.outLim[ch.ID]; lim != nil {
		if err := lim.Wait(ctx); err != nil {
			return Message{}, err
		}
	}
	stored := Message{ChannelID: ch.ID, ContactID: contactID, Direction: Out, Origin: OriginPlatform,
		Type: m.Type, Content: m, Timestamp: channel.NowMillis()}
	reply, mid, reason := e.call(ctx, ch, body)
	stored.Reply = reply
	if reason == "" {
		stored.MID, stored.Status = mid, channel.StatusSent
	} else {
		stored.Status, stored.Reason = channel.StatusFailed, reason
	}
	stored.Timeline = []StatusChange{{Status: stored.Status, Reason: reason, Timestamp: channel.NowMillis(), Applied: true}}
	out, chg := e.store.addOutgoing(stored)
	e.bus.publish(chg.events()...)
	return out, nil
}

// call POSTs one outgoing request and judges the answer: it returns the mId
// on success, or the failure reason a platform user would see.
func (e *Emulator) call(ctx context.Context, ch Channel, body []byte) (*ReplyInfo, string, string) {
	url := strings.TrimRight(ch.APIBaseURL, "/") + channel.MessagePath
	info := &ReplyInfo{}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return info, "", fmt.Sprintf("bad API base URL %q: %v", ch.APIBaseURL, err)
	}
	req.Header.Set("Authorization", "Bearer "+ch.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ccx-emulator")
	start := time.Now()
	resp, err := e.client.Do(req)
	info.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		var ue *neturl.Error
		if errors.As(err, &ue) {
			err = ue.Err // it repeats the method and URL
		}
		return info, "", fmt.Sprintf("POST %s: %v", url, scrub(err.Error(), ch.Token))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBody))
	info.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	info.HTTPStatus = resp.StatusCode
	info.Body = scrub(string(data), ch.Token)
	if err != nil {
		return info, "", fmt.Sprintf("reading the reply of POST %s: %v", url, err)
	}
	rep := validate.Bytes(data, validate.Options{Kind: validate.KindReply, ReplyStatus: resp.StatusCode})
	info.Findings = rep.Findings
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		mid := gjson.GetBytes(data, "mId")
		switch {
		case !gjson.ValidBytes(data):
			return info, "", fmt.Sprintf("HTTP %d with a body that is not JSON; the platform needs {\"mId\": ...}", resp.StatusCode)
		case mid.Type != gjson.String || mid.Str == "":
			return info, "", fmt.Sprintf("HTTP %d without a string \"mId\"; the platform needs {\"mId\": ...}", resp.StatusCode)
		case len(mid.Str) > channel.MaxMIDLen:
			return info, "", fmt.Sprintf("HTTP %d with an mId of %d characters; the maximum is %d", resp.StatusCode, len(mid.Str), channel.MaxMIDLen)
		case rep.HasErrors():
			return info, "", fmt.Sprintf("HTTP %d with an invalid reply: %s", resp.StatusCode, summarize(errorsOf(rep)))
		}
		return info, mid.Str, ""
	}
	if msg := gjson.GetBytes(data, "error.message"); msg.Exists() && msg.String() != "" {
		return info, "", fmt.Sprintf("HTTP %d: %s", resp.StatusCode, scrub(msg.String(), ch.Token))
	}
	excerpt := strings.TrimSpace(info.Body)
	if len(excerpt) > 200 {
		excerpt = excerpt[:200] + "…"
	}
	if excerpt == "" {
		excerpt = http.StatusText(resp.StatusCode)
	}
	return info, "", fmt.Sprintf("HTTP %d without {\"error\":{\"message\":...}}: %s", resp.StatusCode, excerpt)
}

func errorsOf(r validate.Report) []validate.Finding {
	var out []validate.Finding
	for _, f := range r.Findings {
		if f.Severity == validate.Error {
			out = append(out, f)
		}
	}
	return out
}

// scrub keeps the channel token out of anything stored or shown.
func scrub(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "[token]")
}
