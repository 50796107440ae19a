package emulator

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/tidwall/gjson"
)

// A flow is every hop of one message across both faces, tied by ids:
//
//	outgoing: platform → server (/message, mId) → provider (send, provider id)
//	          → receipts → server → platform (message_status for the mId)
//	incoming: customer → provider webhook → server → platform (message event)
//
// Each request record names its flows; FlowReport collects one flow's hops
// and says where the message stopped.

// FlowReport is GET /_emulator/flows/{id}.
type FlowReport struct {
	ID         string          `json:"flow"`
	Direction  string          `json:"direction"` // outgoing | incoming
	Provider   string          `json:"provider,omitempty"`
	ChannelID  string          `json:"channelId"`
	ContactID  string          `json:"contactId"`
	MID        string          `json:"mId,omitempty"`
	ProviderID string          `json:"providerId,omitempty"`
	Hops       []RequestRecord `json:"hops"` // oldest first; only those still in the log
	Phone      []PhoneMessage  `json:"phone"`
	// Problems says where the message got lost or went wrong; empty when
	// every hop so far worked.
	Problems []string `json:"problems"`
}

// Flow reports one flow.
func (e *Emulator) Flow(id string) (FlowReport, bool) {
	f, pms, ok := e.side.flow(id)
	if !ok {
		return FlowReport{}, false
	}
	r := FlowReport{ID: f.ID, Direction: f.Direction, Provider: f.Provider, ChannelID: f.ChannelID, ContactID: f.ContactID,
		MID: f.MID, ProviderID: f.ProviderID, Hops: []RequestRecord{}, Phone: pms, Problems: []string{}}
	if r.Phone == nil {
		r.Phone = []PhoneMessage{}
	}
	for _, rec := range e.Requests(0) {
		for _, fl := range rec.Flows {
			if fl == id {
				r.Hops = append(r.Hops, rec)
				break
			}
		}
	}
	// In the order the hops started: a hop's record is written when it
	// ends, after the hops it caused.
	sort.SliceStable(r.Hops, func(i, j int) bool { return r.Hops[i].Time.Before(r.Hops[j].Time) })
	if f.Direction == FlowOutgoing {
		r.Problems = outgoingProblems(r)
	} else {
		r.Problems = incomingProblems(r)
	}
	if r.Problems == nil {
		r.Problems = []string{}
	}
	return r, true
}

func ok2xx(status int) bool { return status >= 200 && status <= 299 }

func hopsOf(r FlowReport, kind string) []RequestRecord {
	var out []RequestRecord
	for _, h := range r.Hops {
		if h.Kind == kind {
			out = append(out, h)
		}
	}
	return out
}

// platformError is the message of the platform's {"error":{"message"}} answer.
func platformError(h RequestRecord) string {
	if m := gjson.Get(h.ReplyBody, "error.message").String(); m != "" {
		return fmt.Sprintf("HTTP %d: %s", h.Status, m)
	}
	return fmt.Sprintf("HTTP %d", h.Status)
}

