package emulator

import (
	"bytes"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
)

// The customer's side: what a customer's phone shows when the emulator
// plays the providers. Kept in memory (not in --state): it describes the
// provider fakes of this run.

// PhoneDirection says who wrote a phone message.
type PhoneDirection string

const (
	// FromCustomer: the customer wrote it; the provider posted it to the server.
	FromCustomer PhoneDirection = "customer"
	// FromBusiness: the server sent it through the provider's API.
	FromBusiness PhoneDirection = "business"
)

// HopResult is how the server answered a webhook the provider posted.
type HopResult struct {
	Status     int     `json:"status,omitempty"` // 0: no HTTP answer
	Error      string  `json:"error,omitempty"`  // empty on 2xx
	LatencyMS  float64 `json:"latencyMs"`
	RequestSeq int64   `json:"requestSeq,omitempty"` // the hop in the request log
}

// APIResult is how the provider fake answered the server's send.
type APIResult struct {
	Status   int    `json:"status"`
	Error    string `json:"error,omitempty"`
	Accepted bool   `json:"accepted"`
}

// PhoneReceipt is one status callback the provider posted for a message.
type PhoneReceipt struct {
	Status     channel.StatusValue `json:"status"`
	Reason     string              `json:"reason,omitempty"`
	Time       time.Time           `json:"time"`
	HTTPStatus int                 `json:"httpStatus,omitempty"` // the server's answer
	Error      string              `json:"error,omitempty"`
	RequestSeq int64               `json:"requestSeq,omitempty"`
}

// PhoneMessage is one message on a customer's phone.
type PhoneMessage struct {
	Seq       int64          `json:"seq"`
	Flow      string         `json:"flow"` // ties its hops in the request log
	Provider  string         `json:"provider"`
	ChannelID string         `json:"channelId"`
	ContactID string         `json:"contactId"` // the customer, in the platform's form
	Direction PhoneDirection `json:"direction"`
	// ProviderID is the provider's id of a sent message (as the fake
	// answered the server).
	ProviderID string `json:"providerId,omitempty"`
	// MID is the platform mId: of the /message call that made a business
	// message, or of the platform event a customer message became; empty
	// while the platform has not got it.
	MID     string          `json:"mId,omitempty"`
	Message channel.Message `json:"message"`
	Time    time.Time       `json:"time"`
	// Addresses as the provider has them (business messages).
	To   string `json:"to,omitempty"`
	From string `json:"from,omitempty"`
	// Webhook: how the server answered the provider's webhook (customer messages).
	Webhook *HopResult `json:"webhook,omitempty"`
	// API: how the fake answered the server's send (business messages).
	API      *APIResult     `json:"api,omitempty"`
	Receipts []PhoneReceipt `json:"receipts"`

	CallbackURL string `json:"-"` // where the send asked for receipts (may hold a secret)
	// Receipts is auto (the fake's own callbacks, as it recorded them) and
	// manual (fired through FireReceipt), by time.
	auto, manual []PhoneReceipt
}

func (pm PhoneMessage) clone() PhoneMessage {
	pm.Receipts = append([]PhoneReceipt{}, pm.Receipts...)
	pm.auto = append([]PhoneReceipt(nil), pm.auto...)
	pm.manual = append([]PhoneReceipt(nil), pm.manual...)
	if pm.Webhook != nil {
		w := *pm.Webhook
		pm.Webhook = &w
	}
	if pm.API != nil {
		a := *pm.API
		pm.API = &a
	}
	return pm
}

// summary is the live log's line (the contact is printed before it).
func (pm PhoneMessage) summary() string {
	if pm.Direction == FromCustomer {
		s := fmt.Sprintf("wrote %s via %s; ", Describe(pm.Message), pm.Provider)
		switch {
		case pm.Webhook == nil:
			return s + "not posted yet"
		case pm.Webhook.Error != "":
			return s + pm.Webhook.Error
		}
		return s + fmt.Sprintf("your server answered %d", pm.Webhook.Status)
	}
	if pm.API != nil && !pm.API.Accepted {
		return fmt.Sprintf("%s refused your server's %s (HTTP %d): %s", pm.Provider, Describe(pm.Message), pm.API.Status, pm.API.Error)
	}
	return fmt.Sprintf("your server sent %s via %s (id %s)", Describe(pm.Message), pm.Provider, pm.ProviderID)
}

