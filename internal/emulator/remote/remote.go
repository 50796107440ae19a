// Package remote is the client side of a running `ccx emulate`: where to
// find it, the bounded waits for it (and for the server it calls), and the
// commands that drive it (an agent's send, a customer's message, the inbox)
// with their printers.
package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/outgoing"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/verdict"
)

// EnvURL overrides where `emulate send|inbox` find the emulator.
const EnvURL = "CCX_EMULATOR_URL"

// URL picks the emulator to talk to: flag, CCX_EMULATOR_URL, the 'local'
// profile's webhook origin (file may be nil), then the default port.
func URL(flag string, getenv func(string) string, file *config.File) string {
	if flag != "" {
		return flag
	}
	if v := getenv(EnvURL); v != "" {
		return v
	}
	if file != nil {
		if p, ok := file.Profiles[config.LocalProfile]; ok && p.WebhookURL != "" {
			if u, err := url.Parse(p.WebhookURL); err == nil && u.Host != "" && strings.HasSuffix(u.Path, strings.TrimSuffix(emulator.WebhookPath, "/")+"/") {
				return u.Scheme + "://" + u.Host
			}
		}
	}
	return emulator.DefaultURL
}

// Error tags client errors with their kind.
func Error(err error) error {
	var ue *emulator.UnreachableError
	if errors.As(err, &ue) {
		return fault.New(fault.IO, err)
	}
	if errors.Is(err, context.Canceled) {
		return fault.New(fault.Interrupted, err)
	}
	return fault.New(fault.Failure, err)
}

// httpClient bounds calls to the emulator API; a send waits for the
// integration server, whose own timeout is 10s.
var httpClient = http.Client{Timeout: 15 * time.Second}

// Client is a client of the emulator at base.
func Client(base string) *emulator.Client {
	return &emulator.Client{BaseURL: base, HTTP: &httpClient}
}

// sendJSON is emulate send's --json: the emulator's answer with the
// verdict on your server's reply.
type sendJSON struct {
	emulator.SendResponse
	Verdict verdict.Verdict `json:"verdict"`
}

// Send makes the emulator at base call the server's /message with m, as an
// agent would, and reports it. wait is given the server's base URL first
// (to wait for it), warn a base URL to check. The verdict is OK when the
// server took the message.
func Send(ctx context.Context, io *ui.IOStreams, asJSON bool, base, channelID, to string, m channel.Message, wait func(base string), warn func(base, what string)) (verdict.Verdict, error) {
	c := Client(base)
	if info, err := c.Info(ctx); err == nil {
		for i, ch := range info.Channels {
			if ch.ID == channelID || (channelID == "" && i == 0) {
				wait(ch.APIBaseURL)
			}
		}
	}
	res, err := c.Send(ctx, channelID, to, m)
	if err != nil {
		return verdict.OK, Error(err)
	}
	msg := res.Message
	v := verdict.OK
	status, latency, url := 0, 0.0, ""
	if msg.Reply != nil {
		status, latency, url = msg.Reply.HTTPStatus, msg.Reply.LatencyMS, msg.Reply.URL
		if msg.Reply.Verdict != "" {
			v = msg.Reply.Verdict
		}
	}
	if !res.OK && v == verdict.OK { // an emulator without verdicts
		v = verdict.WrongReply
	}
	if asJSON {
		if err := ui.WriteJSON(io.Out, sendJSON{SendResponse: res, Verdict: v}); err != nil {
			return verdict.OK, err
		}
	}
	st := io.Styles(io.ErrOut)
	if res.OK {
		if !asJSON {
			fmt.Fprintln(io.Out, msg.MID)
		}
		fmt.Fprintf(io.ErrOut, "%s %s to %s: your server answered %d in %.1fms, mId %s\n", st.OK.Render("sent"), emulator.Describe(msg.Content), msg.ContactID, status, latency, msg.MID)
		return verdict.OK, nil
	}
	fmt.Fprintf(io.ErrOut, "%s %s to %s: %s\n", st.Error.Render("failed"), emulator.Describe(msg.Content), msg.ContactID, msg.Reason)
	if url != "" {
		label, text := outgoing.Explain(v, status, nil)
		fmt.Fprintf(io.ErrOut, "  called POST %s: %s (%s)\n", url, label, text)
		warn(strings.TrimSuffix(url, channel.MessagePath), "the emulator's API base URL")
	}
	if v == verdict.Auth {
		fmt.Fprintf(io.ErrOut, "hint: the emulator sends the channel's token ('ccx emulate' prints it once with --show-token; 'ccx config get api_token --profile local --show-token'); make your server expect that token, or restart 'ccx emulate --token TOKEN' with yours\n")
	}
	return v, nil
}

