package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/conformance"
	"github.com/ccx-cli/ccx/internal/outgoing"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/tidwall/gjson"
)

// msgCall is one /message call and the provider calls it caused.
type msgCall struct {
	res   *outgoing.Result
	mid   string // the mId of a valid 200 reply
	sends []provider.Send
}

// callMessage sends m to /message as the platform does. With awaitSend, a
// valid 200 waits (bounded) for the provider call a queueing server makes
// after answering.
func (s *session) callMessage(ctx context.Context, r *conformance.Result, m channel.Message, awaitSend bool) *msgCall {
	sr := s.recordSends()
	defer sr.stop()
	body := outgoing.Body(s.chID, s.contact, m)
	r.Request = "POST /message " + describe(m)
	res, err := s.client.Do(ctx, outgoing.Request{Body: body})
	if err != nil { // a bad base URL: Run checked it
		return &msgCall{res: &outgoing.Result{Err: err}}
	}
	c := &msgCall{res: res}
	r.Status, r.LatencyMS = res.Status, float64(res.Latency.Microseconds())/1000
	r.Body = clip(strings.Join(strings.Fields(string(res.Body)), " "), 160)
	if res.Err == nil && res.Status == http.StatusOK && !outgoing.HasErrors(outgoing.Judge(res.Status, res.Header, res.Body)) {
		c.mid = gjson.GetBytes(res.Body, "mId").Str
		r.MID = c.mid
		if awaitSend {
			wctx, cancel := s.ctxWait(ctx)
			sr.awaitAccepted(wctx)
			cancel()
		}
	}
	c.sends = sr.all()
	return c
}

// replyProblem says what is wrong with a /message reply the platform would
// not take as a success ("" when it is a valid 200).
func (s *session) replyProblem(c *msgCall) string {
	res := c.res
	if res.Err != nil {
		return fmt.Sprintf("/message did not answer: %v", res.Err)
	}
	if c.mid != "" {
		return ""
	}
	if res.Status != http.StatusOK {
		msg := gjson.GetBytes(res.Body, "error.message").String()
		if msg == "" {
			msg = clip(strings.TrimSpace(string(res.Body)), 120)
		}
		return fmt.Sprintf("/message answered %d (%s); want 200 with the provider's message id", res.Status, msg)
	}
	for _, f := range outgoing.Judge(res.Status, res.Header, res.Body) {
		if f.Severity == validate.Error {
			return "/message 200 reply breaks the contract: " + f.Message
		}
	}
	return "/message reply has no usable mId"
}

// sendsSummary is the evidence of what the provider got.
func sendsSummary(ss []provider.Send) string {
	if len(ss) == 0 {
		return "provider: no call"
	}
	var parts []string
	for _, sd := range ss {
		if sd.Status >= 200 && sd.Status < 300 && sd.Error == "" {
			p := fmt.Sprintf("%s to %s", describe(sd.Message), sd.To)
			if sd.ID != "" {
				p += " (id " + sd.ID + ")"
			}
			parts = append(parts, p)
		} else {
			parts = append(parts, fmt.Sprintf("refused %d %s", sd.Status, clip(sd.Error, 60)))
		}
	}
	return "provider: " + strings.Join(parts, "; ")
}

// delivered judges the provider side of a successful /message: one accepted
// call, to the contact, whose id the mId is. It returns that call.
func (s *session) delivered(r *conformance.Result, c *msgCall) (provider.Send, bool) {
	acc := acceptedSends(c.sends)
	if len(acc) == 0 {
		if len(c.sends) > 0 {
			last := c.sends[len(c.sends)-1]
			fail(r, "/message answered 200 + mId %q although the provider refused the call (%d %s): the platform shows the message as sent, the customer never gets it",
				c.mid, last.Status, clip(last.Error, 80))
		} else {
			fail(r, "/message answered 200 + mId %q but the provider received no call within %s: the platform shows the message as sent, the customer never gets it", c.mid, s.timeout)
		}
		return provider.Send{}, false
	}
	sd := acc[0]
	if sd.To != "" && normAddr(sd.To) != normAddr(s.contact) {
		fail(r, "the provider was asked to send to %q, want the contact %q", sd.To, s.contact)
		return sd, false
	}
	if len(acc) > 1 {
		warn(r, "the provider got %d messages for one /message call: the customer receives it more than once", len(acc))
	}
	if !isProviderID(c.mid, sd.ID) && sd.ID != "" {
		r.Body += fmt.Sprintf(" · mId %q is not the provider's id %q: its receipts must still carry the mId (receipt-delivered)", c.mid, sd.ID)
	}
	return sd, true
}

func (s *session) outgoingCheck(ctx context.Context, r *conformance.Result, m channel.Message, judge func(channel.Message) verdict) {
	c := s.callMessage(ctx, r, m, true)
	if p := s.replyProblem(c); p != "" {
		fail(r, "%s", p)
		r.Body = joinEvidence(r.Body, sendsSummary(c.sends))
		return
	}
	r.Body = joinEvidence(r.Body, sendsSummary(c.sends))
	sd, good := s.delivered(r, c)
	if !good {
		return
	}
	judge(sd.Message).apply(r)
}