func (r PhoneReceipt) summary(prov, providerID string) string {
	s := fmt.Sprintf("%s posted %s for %s; ", prov, r.Status, providerID)
	if r.Error != "" {
		return s + r.Error
	}
	return s + fmt.Sprintf("your server answered %d", r.HTTPStatus)
}

// Flow directions.
const (
	FlowOutgoing = "outgoing" // agent → /message → provider → customer, receipts back
	FlowIncoming = "incoming" // customer → provider webhook → server → platform
)

type flowInfo struct {
	ID         string
	Direction  string
	ChannelID  string
	ContactID  string
	Provider   string
	MID        string // the platform mId
	ProviderID string
	Phone      []int64 // phone messages of the flow
}

// callInfo is a /message call in flight: provider sends made meanwhile to
// its contact belong to its flow.
type callInfo struct {
	n                int64 // order of start
	flow             string
	channel, contact string
	sends            []int64
}

// Bounds of the customer side (oldest dropped).
const (
	maxPhoneMessages = 2000
	maxFlows         = 4000
)

// side holds the phone messages and the flow index behind one mutex.
type side struct {
	mu        sync.Mutex
	seq       int64
	msgs      map[int64]*PhoneMessage
	order     []int64
	nextFlow  int64
	flows     map[string]*flowInfo
	flowOrder []string
	byMID     map[contactKey]string // (channel, platform mId) → flow
	byPID     map[string]string     // provider id → flow
	calls     map[*callInfo]bool
	pending   []string // incoming flows waiting for their platform event, oldest first
}

func newSide() *side {
	s := &side{calls: map[*callInfo]bool{}}
	s.resetLocked()
	return s
}

func (s *side) resetLocked() {
	s.msgs = map[int64]*PhoneMessage{}
	s.order = nil
	s.flows = map[string]*flowInfo{}
	s.flowOrder = nil
	s.byMID = map[contactKey]string{}
	s.byPID = map[string]string{}
	s.pending = nil
}

func (s *side) reset() {
	s.mu.Lock()
	s.resetLocked()
	s.mu.Unlock()
}

func (s *side) newFlowLocked(dir, channelID, contactID, prov string) *flowInfo {
	s.nextFlow++
	f := &flowInfo{ID: "f" + strconv.FormatInt(s.nextFlow, 10), Direction: dir, ChannelID: channelID, ContactID: contactID, Provider: prov}
	s.flows[f.ID] = f
	s.flowOrder = append(s.flowOrder, f.ID)
	if len(s.flowOrder) > maxFlows {
		s.trimFlowsLocked()
	}
	return f
}

// trimFlowsLocked forgets the older half of the flows (amortised O(1)).
func (s *side) trimFlowsLocked() {
	drop := s.flowOrder[:len(s.flowOrder)/2]
	gone := map[string]bool{}
	for _, id := range drop {
		gone[id] = true
		delete(s.flows, id)
	}
	s.flowOrder = append([]string(nil), s.flowOrder[len(drop):]...)
	for k, v := range s.byMID {
		if gone[v] {
			delete(s.byMID, k)
		}
	}
	for k, v := range s.byPID {
		if gone[v] {
			delete(s.byPID, k)
		}
	}
	kept := s.pending[:0]
	for _, id := range s.pending {
		if !gone[id] {
			kept = append(kept, id)
		}
	}
	s.pending = kept
}

func (s *side) addLocked(pm PhoneMessage) *PhoneMessage {
	s.seq++
	pm.Seq = s.seq
	p := &pm
	s.msgs[pm.Seq] = p
	s.order = append(s.order, pm.Seq)
	if len(s.order) > 2*maxPhoneMessages {
		for _, seq := range s.order[:len(s.order)-maxPhoneMessages] {
			delete(s.msgs, seq)
		}
		s.order = append([]int64(nil), s.order[len(s.order)-maxPhoneMessages:]...)
	}
	if f := s.flows[pm.Flow]; f != nil {
		f.Phone = append(f.Phone, pm.Seq)
	}
	return p
}