// inboxJSON is the --json form of the inbox.
type inboxJSON struct {
	Conversations []emulator.Conversation `json:"conversations"`
	Warnings      []emulator.Warning      `json:"warnings"`
}

// PrintInbox prints st's conversations (of channelID, of contact: "" for all).
func PrintInbox(io *ui.IOStreams, asJSON bool, st emulator.State, channelID, contact string) error {
	convs := emulator.Conversations(st, channelID, contact)
	if asJSON {
		if convs == nil {
			convs = []emulator.Conversation{}
		}
		ws := st.Warnings
		if ws == nil {
			ws = []emulator.Warning{}
		}
		return ui.WriteJSON(io.Out, inboxJSON{Conversations: convs, Warnings: ws})
	}
	emulator.WriteInbox(io.Out, st, convs, io.Styles(io.Out))
	return nil
}

// Customer makes the emulator at base post m to the server as a customer of
// prov ("": its only provider), from the contact from ("": the sample one).
func Customer(ctx context.Context, io *ui.IOStreams, asJSON bool, base, prov, from string, m channel.Message) error {
	c := Client(base)
	if prov == "" {
		info, err := c.Info(ctx)
		if err != nil {
			return Error(err)
		}
		switch len(info.Providers) {
		case 0:
			return fault.New(fault.Failure, fmt.Errorf("the emulator at %s plays no provider: start it with 'ccx emulate --provider NAME'", base))
		case 1:
			prov = info.Providers[0].Name
		default:
			var names []string
			for _, p := range info.Providers {
				names = append(names, p.Name)
			}
			return fault.Usagef("the emulator plays %s: pick one with --provider", strings.Join(names, ", "))
		}
	}
	if from == "" {
		if i, err := emulators.Lookup(prov); err == nil {
			from = i.DefaultCustomer
		}
	}
	res, err := c.Customer(ctx, prov, from, m)
	if err != nil {
		return Error(err)
	}
	pm := res.Phone
	if asJSON {
		if err := ui.WriteJSON(io.Out, res); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(io.Out, pm.Flow)
	}
	st := io.Styles(io.ErrOut)
	w := pm.Webhook
	if res.OK {
		fmt.Fprintf(io.ErrOut, "%s %s from %s via %s: your server answered %d in %.1fms (flow %s)\n", st.OK.Render("posted"), emulator.Describe(pm.Message), pm.ContactID, pm.Provider, w.Status, w.LatencyMS, pm.Flow)
		return nil
	}
	reason := "no answer"
	status := 0
	if w != nil {
		reason, status = w.Error, w.Status
	}
	fmt.Fprintf(io.ErrOut, "%s %s from %s via %s: %s (flow %s)\n", st.Error.Render("refused"), emulator.Describe(pm.Message), pm.ContactID, pm.Provider, reason, pm.Flow)
	switch {
	case status == 401 || status == 403:
		fmt.Fprintf(io.ErrOut, "hint: your server refused %s's signature; it must verify with the credentials in the emulator's env file (ccx emulate prints its path)\n", pm.Provider)
		return fault.Silent(fault.Auth)
	case status == 0:
		return fault.Silent(fault.IO)
	}
	return fault.Silent(fault.Failure)
}
