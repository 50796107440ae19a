package emulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/outgoing"
	"github.com/ccx-cli/ccx/internal/ui"
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
	body, err := ui.Marshal(req)
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
	// With a provider fake on this channel, the sends the server makes
	// while answering belong to this call's flow.
	var fl *callInfo
	if prov := e.providerOf(ch.ID); prov != "" {
		fl = e.side.startCall(ch.ID, contactID, prov)
	}
	// Receipts for the mId this call returns may arrive before its reply
	// is read; the webhook holds them until the outcome is stored.
	endOut := e.store.beginOutgoing(ch.ID)
	defer endOut()
	reply, mid, reason := e.call(ctx, ch, body, fl)
	stored.Reply = reply
	if reason == "" {
		stored.MID, stored.Status = mid, channel.StatusSent
	} else {
		stored.Status, stored.Reason = channel.StatusFailed, reason
	}
	stored.Timeline = []StatusChange{{Status: stored.Status, Reason: reason, Timestamp: channel.NowMillis(), Applied: true}}
	out, chg := e.store.addOutgoing(stored)
	e.bus.publish(chg.events()...)
	if fl != nil {
		for _, pm := range e.side.endCall(fl, out.MID) {
			e.bus.publish(Event{Kind: EventPhoneLinked, ChannelID: pm.ChannelID, ContactID: pm.ContactID, MID: pm.MID, Provider: pm.Provider,
				Summary: fmt.Sprintf("%s id %s tied to the /message reply", pm.Provider, pm.ProviderID), Phone: &pm})
		}
	}
	return out, nil
}

// providerOf names the (first) provider fake attached to the channel, or "".
func (e *Emulator) providerOf(channelID string) string {
	for _, name := range e.hubOrder {
		if e.hubs[name].channel.ID == channelID {
			return name
		}
	}
	return ""
}

// call POSTs one outgoing request through the shared platform-side client
// (internal/outgoing, also used by trigger and check) and judges the answer
// with its Judge: it returns the mId on success, or the failure reason a
// platform user would see.
func (e *Emulator) call(ctx context.Context, ch Channel, body []byte, fl *callInfo) (*ReplyInfo, string, string) {
	c := &outgoing.Client{BaseURL: ch.APIBaseURL, Token: ch.Token, Timeout: e.outTimeout, HTTP: e.client}
	rec := RequestRecord{Time: time.Now().UTC(), Kind: RequestMessage, ChannelID: ch.ID, Method: http.MethodPost,
		URL: ch.APIBaseURL, Header: c.DefaultHeader(), body: body}
	if fl != nil {
		rec.Flows = []string{fl.flow}
	}
	var res *outgoing.Result
	info, mid, reason := e.doCall(ctx, c, ch, body, &res)
	if res != nil {
		rec.URL, rec.Status, rec.ReplyHeader = res.URL, res.Status, res.Header.Clone()
		rec.ReplyBody, _ = clipBody([]byte(scrub(string(res.Body), ch.Token)))
		rec.LatencyMS = info.LatencyMS
	}
	rec.Findings, rec.Error = info.Findings, reason
	e.logRequest(ctx, rec)
	return info, mid, reason
}

func (e *Emulator) doCall(ctx context.Context, c *outgoing.Client, ch Channel, body []byte, resp **outgoing.Result) (*ReplyInfo, string, string) {
	info := &ReplyInfo{}
	res, err := c.Do(ctx, outgoing.Request{Body: body})
	if err != nil {
		return info, "", fmt.Sprintf("bad API base URL: %v", err)
	}
	*resp = res
	info.URL = res.URL
	info.LatencyMS = float64(res.Latency.Microseconds()) / 1000
	if res.Err != nil {
		info.Verdict = res.Verdict(nil)
		return info, "", fmt.Sprintf("POST %s: %v", res.URL, scrub(res.Err.Error(), ch.Token))
	}
	info.HTTPStatus = res.Status
	info.Body = scrub(string(res.Body), ch.Token)
	info.Findings = outgoing.Judge(res.Status, res.Header, res.Body)
	info.Verdict = res.Verdict(info.Findings)
	errs := make([]validate.Finding, 0)
	for _, f := range info.Findings {
		if f.Severity == validate.Error {
			errs = append(errs, f)
		}
	}
	if res.Status == http.StatusOK && len(errs) == 0 {
		return info, gjson.GetBytes(res.Body, "mId").Str, ""
	}
	if msg := gjson.GetBytes(res.Body, "error.message"); msg.Type == gjson.String && msg.Str != "" {
		return info, "", fmt.Sprintf("HTTP %d: %s", res.Status, scrub(msg.Str, ch.Token))
	}
	if res.Status == http.StatusOK {
		return info, "", fmt.Sprintf("HTTP 200 but the reply breaks the contract: %s", scrub(summarize(errs), ch.Token))
	}
	excerpt := strings.TrimSpace(info.Body)
	if len(excerpt) > 200 {
		excerpt = excerpt[:200] + "…"
	}
	if excerpt == "" {
		excerpt = http.StatusText(res.Status)
	}
	return info, "", fmt.Sprintf("HTTP %d without {\"error\":{\"message\":...}}: %s", res.Status, excerpt)
}

// scrub keeps the channel token out of anything stored or shown.
func scrub(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "[token]")
}
