package deliver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/listen"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/verdict"
)

// SendOptions are the flags of `ccx provider send`.
type SendOptions struct {
	Provider       string
	To             string
	From           string
	Name           string
	ID             string
	BusinessNumber string
	Credentials    string
	WebhookType    string
	BadSignature   bool
	Repeat         int
	Timeout        time.Duration
	DryRun         bool
}

// SendResult is provider send's --json output.
type SendResult struct {
	Provider string          `json:"provider"`
	Kind     string          `json:"kind"` // message | receipt
	Request  Request         `json:"request"`
	Attempts []Attempt       `json:"attempts"`
	Verdict  verdict.Verdict `json:"verdict"` // the worst attempt's (`ccx help exit-codes`)
	// BadSignature: the webhook was signed wrongly on purpose.
	BadSignature bool `json:"badSignature"`
}

// Request is the webhook as shown (secrets redacted).
type Request struct {
	Method      string `json:"method"`
	URL         string `json:"url"`
	ContentType string `json:"contentType,omitempty"`
	Body        string `json:"body,omitempty"`
}

// Send posts o.Provider's webhook for the customer message in or the
// receipt rs to o.To and prints how the server answered; the verdict is
// the worst attempt's.
func Send(ctx context.Context, ios *ui.IOStreams, asJSON bool, o *SendOptions, in *provider.CustomerMessage, rs *provider.ReceiptSpec) (verdict.Verdict, error) {
	info, err := emulators.LookupFlag(o.Provider)
	if err != nil {
		return verdict.OK, err
	}
	switch {
	case o.To == "":
		return verdict.OK, fault.Usagef("no webhook URL: pass --to (ccx relay serves %s)", strings.Join(info.Webhooks, " and "))
	case o.Repeat < 1 || o.Repeat > 100:
		return verdict.OK, fault.Usagef("invalid --repeat %d: use 1..100", o.Repeat)
	case o.Timeout <= 0:
		return verdict.OK, fault.Usagef("invalid --timeout %v", o.Timeout)
	}
	if err := emulators.CheckWebhookType(info, o.WebhookType); err != nil {
		return verdict.OK, err
	}
	if err := emulators.CheckURL("--to", o.To); err != nil {
		return verdict.OK, err
	}
	if err := emulators.CheckAddress(info, "--business-number", o.BusinessNumber); err != nil {
		return verdict.OK, err
	}
	creds, err := emulators.ReadCredentials(ctx, info, o.Credentials, ios.Getenv)
	if err != nil {
		return verdict.OK, err
	}
	var miss []string
	for _, k := range info.SignWith {
		if creds[k] == "" {
			miss = append(miss, k)
		}
	}
	if len(miss) > 0 {
		return verdict.OK, fault.Usagef("to sign as %s, give %s (env or --credentials FILE, e.g. the file 'ccx provider serve --credentials-out' wrote)", info.Name, strings.Join(miss, ", "))
	}
	emu, err := emulators.New(info.Name, emulators.Options{Credentials: creds, BusinessNumber: o.BusinessNumber, NoReceipts: true, WebhookType: o.WebhookType})
	if err != nil {
		return verdict.OK, fault.New(fault.Usage, err)
	}
	defer emu.Close()
	secrets := emulators.SecretValues(info, emu.Credentials())
	kind := "message"
	var build Build
	if rs != nil {
		kind = "receipt"
		rs.To, rs.BadSignature = o.From, o.BadSignature
		spec := *rs
		build = func() (*http.Request, error) { return emu.Receipt(o.To, spec) }
	} else {
		in.ID, in.From, in.Name, in.BadSignature = o.ID, o.From, o.Name, o.BadSignature
		msg := *in
		build = func() (*http.Request, error) { return emu.Inbound(o.To, msg) }
	}
	// Build once, so that every attempt is the same webhook.
	req, err := build()
	if errors.Is(err, provider.ErrNoReceipts) {
		return verdict.OK, fault.Usagef("%s sends no delivery receipts (bots get none); nothing to post", info.Name)
	}
	if err != nil {
		return verdict.OK, fault.New(fault.Usage, err)
	}
	body, _ := io.ReadAll(req.Body)
	fixed := func() (*http.Request, error) {
		r := req.Clone(context.Background())
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		return r, nil
	}
	shownReq := Request{Method: req.Method, URL: ui.RedactValues(req.URL.String(), secrets), ContentType: req.Header.Get("Content-Type"), Body: ui.RedactValues(string(body), secrets)}
	if o.DryRun {
		return verdict.OK, printDryRun(ios, asJSON, req, shownReq, secrets)
	}
	attempts, err := Post(ctx, info.Name, Options{Target: o.To, Timeout: o.Timeout, Repeat: o.Repeat, BadSignature: o.BadSignature, Secrets: secrets}, fixed)
	if err != nil {
		return verdict.OK, fault.New(fault.Usage, err)
	}
	res := SendResult{Provider: info.Name, Kind: kind, Request: shownReq, Attempts: attempts, Verdict: WorstVerdict(attempts), BadSignature: o.BadSignature}
	if asJSON {
		if err := ui.WriteJSON(ios.Out, res); err != nil {
			return verdict.OK, fault.New(fault.IO, err)
		}
		return res.Verdict, nil
	}
	printSend(ios, info, res, in, rs)
	return res.Verdict, nil
}

