package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/platform"
	"github.com/ccx-cli/ccx/internal/ui"
)

// The inbox as a debugging console: resend a logged request, retry a failed
// outgoing message, copy a request as curl. Everything goes through the
// handlers a real request takes, so a resend is logged, validated and
// rate-limited like the original.

// Errors of Resend and Retry.
var (
	ErrUnknownRequest = errors.New("no such request")
	ErrCannotResend   = errors.New("cannot resend this request")
	ErrUnknownMessage = errors.New("no such message")
	ErrCannotRetry    = errors.New("cannot retry this message")
)

// ResendResult answers POST /_emulator/requests/{seq}/resend.
type ResendResult struct {
	OK bool `json:"ok"`
	// Request is the new logged request (its ResendOf is the original's Seq).
	Request *RequestRecord `json:"request,omitempty"`
	// Message is the outgoing message a re-sent /message call stored.
	Message *Message `json:"message,omitempty"`
}

// resendInfo rides on a re-sent request's context: the record it re-sends,
// and the Seq the new record got.
type resendInfo struct{ of, seq int64 }

type resendKey struct{}

func resendOf(ctx context.Context) *resendInfo {
	ri, _ := ctx.Value(resendKey{}).(*resendInfo)
	return ri
}

// logRequest adds rec, tying it to the request it re-sends, if any, and
// returns its Seq.
func (e *Emulator) logRequest(ctx context.Context, rec RequestRecord) int64 {
	ri := resendOf(ctx)
	if ri != nil {
		rec.ResendOf = ri.of
	}
	seq := e.reqs.add(rec)
	if ri != nil {
		ri.seq = seq
	}
	return seq
}

// Resend re-sends a logged request: a webhook post goes through the
// emulator's handler again (same method, path, headers and body: a post to a
// wrong path is answered as before), a /message call is made again to
// the integration server (and stored as a new outgoing message). Provider
// hops are re-made by the message they belong to, not one by one.
func (e *Emulator) Resend(ctx context.Context, seq int64) (ResendResult, error) {
	rec, ok := e.reqs.get(seq)
	if !ok {
		return ResendResult{}, fmt.Errorf("%w: #%d (the log keeps the last %d)", ErrUnknownRequest, seq, maxRequests)
	}
	body := rec.body
	if rec.redacted {
		if rec.Truncated {
			return ResendResult{}, fmt.Errorf("%w: #%d: its body was cut at 64 KiB in the saved log", ErrCannotResend, seq)
		}
		body = []byte(rec.Body)
	}
	ri := &resendInfo{of: seq}
	ctx = context.WithValue(ctx, resendKey{}, ri)
	switch rec.Kind {
	case RequestWebhook:
		return e.resendWebhook(ctx, rec, body, ri)
	case RequestMessage:
		var req channel.OutgoingRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return ResendResult{}, fmt.Errorf("%w: #%d: its body is not an outgoing request: %v", ErrCannotResend, seq, err)
		}
		chID := rec.ChannelID
		if chID == "" {
			chID = req.ChannelID
		}
		m, err := e.Send(ctx, chID, req.ContactID, req.Message)
		if err != nil {
			return ResendResult{}, err
		}
		res := ResendResult{OK: m.Status != channel.StatusFailed, Message: &m}
		res.Request, _ = e.request(ri.seq)
		return res, nil
	}
	return ResendResult{}, fmt.Errorf("%w: #%d is a %s hop: resend the webhook post or /message call it belongs to", ErrCannotResend, seq, rec.Kind)
}

func (e *Emulator) resendWebhook(ctx context.Context, rec RequestRecord, body []byte, ri *resendInfo) (ResendResult, error) {
	target := e.url + WebhookPath
	if u, err := url.Parse(rec.URL); err == nil && u.Path != "" {
		target = e.url + u.RequestURI() // the port may have changed since
		if strings.HasPrefix(u.Path, APIPrefix) || strings.HasPrefix(u.Path, ProviderPrefix) {
			return ResendResult{}, fmt.Errorf("%w: #%d went to %s, not a webhook path", ErrCannotResend, rec.Seq, u.Path)
		}
	}
	r, err := http.NewRequestWithContext(ctx, rec.Method, target, bytes.NewReader(body))
	if err != nil {
		return ResendResult{}, fmt.Errorf("%w: #%d: %v", ErrCannotResend, rec.Seq, err)
	}
	r.Header = rec.Header.Clone()
	if r.Header == nil {
		r.Header = http.Header{}
	}
	r.Header.Del("Content-Length")
	if rec.redacted {
		e.restoreToken(r.Header, rec.ChannelID)
	}
	w := &discardWriter{h: http.Header{}}
	e.Handler().ServeHTTP(w, r) // the route that took the original
	res := ResendResult{OK: w.status >= 200 && w.status < 300}
	res.Request, _ = e.request(ri.seq)
	return res, nil
}

