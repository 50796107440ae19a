package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
)

// SendRequest is the body of POST /_emulator/channels/{id}/send.
type SendRequest struct {
	ContactID string          `json:"contactId,omitempty"` // empty: the most recent contact
	Message   channel.Message `json:"message"`
}

// SendResponse answers it: the stored message, and whether the integration
// server accepted it.
type SendResponse struct {
	OK      bool    `json:"ok"`
	Message Message `json:"message"`
}

// Info is GET /_emulator/: what runs where (no tokens).
type Info struct {
	URL        string    `json:"url"`
	WebhookURL string    `json:"webhookUrl"`
	Channels   []Channel `json:"channels"`
	RateLimit  float64   `json:"rateLimit"`
	StatePath  string    `json:"statePath,omitempty"`
	// Providers are the attached provider fakes (the customer's side).
	Providers []ProviderInfo `json:"providers"`
}

// CustomerRequest is the body of POST /_emulator/providers/{name}/inbound:
// the customer contactId writes message through the provider.
type CustomerRequest struct {
	ContactID string          `json:"contactId"`
	Message   channel.Message `json:"message"`
}

// ReceiptRequest is the body of POST /_emulator/providers/{name}/receipt.
type ReceiptRequest struct {
	ProviderID string              `json:"providerId"`
	Status     channel.StatusValue `json:"status"`
	Reason     string              `json:"reason,omitempty"`
}

// PhoneResponse answers both: the phone message, and whether the server
// took the webhook.
type PhoneResponse struct {
	OK    bool         `json:"ok"`
	Phone PhoneMessage `json:"phone"`
}

// The inspection API is unauthenticated: it binds loopback like the rest and
// never returns tokens.
func (e *Emulator) routeAPI(mux *http.ServeMux) {
	mux.HandleFunc("GET /_emulator/{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, e.info())
	})
	mux.HandleFunc("GET /_emulator/health", func(w http.ResponseWriter, r *http.Request) {
		// streams: the open event streams (a follower can be waited for).
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "streams": e.bus.streams()})
	})
	mux.HandleFunc("GET /_emulator/state", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		w.Header().Set("Content-Type", "application/json")
		// Streamed: an error mid-way can only cut the answer short.
		_ = e.WriteState(w, Filter{ChannelID: q.Get("channelId"), ContactID: q.Get("contactId")})
	})
	mux.HandleFunc("GET /_emulator/contacts", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit, ok := pageLimit(w, q)
		if !ok {
			return
		}
		p, err := e.ContactPage(q.Get("channelId"), limit, q.Get("before"))
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error(), nil)
			return
		}
		writeJSON(w, http.StatusOK, contactsBody{Contacts: p.Items, Next: p.Next})
	})
	mux.HandleFunc("GET /_emulator/messages", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		f := Filter{ChannelID: q.Get("channelId"), ContactID: q.Get("contactId")}
		limit, ok := pageLimit(w, q)
		if !ok {
			return
		}
		if limit == 0 && q.Get("before") == "" { // the unpaginated answer: every match
			writeJSON(w, http.StatusOK, messagesBody{Messages: e.Messages(f)})
			return
		}
		if limit == 0 {
			limit = defaultPage
		}
		p, err := e.MessagePage(f, limit, q.Get("before"))
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error(), nil)
			return
		}
		writeJSON(w, http.StatusOK, messagesBody{Messages: p.Items, Next: p.Next})
	})
	mux.HandleFunc("GET /_emulator/warnings", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"warnings": e.Warnings()})
	})
	mux.HandleFunc("POST /_emulator/reset", func(w http.ResponseWriter, r *http.Request) {
		e.Reset()
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	mux.HandleFunc("GET /_emulator/requests", e.handleRequests)
	mux.HandleFunc("POST /_emulator/requests/{seq}/resend", e.handleResend)
	mux.HandleFunc("POST /_emulator/messages/{seq}/retry", e.handleRetry)
	mux.HandleFunc("POST /_emulator/channels/{id}/send", e.handleSend)
	mux.HandleFunc("GET /_emulator/events", e.handleEvents)
	mux.HandleFunc("GET /_emulator/phone", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		writeJSON(w, http.StatusOK, map[string]any{"messages": e.Phone(q.Get("channelId"), q.Get("contactId"))})
	})
	mux.HandleFunc("GET /_emulator/providers", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"providers": e.Providers()})
	})
	mux.HandleFunc("POST /_emulator/providers/{name}/inbound", e.handleCustomer)
	mux.HandleFunc("POST /_emulator/providers/{name}/receipt", e.handleReceipt)
	mux.HandleFunc("GET /_emulator/flows/{id}", func(w http.ResponseWriter, r *http.Request) {
		rep, ok := e.Flow(r.PathValue("id"))
		if !ok {
			writeError(w, http.StatusNotFound, fmt.Sprintf("no flow %q (flows are kept for the last %d messages)", r.PathValue("id"), maxFlows/2), nil)
			return
		}
		writeJSON(w, http.StatusOK, rep)
	})
	mux.HandleFunc(APIPrefix, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no emulator endpoint %s %s (see GET /_emulator/)", r.Method, r.URL.Path), nil)
	})
}