// WorstVerdict: no answer is worst, then a wrong answer, then a failure the
// provider would retry or drop, then an auth refusal.
func WorstVerdict(as []Attempt) verdict.Verdict {
	rank := map[verdict.Verdict]int{verdict.OK: 0, verdict.Auth: 1,
		verdict.Refused: 2, verdict.NoRoute: 2, verdict.RateLimited: 2, verdict.ServerError: 2,
		verdict.WrongReply: 3, verdict.Timeout: 4, verdict.Network: 4}
	v := verdict.OK
	for _, a := range as {
		if rank[a.Verdict] > rank[v] {
			v = a.Verdict
		}
	}
	return v
}

func printDryRun(ios *ui.IOStreams, asJSON bool, req *http.Request, shown Request, secrets []string) error {
	headers := map[string]string{}
	for k := range req.Header {
		headers[k] = ui.RedactValues(req.Header.Get(k), secrets)
	}
	if asJSON {
		return ui.WriteJSON(ios.Out, map[string]any{"method": shown.Method, "url": shown.URL, "headers": headers, "body": shown.Body})
	}
	fmt.Fprintf(ios.Out, "%s %s\n", shown.Method, shown.URL)
	keys := make([]string, 0, len(headers))
	for k := range headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(ios.Out, "%s: %s\n", k, headers[k])
	}
	fmt.Fprintf(ios.Out, "\n%s\n", shown.Body)
	return nil
}

func printSend(ios *ui.IOStreams, info emulators.Info, res SendResult, in *provider.CustomerMessage, rs *provider.ReceiptSpec) {
	w := ios.Out
	st := ios.Styles(w)
	what := ""
	switch {
	case rs != nil:
		what = st.Bold.Render("receipt") + " " + rs.ProviderID + " " + string(rs.Status)
	case in.Native != "":
		what = st.Bold.Render("native "+in.Native) + " " + listen.RenderMessage(&in.Message)
	default:
		what = st.Bold.Render(string(in.Message.Type)) + " " + listen.RenderMessage(&in.Message)
	}
	bad := ""
	if res.BadSignature {
		bad = st.Warning.Render("  (badly signed)")
	}
	fmt.Fprintf(w, "%s %s %s  %s %s%s\n", st.Info.Render("-->"), res.Request.Method, res.Request.URL, info.Name, what, bad)
	body := res.Request.Body
	if len(body) > 400 {
		body = body[:400] + "…"
	}
	fmt.Fprintf(w, "    %s\n", st.Dim.Render(body))
	for _, a := range res.Attempts {
		n := ""
		if len(res.Attempts) > 1 {
			n = fmt.Sprintf("#%d ", a.N)
		}
		if a.Verdict == verdict.Timeout || a.Verdict == verdict.Network {
			fmt.Fprintf(w, "%s %s%s  %s\n", st.Error.Render("<--"), n, st.Error.Render(a.Error), st.Dim.Render(ui.Millis(a.LatencyMS)))
			continue
		}
		fmt.Fprintf(w, "%s %s%s %s  %s\n", st.Info.Render("<--"), n, ui.HTTPStatus(st, a.Status), ui.OneLine(a.Body, 200), st.Dim.Render(ui.Millis(a.LatencyMS)))
		for _, x := range a.Findings {
			sty := st.Warning
			if x.Severity == "error" {
				sty = st.Error
			}
			fmt.Fprintf(w, "    %s %s\n", sty.Render(x.Severity), x.Message)
		}
	}
	switch res.Verdict {
	case verdict.OK:
		fmt.Fprintf(w, "%s the server took the webhook (2xx)\n", st.OK.Render("✓ ok:"))
	case verdict.Auth:
		if res.BadSignature {
			fmt.Fprintf(w, "%s the server refused the badly signed webhook (401/403), as it must\n", st.Warning.Render("✗ auth:"))
		} else {
			fmt.Fprintf(w, "%s the server refused the webhook's signature (401/403)\n", st.Warning.Render("✗ auth:"))
		}
	case verdict.Timeout, verdict.Network:
		fmt.Fprintf(w, "%s no HTTP answer from %s\n", st.Error.Render("✗ "+string(res.Verdict)+":"), res.Request.URL)
	case verdict.WrongReply:
		fmt.Fprintf(w, "%s the answer is wrong for %s\n", st.Error.Render("✗ wrong reply:"), info.Name)
	default:
		fmt.Fprintf(w, "%s the server did not take the webhook (%s)\n", st.Warning.Render("✗ "+string(res.Verdict)+":"), res.Verdict)
	}
}