// restoreToken puts a channel's token back into a saved record's redacted
// Authorization header, when the redacted form is that channel's: the post
// it re-sends carried it.
func (e *Emulator) restoreToken(h http.Header, channelID string) {
	v := h.Get("Authorization")
	scheme, red, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok {
		return
	}
	for _, c := range e.channels {
		if (channelID == "" || c.ID == channelID) && ui.Redact(c.Token) == strings.TrimSpace(red) {
			h.Set("Authorization", scheme+" "+c.Token)
			return
		}
	}
}

// discardWriter answers an in-process request; logWebhook keeps what the log needs.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

// request is one logged request as Requests hands it out.
func (e *Emulator) request(seq int64) (*RequestRecord, bool) {
	if seq <= 0 {
		return nil, false
	}
	for _, r := range e.Requests(seq - 1) {
		if r.Seq == seq {
			return &r, true
		}
	}
	return nil, false
}

// Retry sends a failed outgoing message again, as a new message to the same
// contact (the failed one keeps its status: the platform never revives a
// failed message either).
func (e *Emulator) Retry(ctx context.Context, seq int64) (Message, error) {
	m, ok := e.messageBySeq(seq)
	switch {
	case !ok:
		return Message{}, fmt.Errorf("%w: #%d", ErrUnknownMessage, seq)
	case m.Direction != Out || m.Origin != OriginPlatform:
		return Message{}, fmt.Errorf("%w: #%d was not sent by the platform", ErrCannotRetry, seq)
	case m.Status != channel.StatusFailed:
		return Message{}, fmt.Errorf("%w: #%d is %s, not failed", ErrCannotRetry, seq, m.Status)
	}
	return e.Send(ctx, m.ChannelID, m.ContactID, m.Content)
}

func (e *Emulator) messageBySeq(seq int64) (Message, bool) {
	s := e.store
	s.mu.Lock()
	defer s.mu.Unlock()
	i := sort.Search(len(s.msgs), func(i int) bool { return s.msgs[i].seq >= seq }) // msgs are in seq order
	if i == len(s.msgs) || s.msgs[i].seq != seq {
		return Message{}, false
	}
	return s.viewLocked(int32(i)), true
}

func (e *Emulator) handleResend(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no request %q: ids are the log's seq numbers", r.PathValue("seq")), nil)
		return
	}
	res, err := e.Resend(r.Context(), seq)
	switch {
	case errors.Is(err, ErrUnknownRequest):
		writeError(w, http.StatusNotFound, err.Error(), nil)
	case errors.Is(err, ErrCannotResend):
		writeError(w, http.StatusConflict, err.Error(), nil)
	case err != nil:
		sendError(w, err)
	default:
		writeJSON(w, http.StatusOK, res)
	}
}

func (e *Emulator) handleRetry(w http.ResponseWriter, r *http.Request) {
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no message %q: ids are the messages' seq numbers", r.PathValue("seq")), nil)
		return
	}
	m, err := e.Retry(r.Context(), seq)
	switch {
	case errors.Is(err, ErrUnknownMessage):
		writeError(w, http.StatusNotFound, err.Error(), nil)
	case errors.Is(err, ErrCannotRetry):
		writeError(w, http.StatusConflict, err.Error(), nil)
	case err != nil:
		sendError(w, err)
	default:
		writeJSON(w, http.StatusOK, SendResponse{OK: m.Status != channel.StatusFailed, Message: m})
	}
}

// curlOf renders a handed-out (redacted) record as a curl command. The
// platform's token becomes $CCX_API_TOKEN; other credentials stay redacted
// and the command says so.
func curlOf(r *RequestRecord) string {
	ownToken := r.Kind == RequestWebhook || r.Kind == RequestMessage
	names := make([]string, 0, len(r.Header))
	for k := range r.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	var lines []string
	redacted := false
	for _, k := range names {
		switch http.CanonicalHeaderKey(k) {
		case "Content-Length", "Host", "Accept-Encoding", "Connection":
			continue // curl sets these
		}
		for _, v := range r.Header[k] {
			if ownToken && http.CanonicalHeaderKey(k) == "Authorization" {
				if scheme, _, ok := strings.Cut(strings.TrimSpace(v), " "); ok {
					v = scheme + " " + platform.TokenVar
				} else {
					v = platform.TokenVar
				}
			} else if ui.IsCredentialHeader(k) {
				redacted = true
			}
			lines = append(lines, strings.ToLower(k)+": "+v)
		}
	}
	var body []byte
	if r.Body != "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		body = []byte(r.Body)
	}
	var pre strings.Builder
	if r.Truncated {
		pre.WriteString("# The log cut this body at 64 KiB: the command sends the cut body.\n")
	}
	if redacted || (!ownToken && strings.Contains(r.URL, "…")) {
		pre.WriteString("# Credentials are redacted: put the real ones in before running it.\n")
	}
	return pre.String() + platform.CurlCommand(r.Method, r.URL, lines, body)
}