func outgoingProblems(r FlowReport) []string {
	var ps []string
	prov := r.Provider
	if prov == "" {
		prov = "the provider"
	}
	var sent, refused []PhoneMessage
	for _, pm := range r.Phone {
		if pm.API != nil && pm.API.Accepted {
			sent = append(sent, pm)
		} else {
			refused = append(refused, pm)
		}
	}
	if calls := hopsOf(r, RequestMessage); len(calls) > 0 {
		c := calls[len(calls)-1]
		answered := c.Status == http.StatusOK && c.Error == ""
		switch {
		case answered && len(sent) == 0 && len(refused) == 0:
			ps = append(ps, fmt.Sprintf("/message answered 200 with mId %s, but your server made no call to %s while answering: the customer got nothing", r.MID, prov))
		case answered && len(sent) == 0:
			ps = append(ps, fmt.Sprintf("%s refused the send (HTTP %d: %s), yet /message answered 200 with mId %s: it should answer 4xx naming the cause", prov, refused[0].API.Status, refused[0].API.Error, r.MID))
		case !answered && len(sent) > 0:
			ps = append(ps, fmt.Sprintf("%s accepted the message (id %s), yet /message failed (%s): the customer got it while the platform shows it failed", prov, sent[0].ProviderID, c.Error))
		}
	}
	for _, h := range hopsOf(r, RequestProviderReceipt) {
		if !ok2xx(h.Status) {
			ps = append(ps, fmt.Sprintf("your server did not take the %s from %s: %s", h.What, prov, h.Error))
		}
	}
	// message_status posts the platform took, and whether they named the mId.
	var okStatus int
	for _, h := range hopsOf(r, RequestWebhook) {
		evs := gjson.Get(h.Body, `events.#(type=="message_status")#`).Array()
		if len(evs) == 0 {
			continue
		}
		if !ok2xx(h.Status) {
			ps = append(ps, "the platform rejected a message_status from your server ("+platformError(h)+")")
			continue
		}
		for _, ev := range evs {
			mid := ev.Get("mId").String()
			if r.MID != "" && mid != r.MID {
				ps = append(ps, fmt.Sprintf("a message_status named mId %q, the provider's id; /message returned %q, so the platform cannot match it", mid, r.MID))
				continue
			}
			okStatus++
		}
	}
	var okReceipts int
	for _, h := range hopsOf(r, RequestProviderReceipt) {
		if ok2xx(h.Status) {
			okReceipts++
		}
	}
	if okReceipts > okStatus {
		ps = append(ps, fmt.Sprintf("your server took %s from %s but posted %d message_status with mId %s to the platform (yet)", ui.Plural(okReceipts, "receipt"), prov, okStatus, r.MID))
	}
	return ps
}

func incomingProblems(r FlowReport) []string {
	var ps []string
	hooks := hopsOf(r, RequestProviderWebhook)
	if len(hooks) == 0 {
		return ps
	}
	h := hooks[len(hooks)-1]
	if !ok2xx(h.Status) {
		return append(ps, "your server refused the customer's message: "+h.Error)
	}
	var accepted, rejected []RequestRecord
	for _, w := range hopsOf(r, RequestWebhook) {
		if ok2xx(w.Status) {
			accepted = append(accepted, w)
		} else {
			rejected = append(rejected, w)
		}
	}
	switch {
	case len(accepted) == 0 && len(rejected) > 0:
		ps = append(ps, fmt.Sprintf("your server told %s %d, but the platform rejected its event (%s): the message is lost, and the provider will not retry", r.Provider, h.Status, platformError(rejected[len(rejected)-1])))
	case len(accepted) == 0:
		ps = append(ps, fmt.Sprintf("your server took the customer's message (HTTP %d) but no message event reached the platform (yet)", h.Status))
	case len(accepted) > 1:
		ps = append(ps, fmt.Sprintf("the platform got %d message events for one customer message", len(accepted)))
	}
	return ps
}

// tieWebhookRecord names the flows of a server → platform post (from its
// raw body: a rejected post belongs to its flow too) and publishes the
// phone messages that reached the inbox.
func (e *Emulator) tieWebhookRecord(rec *RequestRecord) {
	if len(rec.body) == 0 || !gjson.ValidBytes(rec.body) {
		return
	}
	b := gjson.ParseBytes(rec.body)
	chID := rec.ChannelID
	if chID == "" {
		chID = b.Get("channelId").String()
	}
	contact := b.Get("contactId").String()
	var evs []eventRef
	var what []string
	b.Get("events").ForEach(func(_, ev gjson.Result) bool {
		t := ev.Get("type").String()
		evs = append(evs, eventRef{Type: t, MID: ev.Get("mId").String()})
		switch t {
		case string(channel.EventStatus):
			what = append(what, t+" "+ev.Get("status.value").String())
		default:
			what = append(what, strings.TrimSpace(t+" "+ev.Get("message.type").String()))
		}
		return len(evs) < 100
	})
	rec.What = strings.Join(what, ", ")
	flows, linked := e.side.tieWebhook(chID, contact, evs, rec.Status == http.StatusOK)
	rec.Flows = flows
	for i := range linked {
		pm := linked[i]
		e.bus.publish(Event{Kind: EventPhoneLinked, ChannelID: pm.ChannelID, ContactID: pm.ContactID, MID: pm.MID, Provider: pm.Provider,
			Summary: fmt.Sprintf("the customer's %s reached the inbox", Describe(pm.Message)), Phone: &pm})
	}
}