// startCall registers an outgoing /message call and its flow.
func (s *side) startCall(channelID, contactID, prov string) *callInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.newFlowLocked(FlowOutgoing, channelID, contactID, prov)
	c := &callInfo{n: s.nextFlow, flow: f.ID, channel: channelID, contact: contactID}
	s.calls[c] = true
	return c
}

// endCall ties the call's mId to its flow and its sends. It returns the
// phone messages that changed.
func (s *side) endCall(c *callInfo, mid string) []PhoneMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.calls, c)
	var out []PhoneMessage
	f := s.flows[c.flow]
	if mid == "" || f == nil {
		return nil
	}
	f.MID = mid
	s.byMID[contactKey{c.channel, mid}] = f.ID
	for _, seq := range c.sends {
		if pm := s.msgs[seq]; pm != nil {
			pm.MID = mid
			out = append(out, pm.clone())
		}
	}
	return out
}

// addSend stores a message the server sent through a provider, in the flow
// of the /message call in flight for its contact (or the one whose mId is
// the provider's id, or a flow of its own).
func (s *side) addSend(pm PhoneMessage) PhoneMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var call *callInfo
	for c := range s.calls {
		if c.channel == pm.ChannelID && c.contact == pm.ContactID {
			if call == nil || c.n > call.n { // the latest call
				call = c
			}
		}
	}
	var f *flowInfo
	switch {
	case call != nil:
		f = s.flows[call.flow]
	case pm.ProviderID != "":
		if id, ok := s.byMID[contactKey{pm.ChannelID, provider.MID(pm.ProviderID)}]; ok {
			f = s.flows[id]
			pm.MID = provider.MID(pm.ProviderID)
		}
	}
	if f == nil {
		f = s.newFlowLocked(FlowOutgoing, pm.ChannelID, pm.ContactID, pm.Provider)
	}
	if f.Provider == "" || call != nil {
		f.Provider = pm.Provider // the provider the server actually used
	}
	if pm.ProviderID != "" {
		if f.ProviderID == "" {
			f.ProviderID = pm.ProviderID
		}
		s.byPID[pm.ProviderID] = f.ID
	}
	pm.Flow = f.ID
	p := s.addLocked(pm)
	if call != nil {
		call.sends = append(call.sends, p.Seq)
	}
	return p.clone()
}

// addCustomer stores a customer's message in a new incoming flow that
// waits for its platform event.
func (s *side) addCustomer(pm PhoneMessage) PhoneMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.newFlowLocked(FlowIncoming, pm.ChannelID, pm.ContactID, pm.Provider)
	pm.Flow = f.ID
	s.pending = append(s.pending, f.ID)
	return s.addLocked(pm).clone()
}

// setWebhook records how the server answered a customer message; a refused
// one is no longer expected at the platform.
func (s *side) setWebhook(seq int64, res HopResult) (PhoneMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pm := s.msgs[seq]
	if pm == nil {
		return PhoneMessage{}, false
	}
	pm.Webhook = &res
	if res.Error != "" {
		s.dropPendingLocked(pm.Flow)
	}
	return pm.clone(), true
}

func (s *side) dropPendingLocked(flow string) {
	for i, id := range s.pending {
		if id == flow {
			s.pending = append(s.pending[:i], s.pending[i+1:]...)
			return
		}
	}
}

// setAutoReceipts replaces the fake's own receipts of a message.
func (s *side) setAutoReceipts(seq int64, rs []PhoneReceipt) (PhoneMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pm := s.msgs[seq]
	if pm == nil {
		return PhoneMessage{}, false
	}
	pm.auto = append([]PhoneReceipt(nil), rs...)
	pm.mergeReceipts()
	return pm.clone(), true
}

// addManualReceipt adds a receipt fired through FireReceipt.
func (s *side) addManualReceipt(seq int64, r PhoneReceipt) (PhoneMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pm := s.msgs[seq]
	if pm == nil {
		return PhoneMessage{}, false
	}
	pm.manual = append(pm.manual, r)
	pm.mergeReceipts()
	return pm.clone(), true
}

func (pm *PhoneMessage) mergeReceipts() {
	rs := append(append([]PhoneReceipt{}, pm.auto...), pm.manual...)
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Time.Before(rs[j].Time) })
	pm.Receipts = rs
}