func joinEvidence(a, b string) string {
	if a == "" {
		return b
	}
	return a + " → " + b
}

func checkOutText(ctx context.Context, s *session, r *conformance.Result) {
	want := marker("out-text")
	s.outgoingCheck(ctx, r, channel.Text(want), func(got channel.Message) verdict { return judgeText(want, got) })
}

func checkOutAttachment(ctx context.Context, s *session, r *conformance.Result) {
	m := channel.NewAttachment(channel.AttachmentImage, s.h.agentMediaURL(), "image/png", agentFile, marker("out-attachment"))
	s.outgoingCheck(ctx, r, m, func(got channel.Message) verdict { return judgeAttachment(m.Attachment, got) })
}

func checkOutLocation(ctx context.Context, s *session, r *conformance.Result) {
	m := channel.Location(3.139003, 101.686855, "Kuala Lumpur, Malaysia")
	s.outgoingCheck(ctx, r, m, func(got channel.Message) verdict { return judgeLocation(m, got) })
}

func checkOutQuickReply(ctx context.Context, s *session, r *conformance.Result) {
	m := channel.QuickReply(marker("out-quick-reply")+": how did we do?", "Good", "Okay", "Bad")
	s.outgoingCheck(ctx, r, m, func(got channel.Message) verdict { return judgeQuickReply(m, got) })
}

// --- receipts ---

func checkReceiptDelivered(ctx context.Context, s *session, r *conformance.Result) {
	s.receiptCheck(ctx, r, channel.StatusDelivered, "")
}

func checkReceiptFailed(ctx context.Context, s *session, r *conformance.Result) {
	s.receiptCheck(ctx, r, channel.StatusFailed, "ccx e2e: the handset is unreachable")
}

func (s *session) receiptCheck(ctx context.Context, r *conformance.Result, value channel.StatusValue, reason string) {
	mark := s.h.rec.mark()
	c := s.callMessage(ctx, r, channel.Text(marker("receipt-"+string(value))), true)
	if p := s.replyProblem(c); p != "" {
		fail(r, "no message to receive a receipt for: %s", p)
		return
	}
	acc := acceptedSends(c.sends)
	if len(acc) == 0 {
		fail(r, "no message to receive a receipt for: /message answered 200 + mId %q but the provider accepted no call", c.mid)
		return
	}
	sd := acc[0]
	target := sd.CallbackURL
	if target == "" {
		target = s.hooks.Status
	}
	req, err := s.h.prov.Receipt(target, provider.ReceiptSpec{ProviderID: sd.ID, To: s.contact, Status: value, Reason: reason, Time: time.Now()})
	if errors.Is(err, provider.ErrNoReceipts) {
		s.noReceipts(ctx, r, mark, c.mid, value, err)
		return
	}
	if err != nil {
		fail(r, "the provider fake cannot build the %s callback: %v", value, err)
		return
	}
	if target == "" {
		skip(r, "no status callback URL: the send named none and no default is known (--provider-status-url)")
		return
	}
	r.Request = fmt.Sprintf("%s status callback for %s (mId %s) → %s", value, sd.ID, c.mid, s.redact(target))
	after := s.h.rec.mark()
	status, body, err := s.post(ctx, req)
	r.Status, r.LatencyMS = status, ms(s.lastLatency)
	switch {
	case err != nil:
		fail(r, "the status callback %s did not answer: %v", s.redact(target), err)
		return
	case status < 200 || status > 299:
		fail(r, "the server answered the provider's %s status callback with %d %s: the receipt is lost", value, status, clip(body, 80))
		return
	}
	wctx, cancel := s.ctxWait(ctx)
	defer cancel()
	var got *seen
	s.h.rec.await(wctx, after, func([]*post) bool {
		for _, ev := range s.h.rec.events(after) {
			if ev.ev.Type == channel.EventStatus && ev.ev.Status != nil && ev.ev.Status.Value == value {
				ev := ev
				if got == nil || ev.ev.MID == c.mid {
					got = &ev
				}
				if ev.ev.MID == c.mid {
					return true
				}
			}
		}
		return false
	})
	r.Body = fmt.Sprintf("/message mId %s, provider id %s → %s", c.mid, sd.ID, s.arrivals(after))
	switch {
	case got == nil:
		fail(r, "no message_status %s reached the platform within %s after the callback (%s)", value, s.timeout, s.arrivals(after))
	case got.ev.MID != c.mid && got.ev.MID == sd.ID:
		fail(r, "message_status %s carried the provider's id %q, not the mId %q that /message returned: the platform cannot match the receipt", value, got.ev.MID, c.mid)
	case got.ev.MID != c.mid:
		fail(r, "message_status %s carried mId %q, want %q (the mId /message returned)", value, got.ev.MID, c.mid)
	case got.post.hook.ContactID != s.contact:
		fail(r, "message_status for %s names contact %q, want %q", c.mid, got.post.hook.ContactID, s.contact)
	case value == channel.StatusFailed && strings.TrimSpace(got.ev.Status.Message) == "":
		warn(r, "message_status failed carries no reason (status.message): agents cannot see why")
	}
}