// Pages of the list endpoints: ?limit= (at most maxPage; absent: every
// item, as before pagination) and ?before=<the last page's next>.
const (
	defaultPage = 50
	maxPage     = 1000
)

// The answers of GET /contacts and /messages; next is absent on the last page.
type contactsBody struct {
	Contacts []ContactSummary `json:"contacts"`
	Next     string           `json:"next,omitempty"`
}

type messagesBody struct {
	Messages []Message `json:"messages"`
	Next     string    `json:"next,omitempty"`
}

func pageLimit(w http.ResponseWriter, q url.Values) (int, bool) {
	v := q.Get("limit")
	if v == "" {
		return 0, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPage {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("limit must be a number from 1 to %d, not %q", maxPage, v), nil)
		return 0, false
	}
	return n, true
}

func (e *Emulator) info() Info {
	return Info{URL: e.url, WebhookURL: e.url + WebhookPath, Channels: e.Channels(), RateLimit: e.opts.RateLimit, StatePath: e.opts.StatePath,
		Providers: e.Providers()}
}

// readJSON decodes a small JSON request body into v, answering the error itself.
func (e *Emulator) readJSON(w http.ResponseWriter, r *http.Request, v any, shape string) bool {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, e.maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "could not read the body: "+err.Error(), nil)
		return false
	}
	if err := json.Unmarshal(data, v); err != nil {
		writeError(w, http.StatusBadRequest, "body must be "+shape+": "+err.Error(), nil)
		return false
	}
	return true
}

func phoneError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrUnknownProvider), errors.Is(err, ErrUnknownSend):
		writeError(w, http.StatusNotFound, err.Error(), nil)
	case errors.Is(err, ErrCustomerMessage):
		writeError(w, http.StatusBadRequest, err.Error(), nil)
	case errors.Is(err, ErrNoAPIBaseURL), errors.Is(err, ErrReceiptDone):
		writeError(w, http.StatusConflict, err.Error(), nil)
	default:
		writeError(w, http.StatusInternalServerError, err.Error(), nil)
	}
}

func (e *Emulator) handleCustomer(w http.ResponseWriter, r *http.Request) {
	var req CustomerRequest
	if !e.readJSON(w, r, &req, `{"contactId": "...", "message": {...}}`) {
		return
	}
	pm, err := e.SendAsCustomer(r.Context(), r.PathValue("name"), req.ContactID, req.Message)
	if err != nil {
		phoneError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, PhoneResponse{OK: pm.Webhook != nil && pm.Webhook.Error == "", Phone: pm})
}

