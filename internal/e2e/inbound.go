package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/conformance"
	"github.com/ccx-cli/ccx/internal/provider"
)

// webhook is a provider webhook captured as bytes, so that a retry is the
// very same request again.
type webhook struct {
	method, url string
	header      http.Header
	body        []byte
}

// build asks the provider fake for the webhook of a customer message.
func (s *session) build(in provider.CustomerMessage) (*webhook, error) {
	if in.From == "" {
		in.From = s.contact
	}
	if in.Time.IsZero() {
		in.Time = time.Now()
	}
	req, err := s.h.prov.Inbound(s.hooks.Inbound, in)
	if err != nil {
		return nil, err
	}
	var body []byte
	if req.Body != nil {
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	return &webhook{method: req.Method, url: req.URL.String(), header: req.Header.Clone(), body: body}, nil
}

// send posts the webhook to the server: status and a bounded body.
func (s *session) send(ctx context.Context, w *webhook) (int, string, error) {
	req, err := http.NewRequest(w.method, w.url, bytes.NewReader(w.body))
	if err != nil {
		return 0, "", err
	}
	req.Header = w.header.Clone()
	return s.post(ctx, req)
}

// deliverWebhook builds and posts a customer message and wants it
// acknowledged with 2xx; on any other outcome r fails and nil is returned.
func (s *session) deliverWebhook(ctx context.Context, r *conformance.Result, in provider.CustomerMessage) *webhook {
	w, err := s.build(in)
	if err != nil {
		fail(r, "the provider fake cannot build the webhook: %v", err)
		return nil
	}
	r.Request = fmt.Sprintf("%s %s (signed) customer %s", w.method, s.redact(w.url), describe(in.Message))
	status, body, err := s.send(ctx, w)
	r.Status, r.LatencyMS = status, ms(s.lastLatency)
	switch {
	case err != nil:
		fail(r, "the provider webhook %s did not answer: %v", s.redact(w.url), err)
		return nil
	case status < 200 || status > 299:
		fail(r, "the server answered the provider's validly signed webhook with %d %s: the customer's message is refused (for Twilio, the signature covers the exact public URL: is --provider-webhook the URL the server thinks it has?)",
			status, clip(body, 80))
		return nil
	}
	return w
}

// awaitMessage waits for an accepted message event that match accepts; a
// platform refusal of a post carrying hint ends the wait early (the server
// sent something invalid).
func (s *session) awaitMessage(ctx context.Context, mark int, hint string, match func(seen) bool) (*seen, *post) {
	wctx, cancel := s.ctxWait(ctx)
	defer cancel()
	var got *seen
	var refused *post
	s.h.rec.await(wctx, mark, func(ps []*post) bool {
		for _, p := range ps {
			if !p.accepted() && !p.injected && (hint == "" || bytes.Contains(p.raw, []byte(hint))) {
				refused = p
				return true
			}
		}
		for _, ev := range s.h.rec.events(mark) {
			if ev.ev.Type != channel.EventStatus && ev.ev.Message != nil && match(ev) {
				ev := ev
				got = &ev
				return true
			}
		}
		return false
	})
	return got, refused
}

// arrivals says what reached the platform after mark, for evidence.
func (s *session) arrivals(mark int) string {
	ps := s.h.rec.since(mark)
	if len(ps) == 0 {
		return "nothing reached the platform"
	}
	var parts []string
	for i, p := range ps {
		if i == 4 {
			parts = append(parts, fmt.Sprintf("and %d more", len(ps)-i))
			break
		}
		switch {
		case p.injected:
			parts = append(parts, "refused (played outage)")
		case !p.accepted():
			parts = append(parts, fmt.Sprintf("refused %d: %s", p.status, clip(p.reason, 100)))
		default:
			for _, ev := range p.hook.Events {
				d := string(ev.Type)
				if ev.Message != nil {
					d += " " + describe(*ev.Message)
				}
				if ev.Status != nil {
					d += " " + string(ev.Status.Value)
				}
				parts = append(parts, fmt.Sprintf("%s (mId %s)", d, ev.MID))
			}
		}
	}
	return "platform got: " + strings.Join(parts, "; ")
}

// judgeEvent checks what every inbound event must be: a message event for
// the customer, with a millisecond timestamp.
func (s *session) judgeEvent(r *conformance.Result, ev *seen) bool {
	r.MID = ev.ev.MID
	now := time.Now().UnixMilli()
	switch {
	case ev.ev.Type != channel.EventMessage:
		fail(r, "the customer's message reached the platform as %s, want message", ev.ev.Type)
	case ev.post.hook.ContactID != s.contact:
		fail(r, "the platform event has contactId %q, want %q (the customer's address in the platform's form)", ev.post.hook.ContactID, s.contact)
	case ev.ev.Timestamp < 1e12:
		fail(r, "timestamp %d is not epoch milliseconds", ev.ev.Timestamp)
	case ev.ev.Timestamp > now+int64(time.Hour/time.Millisecond) || ev.ev.Timestamp < now-int64(24*time.Hour/time.Millisecond):
		warn(r, "timestamp %d is far from when the customer wrote (%d): seconds × 1000 of the provider's time, or the receive time, in ms", ev.ev.Timestamp, now)
	default:
		return true
	}
	return false
}

func (s *session) notArrived(r *conformance.Result, mark int, refused *post, what string) {
	if refused != nil {
		fail(r, "the platform refused the server's event (%d): %s", refused.status, clip(refused.reason, 160))
		return
	}
	fail(r, "no %s reached the platform within %s (%s)", what, s.timeout, s.arrivals(mark))
}

func textIs(want string) func(seen) bool {
	return func(e seen) bool { return e.ev.Message.Type == channel.MessageText && e.ev.Message.Text == want }
}

func checkInText(ctx context.Context, s *session, r *conformance.Result) {
	want := marker("in-text")
	mark := s.h.rec.mark()
	if s.deliverWebhook(ctx, r, provider.CustomerMessage{Message: channel.Text(want)}) == nil {
		return
	}
	ev, refused := s.awaitMessage(ctx, mark, want, textIs(want))
	r.Body = s.arrivals(mark)
	if ev == nil {
		// Something else may have come (the wrong field, say): show it.
		if other := firstMessage(s.h.rec.events(mark)); other != nil && refused == nil {
			fail(r, "the platform got %s, want text %q%s", describe(*other.ev.Message), want, wrongField(other.ev.Message.Text))
			return
		}
		s.notArrived(r, mark, refused, fmt.Sprintf("message event with text %q", want))
		return
	}
	s.judgeEvent(r, ev)
}

func firstMessage(evs []seen) *seen {
	for _, e := range evs {
		if e.ev.Message != nil {
			e := e
			return &e
		}
	}
	return nil
}

func checkInAttachment(ctx context.Context, s *session, r *conformance.Result) {
	caption := marker("in-attachment")
	m := channel.NewAttachment(channel.AttachmentImage, s.h.customerMediaURL(), "image/png", customerFile, caption)
	in := provider.CustomerMessage{Message: m}
	if _, err := s.build(in); err != nil {
		skip(r, "%s cannot carry a customer photo: %v", s.provName, err)
		return
	}
	mark := s.h.rec.mark()
	if s.deliverWebhook(ctx, r, in) == nil {
		return
	}
	ev, refused := s.awaitMessage(ctx, mark, caption, func(e seen) bool { return e.ev.Message.Type == channel.MessageAttachment })
	r.Body = s.arrivals(mark)
	if ev == nil {
		s.notArrived(r, mark, refused, "attachment event")
		return
	}
	if !s.judgeEvent(r, ev) {
		return
	}
	a := ev.ev.Message.Attachment
	if a == nil || a.URL == "" {
		fail(r, "the attachment event has no URL")
		return
	}
	if leaked := s.leaks(a.URL); leaked {
		r.Security = true
		fail(r, "the attachment URL given to the platform contains a provider credential: serve media through the server instead (docs/relay.md, inbound media)")
		return
	}
	data, err := s.fetch(ctx, a.URL)
	switch {
	case err != nil:
		fail(r, "the platform cannot fetch the attachment %s: %v", a.URL, err)
		return
	case !bytes.Equal(data, s.h.files[customerFile].data):
		fail(r, "the attachment %s serves %d bytes that differ from the customer's photo (%d bytes)", a.URL, len(data), len(s.h.files[customerFile].data))
		return
	}
	if a.Type != channel.AttachmentImage {
		warn(r, "the photo arrived as attachment type %q, want image", a.Type)
	} else if a.Description != caption {
		warn(r, "the photo arrived, but its caption %q became %q", caption, a.Description)
	}
}

func (s *session) leaks(u string) bool {
	for _, v := range s.secrets {
		if strings.Contains(u, v) {
			return true
		}
	}
	return false
}

func (s *session) fetch(ctx context.Context, u string) ([]byte, error) {
	wctx, cancel := s.ctxWait(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(wctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, cleanErr(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 16<<20))
}

func checkInLocation(ctx context.Context, s *session, r *conformance.Result) {
	address := "Tokyo Station, " + marker("in-location")
	m := channel.Location(35.681236, 139.767125, address)
	in := provider.CustomerMessage{Message: m}
	if _, err := s.build(in); err != nil {
		skip(r, "%s cannot carry a customer location: %v", s.provName, err)
		return
	}
	mark := s.h.rec.mark()
	if s.deliverWebhook(ctx, r, in) == nil {
		return
	}
	ev, refused := s.awaitMessage(ctx, mark, "", func(e seen) bool {
		return e.ev.Message.Type == channel.MessageLocation || strings.Contains(e.ev.Message.Text, address)
	})
	r.Body = s.arrivals(mark)
	if ev == nil {
		s.notArrived(r, mark, refused, "location event")
		return
	}
	if !s.judgeEvent(r, ev) {
		return
	}
	got := *ev.ev.Message
	switch {
	case got.Type != channel.MessageLocation:
		fail(r, "the customer's location arrived as %s, want a location", describe(got))
	case !sameCoord(got.Latitude, *m.Latitude) || !sameCoord(got.Longitude, *m.Longitude):
		fail(r, "the platform got %s, want %g,%g", describe(got), *m.Latitude, *m.Longitude)
	case got.Address == "":
		warn(r, "the coordinates arrived, but the address %q was dropped", address)
	}
}

func checkInRetry(ctx context.Context, s *session, r *conformance.Result) {
	want := marker("in-retry")
	mark := s.h.rec.mark()
	w := s.deliverWebhook(ctx, r, provider.CustomerMessage{Message: channel.Text(want)})
	if w == nil {
		return
	}
	first, refused := s.awaitMessage(ctx, mark, want, textIs(want))
	if first == nil {
		s.notArrived(r, mark, refused, fmt.Sprintf("message event with text %q", want))
		return
	}
	// The provider did not see the answer in time and posts the very same
	// webhook again.
	status, body, err := s.send(ctx, w)
	if err != nil {
		fail(r, "the retried webhook did not answer: %v", err)
		return
	}
	if status < 200 || status > 299 {
		warn(r, "the server answered the provider's retry with %d %s: the provider keeps retrying a message it already delivered", status, clip(body, 60))
	}
	// A fence: once a later message of the same customer arrived, a
	// forwarded duplicate would have arrived before it.
	fence := marker("in-retry-fence")
	fmark := s.h.rec.mark()
	fr := conformance.Result{}
	if s.deliverWebhook(ctx, &fr, provider.CustomerMessage{Message: channel.Text(fence)}) == nil {
		fail(r, "cannot tell whether the retry was forwarded: %s", fr.Reason)
		return
	}
	if ev, refused := s.awaitMessage(ctx, fmark, fence, textIs(fence)); ev == nil {
		s.notArrived(r, fmark, refused, "message after the retry")
		return
	}
	var mids []string
	for _, e := range s.h.rec.events(mark) {
		if e.ev.Message != nil && textIs(want)(e) {
			mids = append(mids, e.ev.MID)
		}
	}
	r.MID = first.ev.MID
	r.Body = fmt.Sprintf("retry answered %d; %s", status, s.arrivals(mark))
	if len(mids) > 1 {
		how := "each with a new mId: the platform shows the message twice"
		if allSame(mids) {
			how = "with the same mId"
		}
		fail(r, "the provider's retry was forwarded again: %d message events for one customer message (%s; mIds %s)", len(mids), how, strings.Join(mids, ", "))
	}
}

func allSame(ss []string) bool {
	for _, s := range ss {
		if s != ss[0] {
			return false
		}
	}
	return true
}

func checkInBadSignature(ctx context.Context, s *session, r *conformance.Result) {
	forged := marker("in-bad-signature")
	mark := s.h.rec.mark()
	w, err := s.build(provider.CustomerMessage{Message: channel.Text(forged), BadSignature: true})
	if err != nil {
		fail(r, "the provider fake cannot build the webhook: %v", err)
		return
	}
	r.Request = fmt.Sprintf("%s %s (badly signed) customer text %q", w.method, s.redact(w.url), forged)
	status, body, err := s.send(ctx, w)
	r.Status, r.LatencyMS = status, ms(s.lastLatency)
	if err != nil {
		fail(r, "the provider webhook %s did not answer: %v", s.redact(w.url), err)
		return
	}
	// A fence: a valid message after it; the forged one, if forwarded, comes first.
	fence := marker("in-bad-signature-fence")
	fr := conformance.Result{}
	fmark := s.h.rec.mark()
	if s.deliverWebhook(ctx, &fr, provider.CustomerMessage{Message: channel.Text(fence)}) == nil {
		fail(r, "cannot tell whether the forged webhook was forwarded: %s", fr.Reason)
		return
	}
	if ev, refused := s.awaitMessage(ctx, fmark, fence, textIs(fence)); ev == nil {
		s.notArrived(r, fmark, refused, "valid message after the forged one")
		return
	}
	r.Body = fmt.Sprintf("%d %s", status, clip(body, 60))
	for _, e := range s.h.rec.events(mark) {
		if e.ev.Message != nil && textIs(forged)(e) {
			r.Security = true
			fail(r, "SECURITY: a badly signed webhook (answered %d) reached the platform as mId %s: anyone can post messages as your customers", status, e.ev.MID)
			return
		}
	}
	switch {
	case status >= 200 && status < 300:
		warn(r, "the badly signed webhook was not forwarded, but it was answered %d: refuse it with 401 or 403", status)
	case status >= 500:
		warn(r, "the badly signed webhook was refused with %d: the provider retries 5xx; answer 401 or 403", status)
	case status < 400:
		warn(r, "the badly signed webhook was answered %d; answer 401 or 403", status)
	}
}

func checkInPlatformDown(ctx context.Context, s *session, r *conformance.Result) {
	want := marker("in-platform-down")
	w, err := s.build(provider.CustomerMessage{Message: channel.Text(want)})
	if err != nil {
		fail(r, "the provider fake cannot build the webhook: %v", err)
		return
	}
	r.Request = fmt.Sprintf("%s %s (signed) customer text %q; the platform answers 503 to it", w.method, s.redact(w.url), want)
	mark := s.h.rec.mark()
	end := s.h.rec.playOutage(want)
	status, body, err := s.send(ctx, w)
	refused := end()
	r.Status, r.LatencyMS = status, ms(s.lastLatency)
	if err != nil {
		fail(r, "the provider webhook %s did not answer: %v", s.redact(w.url), err)
		return
	}
	if status < 200 || status > 299 {
		if refused == 0 {
			fail(r, "the server answered the provider's valid webhook with %d %s before trying the platform", status, clip(body, 80))
			return
		}
		// The provider was told to retry: it does, and the platform is back.
		s.h.rec.stopOutage()
		status2, body2, err := s.send(ctx, w)
		if err != nil || status2 < 200 || status2 > 299 {
			fail(r, "the server told the provider to retry (%d) while the platform was down, but the retry was answered %d %s %v", status, status2, clip(body2, 60), errOrEmpty(err))
			return
		}
	}
	ev, _ := s.awaitMessage(ctx, mark, want, textIs(want))
	r.Body = fmt.Sprintf("answered the provider %d; %s", status, s.arrivals(mark))
	if ev == nil {
		if refused > 0 {
			fail(r, "the server acknowledged the provider's webhook with %d although the platform refused the event (503), and it never arrived within %s: the message is lost and the provider will not retry (answer 5xx, or store the event and redeliver it)",
				status, s.timeout)
		} else {
			fail(r, "the server acknowledged the webhook with %d, but the event never reached the platform within %s (%s)", status, s.timeout, s.arrivals(mark))
		}
		return
	}
	s.judgeEvent(r, ev)
}

func errOrEmpty(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