// findNamed finds the latest accepted send of a provider whose id a
// callback body names.
func (s *side) findNamed(prov string, body []byte) (PhoneMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, n := len(s.order)-1, 0; i >= 0 && n < 1000; i-- {
		pm := s.msgs[s.order[i]]
		if pm == nil || pm.Provider != prov || pm.Direction != FromBusiness || len(pm.ProviderID) < 6 {
			continue
		}
		n++
		if bytes.Contains(body, []byte(pm.ProviderID)) || bytes.Contains(body, []byte(url.QueryEscape(pm.ProviderID))) {
			return pm.clone(), true
		}
	}
	return PhoneMessage{}, false
}

func (s *side) get(seq int64) (PhoneMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pm := s.msgs[seq]
	if pm == nil {
		return PhoneMessage{}, false
	}
	return pm.clone(), true
}

func (s *side) flowOf(seq int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if pm := s.msgs[seq]; pm != nil {
		return pm.Flow
	}
	return ""
}

func (s *side) byProviderID(prov, id string) (PhoneMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.order) - 1; i >= 0; i-- {
		pm := s.msgs[s.order[i]]
		if pm != nil && pm.Provider == prov && pm.ProviderID == id && pm.Direction == FromBusiness && pm.API != nil && pm.API.Accepted {
			return pm.clone(), true
		}
	}
	return PhoneMessage{}, false
}

// list returns the phone messages of a channel and contact ("" for all), oldest first.
func (s *side) list(channelID, contactID string) []PhoneMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []PhoneMessage{}
	for _, seq := range s.order {
		pm := s.msgs[seq]
		if pm == nil || (channelID != "" && pm.ChannelID != channelID) || (contactID != "" && pm.ContactID != contactID) {
			continue
		}
		out = append(out, pm.clone())
	}
	return out
}

// eventRef is one event of a webhook body, as far as the flows care.
type eventRef struct {
	Type string
	MID  string
}

// tieWebhook finds the flows of a server → platform post: a message event
// belongs to the customer message whose provider id is its mId, else to the
// contact's oldest customer message still waiting; a status to the flow of
// its mId (or of the provider id a server wrongly posted). Accepted message
// events complete their flow; the phone messages that changed are returned.
func (s *side) tieWebhook(channelID, contactID string, evs []eventRef, accepted bool) ([]string, []PhoneMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var flows []string
	var linked []PhoneMessage
	add := func(id string) {
		for _, f := range flows {
			if f == id {
				return
			}
		}
		flows = append(flows, id)
	}
	for _, ev := range evs {
		switch ev.Type {
		case string(channel.EventMessage):
			id, ok := s.byPID[ev.MID]
			if f := s.flows[id]; !ok || f == nil || f.Direction != FlowIncoming {
				id, ok = "", false
				for _, p := range s.pending {
					if f := s.flows[p]; f != nil && f.ChannelID == channelID && f.ContactID == contactID {
						id, ok = p, true
						break
					}
				}
			}
			if !ok {
				continue
			}
			add(id)
			if !accepted || ev.MID == "" {
				continue
			}
			s.dropPendingLocked(id)
			f := s.flows[id]
			if f.MID != "" {
				continue // a second event for the same customer message: the report says so
			}
			f.MID = ev.MID
			s.byMID[contactKey{channelID, ev.MID}] = id
			for _, seq := range f.Phone {
				if pm := s.msgs[seq]; pm != nil {
					pm.MID = ev.MID
					linked = append(linked, pm.clone())
				}
			}
		case string(channel.EventStatus):
			if id, ok := s.byMID[contactKey{channelID, ev.MID}]; ok {
				add(id)
			} else if id, ok := s.byPID[ev.MID]; ok {
				add(id)
			}
		}
	}
	return flows, linked
}

func (s *side) flow(id string) (flowInfo, []PhoneMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.flows[id]
	if f == nil {
		return flowInfo{}, nil, false
	}
	cp := *f
	cp.Phone = append([]int64(nil), f.Phone...)
	var pms []PhoneMessage
	for _, seq := range f.Phone {
		if pm := s.msgs[seq]; pm != nil {
			pms = append(pms, pm.clone())
		}
	}
	return cp, pms, true
}