func (e *Emulator) handleReceipt(w http.ResponseWriter, r *http.Request) {
	var req ReceiptRequest
	if !e.readJSON(w, r, &req, `{"providerId": "...", "status": "delivered|read|failed|sent", "reason": "..."}`) {
		return
	}
	pm, err := e.FireReceipt(r.Context(), r.PathValue("name"), req.ProviderID, req.Status, req.Reason)
	if err != nil {
		phoneError(w, err)
		return
	}
	ok := false
	if n := len(pm.Receipts); n > 0 {
		last := pm.Receipts[n-1]
		ok = last.Status == req.Status && last.Error == ""
	}
	writeJSON(w, http.StatusOK, PhoneResponse{OK: ok, Phone: pm})
}

func (e *Emulator) handleSend(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, e.maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "could not read the body: "+err.Error(), nil)
		return
	}
	var req SendRequest
	if err := json.Unmarshal(data, &req); err != nil {
		writeError(w, http.StatusBadRequest, `body must be {"contactId": "...", "message": {...}}: `+err.Error(), nil)
		return
	}
	m, err := e.Send(r.Context(), r.PathValue("id"), req.ContactID, req.Message)
	if err != nil {
		sendError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, SendResponse{OK: m.Status != channel.StatusFailed, Message: m})
}

// sendError answers an error of Send.
func sendError(w http.ResponseWriter, err error) {
	var inv *InvalidMessageError
	switch {
	case errors.As(err, &inv):
		writeError(w, http.StatusBadRequest, err.Error(), inv.Findings)
	case errors.Is(err, ErrUnknownChannel):
		writeError(w, http.StatusNotFound, err.Error(), nil)
	case errors.Is(err, ErrNoAPIBaseURL), errors.Is(err, ErrNoContact), errors.Is(err, ErrCannotStart):
		writeError(w, http.StatusConflict, err.Error(), nil)
	default:
		writeError(w, http.StatusInternalServerError, err.Error(), nil)
	}
}

// handleEvents streams events as Server-Sent Events: `event: <kind>` and
// `data: <json>` per event, a comment every 15s to keep proxies awake. A
// stream that falls streamBuffer events behind, or whose write takes longer
// than StreamWriteTimeout, is ended: a reader that stopped reading must not
// hold memory (EventSource reconnects and the page reloads its state).
func (e *Emulator) handleEvents(w http.ResponseWriter, r *http.Request) {
	events, lagged, cancel, ok := e.bus.subscribeStream(e.opts.MaxStreams)
	if !ok {
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("too many event streams open (at most %d): close some pages or clients", e.opts.MaxStreams), nil)
		return
	}
	defer cancel()
	rc := http.NewResponseController(w)
	// Each write gets its own deadline (it also lifts the server's
	// WriteTimeout, which a stream outlives).
	flush := func() bool {
		return rc.SetWriteDeadline(time.Now().Add(e.opts.StreamWriteTimeout)) == nil && rc.Flush() == nil
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.Header().Set("Connection", "close") // a dropped stream ends its connection too
	_ = rc.SetWriteDeadline(time.Now().Add(e.opts.StreamWriteTimeout))
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": ccx emulator event stream\n\n")
	if !flush() {
		return
	}
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-e.closing:
			return
		case <-keep.C:
			_ = rc.SetWriteDeadline(time.Now().Add(e.opts.StreamWriteTimeout))
			fmt.Fprint(w, ": keep-alive\n\n")
		case ev, ok := <-events:
			if !ok {
				if lagged() {
					_ = rc.SetWriteDeadline(time.Now().Add(e.opts.StreamWriteTimeout))
					fmt.Fprintf(w, ": dropped: more than %d events behind; reconnect and reload the state\n\n", streamBuffer)
					_ = rc.Flush()
				}
				return
			}
			data, _ := json.Marshal(ev)
			_ = rc.SetWriteDeadline(time.Now().Add(e.opts.StreamWriteTimeout))
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.Seq, ev.Kind, data)
		}
		if !flush() {
			return
		}
	}
}