// noReceipts: the provider has no status callbacks (Telegram). A server
// should still report sent when the provider accepted the message.
func (s *session) noReceipts(ctx context.Context, r *conformance.Result, mark int, mid string, value channel.StatusValue, why error) {
	if value != channel.StatusDelivered {
		if why != provider.ErrNoReceipts { // a provider with receipts, but none of this kind (Zalo: no failure event)
			skip(r, "%v", why)
			return
		}
		skip(r, "%s sends no delivery receipts", s.provName)
		return
	}
	wctx, cancel := s.ctxWait(ctx)
	defer cancel()
	found := s.h.rec.await(wctx, mark, func([]*post) bool {
		for _, ev := range s.h.rec.events(mark) {
			if ev.ev.Type == channel.EventStatus && ev.ev.MID == mid {
				return true
			}
		}
		return false
	})
	if found {
		r.Body = joinEvidence(r.Body, fmt.Sprintf("no provider receipts; the server posted message_status for mId %s itself", mid))
	} else {
		r.Body = joinEvidence(r.Body, s.arrivals(mark))
	}
	if !found {
		warn(r, "%s sends no delivery receipts and the server posted no message_status for mId %q within %s (report sent when the provider accepts the message)", s.provName, mid, s.timeout)
	}
}

// --- failure paths ---

func checkFailProviderError(ctx context.Context, s *session, r *conformance.Result) {
	s.failureCheck(ctx, r, provider.Faults{FailRate: 1}, "failed with a server error", s.provName, "fail", "unavailable", "server error", "5xx")
}

func checkFailRateLimit(ctx context.Context, s *session, r *conformance.Result) {
	s.failureCheck(ctx, r, provider.Faults{RateLimit: 1000, RetryAfter: time.Minute}, "answered 429 (rate limit)", "429", "rate", "too many", "throttl")
}

func checkFailCredentials(ctx context.Context, s *session, r *conformance.Result) {
	s.failureCheck(ctx, r, provider.Faults{BadCredentials: true}, "rejected the credentials", "401", "403", "credential", "auth", "unauthori", "token", "key")
}

func checkFailRecipient(ctx context.Context, s *session, r *conformance.Result) {
	forms := []string{s.contact, "whatsapp:" + s.contact, strings.TrimPrefix(s.contact, "+")}
	s.failureCheck(ctx, r, provider.Faults{Reject: forms}, "refused the recipient", "recipient", "number", "invalid", "blocked", s.contact, normAddr(s.contact))
}

// failureCheck makes the provider fail, sends a text, and wants a 4xx with
// an error.message that names the cause.
func (s *session) failureCheck(ctx context.Context, r *conformance.Result, f provider.Faults, cause string, words ...string) {
	s.h.prov.SetFaults(f)
	c := s.callMessage(ctx, r, channel.Text(marker(r.ID)), false)
	res := c.res
	r.Body = joinEvidence(r.Body, sendsSummary(c.sends))
	for _, sd := range c.sends {
		if sd.Error != "" {
			words = append(words, sd.Error, strconv.Itoa(sd.Status))
		}
	}
	msg := gjson.GetBytes(res.Body, "error.message")
	switch {
	case res.Err != nil:
		fail(r, "/message did not answer while the provider %s: %v; answer 4xx {\"error\":{\"message\"}} at once", cause, res.Err)
	case res.Status >= 200 && res.Status < 300:
		what := "no call was accepted"
		if len(c.sends) == 0 {
			what = "no call was made"
		}
		reply := fmt.Sprintf("%d + mId %q", res.Status, c.mid)
		if c.mid == "" {
			reply = fmt.Sprintf("%d %q", res.Status, clip(string(res.Body), 60))
		}
		fail(r, "/message answered %s although the provider %s (%s): the platform shows the message as sent, the customer never gets it", reply, cause, what)
	case res.Status >= 500:
		fail(r, "/message answered %d while the provider %s: the platform expects a 4xx with {\"error\":{\"message\"}}", res.Status, cause)
	case res.Status < 400:
		fail(r, "/message answered %d while the provider %s: want a 4xx with {\"error\":{\"message\"}}", res.Status, cause)
	case msg.Type != gjson.String || strings.TrimSpace(msg.Str) == "":
		fail(r, "/message answered %d without {\"error\":{\"message\"}} while the provider %s: the platform cannot show why", res.Status, cause)
	case len(c.sends) == 0:
		warn(r, "/message refused with %d but never called the provider; cannot tell whether it would see the failure", res.Status)
	case !mentions(msg.Str, words...):
		warn(r, "error.message %q does not say that the provider %s", clip(msg.Str, 100), cause)
	}
}

// post sends a provider webhook and reads the answer (bounded).
func (s *session) post(ctx context.Context, req *http.Request) (int, string, error) {
	wctx, cancel := s.ctxWait(ctx)
	defer cancel()
	start := time.Now()
	resp, err := s.http.Do(req.WithContext(wctx))
	s.lastLatency = time.Since(start)
	if err != nil {
		return 0, "", cleanErr(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	return resp.StatusCode, strings.Join(strings.Fields(string(b)), " "), nil
}
