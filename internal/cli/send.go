package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/ctxio"
	"github.com/ccx-cli/ccx/internal/platform"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/ccx-cli/ccx/internal/verdict"
	"github.com/spf13/cobra"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// sendOptions are the flags shared by every `ccx send` subcommand.
type sendOptions struct {
	f *Factory

	settings config.Profile // flag values; resolved later over env and profile
	contact  channel.Contact
	timezone string
	mid      string
	ts       int64

	noValidate bool
	dryRun     bool
	showToken  bool
	verbose    bool

	count       int
	rate        float64
	concurrency int
	timeout     time.Duration
	retries     int
	backoff     time.Duration // hidden: tests make retries instant

	// resolved
	token string
	errMu sync.Mutex // retry lines come from many workers
}

// payload is what a subcommand built: the body, and for bulk runs the paths
// whose values change per request.
type payload struct {
	body     []byte
	what     string // "message text", "message_status", "file a.json"
	mid      string
	midPaths []string
	tsPaths  []string
	// needIDs: channel and contact must come from settings (built payloads).
	fromFile bool
}

func newSendCmd(f *Factory) *cobra.Command {
	o := &sendOptions{f: f}
	cmd := &cobra.Command{
		Use:   "send",
		Short: "Post message, message_echo and message_status events to the IS-Messenger webhook",
		Long: `Send builds a webhook event through the wire model, validates it, and POSTs it to
the channel's IS-Messenger webhook URL with "authorization: Bearer <API token>".

Settings come from flags, then CCX_* environment variables, then the active
profile (see 'ccx config' and 'ccx init'): webhook URL, channel ID, API token,
ID type and the default contact ID.

Bulk and load: --count N sends N requests, each with its own mId, at --rate
requests/second (default 20, the platform's limit; 0 = unlimited) over
--concurrency connections, then prints a summary (sent, failed by status,
achieved rate, latency p50/p90/p99). A progress bar is drawn on stderr when it
is a terminal. With --json a single send prints one result object; a bulk send
prints one NDJSON line per request ("type":"result") and a final
"type":"summary" line. A bulk run stops at the first 401/403.

Exit codes: 0 sent (all of them), 1 rejected by the platform (or the payload is
invalid), 2 usage, 3 network (no response), 4 authentication rejected (401/403),
130 interrupted.`,
		Example: `  ccx send text "Hello World"
  ccx send text hi --contact-id +60177872890 --first-name John --dry-run
  ccx send attachment https://example.com/cat.jpg --kind image --echo
  ccx send receipt 5f0c6a9e-3a47-4ea4-9a55-63e1f2c5a3b1 --status failed --reason "Invalid token"
  ccx send file payload.json --set events.0.message.text=hi
  ccx send text load --count 200 --rate 20 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageHelp("ccx send", errors.New("send needs a subcommand: text, attachment, location, quick-reply, custom-payload, receipt or file"))
		},
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.settings.WebhookURL, "webhook-url", "", "IS-Messenger webhook URL (env CCX_WEBHOOK_URL)")
	pf.StringVar(&o.settings.ChannelID, "channel-id", "", "channel ID (env CCX_CHANNEL_ID)")
	pf.StringVar(&o.settings.APIToken, "token", "", "API token (env CCX_API_TOKEN; prefer the env or a profile: flags end up in shell history)")
	pf.StringVar(&o.settings.IDType, "id-type", "", "contact ID type: phone|custom (env CCX_ID_TYPE)")
	pf.StringVar(&o.settings.ContactID, "contact-id", "", "contact ID, in the ID type's format (env CCX_CONTACT_ID)")
	pf.StringVar(&o.contact.FirstName, "first-name", "", "contact first name (contact.firstName)")
	pf.StringVar(&o.contact.LastName, "last-name", "", "contact last name")
	pf.StringVar(&o.contact.Email, "email", "", "contact e-mail")
	pf.StringVar(&o.contact.Phone, "phone", "", "contact phone, E.164")
	pf.StringVar(&o.contact.CountryCode, "country-code", "", "contact country, ISO 3166-1 alpha-2 (MY)")
	pf.StringVar(&o.contact.Language, "language", "", "contact language, ISO 639-1 (en)")
	pf.StringVar(&o.contact.ProfilePic, "profile-pic", "", "contact avatar URL")
	pf.StringVar(&o.contact.Locale, "locale", "", "contact locale, e.g. en_US (undocumented; sent by official tooling)")
	pf.StringVar(&o.timezone, "timezone", "", "contact UTC offset in hours, e.g. 8 (undocumented; sent by official tooling)")
	pf.StringVar(&o.mid, "mid", "", "event mId (default: a fresh UUID; with --count, <mid>-<n>)")
	pf.Int64Var(&o.ts, "timestamp", 0, "event timestamp, UNIX milliseconds (default: now)")
	pf.BoolVar(&o.noValidate, "no-validate", false, "send even if the payload is invalid (to test the platform's reaction)")
	pf.BoolVar(&o.dryRun, "dry-run", false, "print the payload and the equivalent curl command; send nothing")
	pf.BoolVar(&o.showToken, "show-token", false, "show the API token in --dry-run output instead of redacting it")
	pf.IntVar(&o.count, "count", 1, "number of requests (bulk/load; each gets its own mId)")
	pf.Float64Var(&o.rate, "rate", channel.RateLimitPerSec, "requests per second, 0 = unlimited")
	pf.IntVar(&o.concurrency, "concurrency", 4, "requests in flight at once (bulk)")
	pf.DurationVar(&o.timeout, "timeout", platform.DefaultTimeout, "timeout per attempt")
	pf.IntVar(&o.retries, "retries", platform.DefaultMaxRetries, "retries on network errors, 429 and 5xx (0 = none)")
	pf.BoolVarP(&o.verbose, "verbose", "v", false, "show every retry as it happens (always on a terminal for a single send)")
	pf.DurationVar(&o.backoff, "retry-backoff", 0, "first retry delay (hidden; tests)")
	_ = pf.MarkHidden("retry-backoff")
	urlFlag(pf, "webhook-url")
	limitFlag(pf, "timestamp", 0, noMax, "0 (now) or UNIX milliseconds, e.g. 1700000000000")
	limitFlag(pf, "count", 1, noMax, "1 or more")
	limitFlag(pf, "rate", 0, math.Inf(1), useRate)
	limitFlag(pf, "concurrency", 1, 1000, "1-1000")
	limitFlag(pf, "timeout", time.Nanosecond, noMax, usePositive)
	limitFlag(pf, "retries", 0, 100, "0-100")
	limitFlag(pf, "retry-backoff", 0, noMax, useNonNeg)
	_ = cmd.RegisterFlagCompletionFunc("id-type", fixedCompletion(channel.IDTypes))

	msgs := MessageCommands("Send", "ccx send", func(c *cobra.Command, m channel.Message) error {
		echo, _ := c.Flags().GetBool("echo")
		return o.runMessage(c, m, echo)
	})
	for _, c := range msgs {
		c.Flags().Bool("echo", false, "send as a message_echo (sent by the business outside the platform) instead of a message")
		c.Long = strings.TrimSpace(c.Long + "\n\nWithout --echo the event is a \"message\" (the contact wrote it); with --echo a\n\"message_echo\" (the business sent it outside the platform).")
	}
	cmd.AddCommand(msgs...)
	cmd.AddCommand(newSendReceiptCmd(o), newSendFileCmd(o))
	return cmd
}

func newSendReceiptCmd(o *sendOptions) *cobra.Command {
	var status, reason string
	cmd := &cobra.Command{
		Use:   "receipt MID --status sent|delivered|read|failed [--reason TEXT]",
		Short: "Send a message_status receipt for a message the platform asked you to send",
		Long: `A receipt (message_status event) reports the fate of a message the platform sent
through your /message endpoint: MID is the mId your server answered with.
Statuses normally move forward sent → delivered → read, or end in failed; give
--reason with failed. Any value may be sent, to test edge cases.`,
		Example: `  ccx send receipt 5f0c6a9e-3a47-4ea4-9a55-63e1f2c5a3b1 --status delivered
  ccx send receipt abc123 --status failed --reason "Number unreachable"`,
		Args: exactArgs(1, "MID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			v := channel.StatusValue(strings.ToLower(status))
			if status == "" {
				return UsageErrorf(fmt.Errorf("receipt needs --status sent|delivered|read|failed"))
			}
			if !oneOf(v, channel.StatusValues) {
				return UsageErrorf(fmt.Errorf("invalid --status %q: use sent, delivered, read or failed", status))
			}
			if o.mid != "" {
				return UsageErrorf(fmt.Errorf("receipt takes the mId as its argument; drop --mid"))
			}
			return o.wrap(cmd, func(s config.Profile) (*payload, error) {
				ev := channel.NewReceipt(args[0], v, reason)
				if o.ts != 0 {
					ev.Timestamp = o.ts
				}
				p, err := o.envelope(s, ev)
				if err != nil {
					return nil, err
				}
				p.what = "message_status " + string(v)
				p.midPaths = nil // every receipt of a bulk run is about the same message
				return p, nil
			})
		},
	}
	cmd.Flags().StringVar(&status, "status", "", "sent|delivered|read|failed")
	cmd.Flags().StringVar(&reason, "reason", "", "failure reason (status.message), expected with failed")
	_ = cmd.RegisterFlagCompletionFunc("status", fixedCompletion(channel.StatusValues))
	return cmd
}

func newSendFileCmd(o *sendOptions) *cobra.Command {
	var sets, setStrings []string
	cmd := &cobra.Command{
		Use:   "file PAYLOAD.json|- [--set PATH=VALUE ...]",
		Short: "Send any webhook payload from a file or stdin, with overrides by path",
		Long: `Send a whole webhook body from a file ("-" reads stdin). --set PATH=VALUE overrides
a value by path (dots, array indexes as numbers: events.0.message.text=hi). The
value is a JSON literal when it parses as one (42, true, null, {"a":1}, "quoted"),
else a string; --set-string always sets a string. Missing channelId/contactId
are filled from the settings; --channel-id, --contact-id, --mid, --timestamp and
contact flags given explicitly override the file (--mid and --timestamp apply
to every event). With --count, every message/message_echo event gets a fresh
mId per request.`,
		Example: `  ccx send file payload.json
  ccx send file payload.json --set events.0.message.text=hi --set events.0.timestamp=1732435200000
  cat payload.json | ccx send file - --set-string contactId=+60123456789 --dry-run`,
		Args: exactArgs(1, "PAYLOAD.json"),
		RunE: func(cmd *cobra.Command, args []string) error {
			edits, err := parseSets(sets, setStrings)
			if err != nil {
				return err
			}
			data, err := readPayloadFile(cmd.Context(), o.f, args[0])
			if err != nil {
				return err
			}
			return o.wrap(cmd, func(s config.Profile) (*payload, error) {
				return o.filePayload(cmd, args[0], data, edits, s)
			})
		},
	}
	cmd.Flags().StringArrayVar(&sets, "set", nil, "override PATH=VALUE (JSON literal, else string); repeatable")
	cmd.Flags().StringArrayVar(&setStrings, "set-string", nil, "override PATH=VALUE, always as a string; repeatable")
	return cmd
}

type edit struct {
	path  string
	value string
	raw   bool
}

func parseSets(sets, setStrings []string) ([]edit, error) {
	var out []edit
	add := func(s, flag string, asString bool) error {
		path, value, ok := strings.Cut(s, "=")
		if !ok {
			return UsageErrorf(fmt.Errorf("--%s %q: want PATH=VALUE", flag, s))
		}
		if err := checkSetPath(path); err != nil {
			return UsageErrorf(fmt.Errorf("--%s %q: %v", flag, s, err))
		}
		raw := !asString && json.Valid([]byte(value))
		out = append(out, edit{path: path, value: value, raw: raw})
		return nil
	}
	for _, s := range sets {
		if err := add(s, "set", false); err != nil {
			return nil, err
		}
	}
	for _, s := range setStrings {
		if err := add(s, "set-string", true); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkSetPath accepts plain dotted paths: keys and array indexes, with
// sjson's "\." escape; no wildcards, queries or empty components.
func checkSetPath(path string) error {
	if path == "" {
		return errors.New("empty path")
	}
	if strings.ContainsAny(path, "*?#|@") {
		return errors.New("invalid path: wildcards, queries and modifiers (* ? # | @) are not allowed; use keys and indexes like events.0.message.text")
	}
	for _, part := range strings.Split(strings.ReplaceAll(path, `\.`, "_"), ".") {
		if part == "" {
			return errors.New("invalid path: empty component (leading, trailing or double dot)")
		}
	}
	return nil
}

// readPayloadFile reads a payload file, or stdin for "-"; a pipe or FIFO
// that never writes gives way to ctx.
func readPayloadFile(ctx context.Context, f *Factory, name string) ([]byte, error) {
	var in io.Reader = f.IO.In
	if name != "-" {
		fh, err := ctxio.Open(ctx, name)
		if err != nil {
			return nil, readError(ctx, fmt.Errorf("cannot read payload: %w", err))
		}
		defer fh.Close()
		in = fh
	}
	data, err := io.ReadAll(io.LimitReader(ctxio.Reader(ctx, in), 16<<20))
	if err != nil {
		return nil, readError(ctx, fmt.Errorf("cannot read payload: %w", err))
	}
	return data, nil
}

func (o *sendOptions) filePayload(cmd *cobra.Command, name string, data []byte, edits []edit, s config.Profile) (*payload, error) {
	p := &payload{what: "file " + name, fromFile: true}
	trimmed := bytes.TrimSpace(data)
	isObject := len(trimmed) > 0 && trimmed[0] == '{' && gjson.ValidBytes(trimmed)
	if !isObject {
		if len(edits) > 0 || o.count > 1 {
			return nil, UsageErrorf(fmt.Errorf("%s is not a JSON object, so --set and --count cannot apply", name))
		}
		// Not JSON: validation reports it (located), or --no-validate sends it as is.
		p.body = data
		return p, nil
	}
	body := append([]byte(nil), trimmed...)
	set := func(path string, v any) error {
		var err error
		body, err = sjson.SetBytes(body, path, v)
		return err
	}
	setRaw := func(path, raw string) error {
		var err error
		body, err = sjson.SetRawBytes(body, path, []byte(raw))
		return err
	}
	flags := cmd.Flags()
	for _, k := range []struct{ key, flag, val string }{
		{"channelId", "channel-id", s.ChannelID},
		{"contactId", "contact-id", s.ContactID},
	} {
		if (flags.Changed(k.flag) || !gjson.GetBytes(body, k.key).Exists()) && k.val != "" {
			if err := set(k.key, k.val); err != nil {
				return nil, err
			}
		}
	}
	contact, err := o.contactFields()
	if err != nil {
		return nil, err
	}
	if !contact.IsZero() {
		cb, _ := json.Marshal(contact)
		gjson.ParseBytes(cb).ForEach(func(k, v gjson.Result) bool {
			err = setRaw("contact."+k.String(), v.Raw)
			return err == nil
		})
		if err != nil {
			return nil, err
		}
	}
	events := gjson.GetBytes(body, "events")
	n := 0
	if events.IsArray() {
		n = len(events.Array())
	}
	for i := 0; i < n; i++ {
		if o.mid != "" {
			if err := set(fmt.Sprintf("events.%d.mId", i), o.mid); err != nil {
				return nil, err
			}
		}
		if o.ts != 0 {
			if err := set(fmt.Sprintf("events.%d.timestamp", i), o.ts); err != nil {
				return nil, err
			}
		}
	}
	for _, e := range edits {
		var err error
		if e.raw {
			err = setRaw(e.path, e.value)
		} else {
			err = set(e.path, e.value)
		}
		if err != nil {
			return nil, UsageErrorf(fmt.Errorf("--set %s: %v", e.path, err))
		}
	}
	p.body = body
	p.mid = gjson.GetBytes(body, "events.0.mId").String()
	for i, ev := range gjson.GetBytes(body, "events").Array() {
		if ev.Get("type").String() != string(channel.EventStatus) {
			p.midPaths = append(p.midPaths, fmt.Sprintf("events.%d.mId", i))
		}
	}
	return p, nil
}

func (o *sendOptions) contactFields() (channel.Contact, error) {
	c := o.contact
	if o.timezone != "" {
		tz, err := strconv.ParseFloat(o.timezone, 64)
		if err != nil || tz < -12 || tz > 14 {
			return c, UsageErrorf(fmt.Errorf("--timezone %q: want a UTC offset in hours between -12 and 14, e.g. 8 or -3.5", o.timezone))
		}
		c.Timezone = &tz
	}
	return c, nil
}

// envelope wraps one event built from flags.
func (o *sendOptions) envelope(s config.Profile, ev channel.Event) (*payload, error) {
	if err := requireSetting(s.ChannelID, "channel_id", "channel-id", "channel ID"); err != nil {
		return nil, err
	}
	if err := requireSetting(s.ContactID, "contact_id", "contact-id", "contact ID"); err != nil {
		return nil, err
	}
	contact, err := o.contactFields()
	if err != nil {
		return nil, err
	}
	w := channel.NewWebhook(s.ChannelID, s.ContactID, &contact, ev)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // bodies carry text exactly as typed
	if err := enc.Encode(w); err != nil {
		return nil, err
	}
	p := &payload{body: bytes.TrimRight(buf.Bytes(), "\n"), mid: ev.MID, midPaths: []string{"events.0.mId"}}
	if o.ts == 0 {
		p.tsPaths = []string{"events.0.timestamp"}
	}
	return p, nil
}

func (o *sendOptions) runMessage(cmd *cobra.Command, m channel.Message, echo bool) error {
	return o.wrap(cmd, func(s config.Profile) (*payload, error) {
		t := channel.EventMessage
		if echo {
			t = channel.EventEcho
		}
		ev := channel.NewEvent(t, m)
		if o.mid != "" {
			ev.MID = o.mid
		}
		if o.ts != 0 {
			ev.Timestamp = o.ts
		}
		p, err := o.envelope(s, ev)
		if err != nil {
			return nil, err
		}
		p.what = string(t) + " " + string(m.Type)
		return p, nil
	})
}

func requireSetting(v, key, flag, what string) error {
	if v != "" {
		return nil
	}
	return UsageErrorf(fmt.Errorf("no %s: pass --%s, set %s, or run `ccx config set %s VALUE` (or `ccx init`)", what, flag, config.EnvVars[key], key))
}

// wrap resolves settings, builds the payload, and sends it; every error it
// returns has the token redacted.
func (o *sendOptions) wrap(cmd *cobra.Command, build func(config.Profile) (*payload, error)) error {
	err := o.run(cmd.Context(), build)
	return redactErr(err, o.token)
}

func (o *sendOptions) checkFlags() error {
	// Numeric flags are bounded where they are defined (limitFlag).
	switch {
	case len(o.mid) > channel.MaxMIDLen:
		return UsageErrorf(fmt.Errorf("--mid is %d characters; the maximum is %d", len(o.mid), channel.MaxMIDLen))
	}
	return nil
}

// sendHook lets tests see the parsed options (nil in production).
var sendHook func(*sendOptions)

func (o *sendOptions) run(ctx context.Context, build func(config.Profile) (*payload, error)) error {
	if sendHook != nil {
		sendHook(o)
	}
	if err := o.checkFlags(); err != nil {
		return err
	}
	s, err := o.f.Settings(o.settings)
	if err != nil {
		return err
	}
	o.token = s.APIToken
	var idType channel.IDType
	if s.IDType != "" {
		if idType, err = channel.ParseIDType(s.IDType); err != nil {
			return UsageErrorf(fmt.Errorf("id_type: %v (from --id-type, CCX_ID_TYPE or the profile)", err))
		}
	}
	if s.WebhookURL != "" {
		if err := config.CheckURL(s.WebhookURL); err != nil {
			return UsageErrorf(fmt.Errorf("webhook URL: %v", err))
		}
		if w := channel.WebhookURLWarning(o.settings.WebhookURL); w != "" { // entered here, as a flag
			fmt.Fprintln(o.f.IO.ErrOut, "warning: "+w)
		}
	}
	if !o.dryRun {
		if err := requireSetting(s.WebhookURL, "webhook_url", "webhook-url", "webhook URL"); err != nil {
			return err
		}
		if err := requireSetting(s.APIToken, "api_token", "token", "API token"); err != nil {
			return err
		}
	}
	p, err := build(s)
	if err != nil {
		return err
	}
	if !o.noValidate {
		rep := validate.Bytes(p.body, validate.Options{Kind: validate.KindWebhook, IDType: idType, ChannelID: s.ChannelID})
		if rep.HasErrors() {
			return o.refuse(p, rep)
		}
		o.printFindings(rep)
	}
	if p.fromFile {
		// Findings above point into the file as written; the wire gets it compact.
		var c bytes.Buffer
		if json.Compact(&c, p.body) == nil {
			p.body = c.Bytes()
		}
	}
	if o.dryRun {
		return o.printDryRun(s, p)
	}
	client := platform.New(o.clientOptions(s))
	if o.count == 1 {
		return o.sendOne(ctx, client, s, p)
	}
	return o.sendBulk(ctx, client, p)
}

func (o *sendOptions) clientOptions(s config.Profile) platform.Options {
	return platform.Options{
		WebhookURL:  s.WebhookURL,
		Token:       s.APIToken,
		Timeout:     o.timeout,
		MaxRetries:  retriesOpt(o.retries),
		RateLimit:   o.rate,
		Concurrency: o.concurrency,
		Backoff:     o.backoff,
		OnRetry:     o.onRetry,
	}
}

// onRetry prints "retrying (2/4) after 429…" on stderr: with --verbose, and
// on a terminal for a single send (a bulk run has its progress bar).
func (o *sendOptions) onRetry(r platform.Retry) {
	if !o.verbose && (o.count > 1 || !o.f.IO.IsStderrTTY()) {
		return
	}
	why := r.Reason
	if r.Err != nil {
		why = "a network error (" + ui.RedactIn(r.Err.Error(), o.token) + ")"
	}
	st := o.f.IO.Styles(o.f.IO.ErrOut)
	o.errMu.Lock()
	defer o.errMu.Unlock()
	fmt.Fprintf(o.f.IO.ErrOut, "%s (%d/%d) after %s, in %s…\n", st.Warning.Render("retrying"), r.Attempt, r.MaxAttempts, why, r.Delay.Round(time.Millisecond))
}

// retriesOpt maps the flag (0 = none) to platform.Options (0 = default).
func retriesOpt(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

func (o *sendOptions) printFindings(rep validate.Report) {
	if len(rep.Findings) == 0 {
		return
	}
	st := o.f.IO.Styles(o.f.IO.ErrOut)
	for _, fd := range rep.Findings {
		label := st.Warning.Render(string(fd.Severity))
		if fd.Severity == validate.Error {
			label = st.Error.Render(string(fd.Severity))
		}
		path := fd.Path
		if path == "" {
			path = "(payload)"
		}
		fmt.Fprintf(o.f.IO.ErrOut, "%s %s:%d:%d %s [%s]\n", label, st.Path.Render(path), fd.Line, fd.Column, fd.Message, fd.Rule)
	}
}

func (o *sendOptions) refuse(p *payload, rep validate.Report) error {
	if o.f.JSON {
		_ = ui.WriteJSON(o.f.IO.Out, map[string]any{"ok": false, "error": "invalid payload", "findings": rep.Findings})
	}
	o.printFindings(rep)
	return Exit(ExitFailure, fmt.Errorf("refusing to send an invalid payload (%d error(s)); fix it, or pass --no-validate to send it anyway", rep.Errors()))
}

func (o *sendOptions) shownToken(s config.Profile) string {
	switch {
	case s.APIToken == "":
		return "<API token>"
	case o.showToken:
		return s.APIToken
	}
	return ui.Redact(s.APIToken)
}

func (o *sendOptions) printDryRun(s config.Profile, p *payload) error {
	url := s.WebhookURL
	if url == "" {
		url = "<webhook URL>"
	}
	curl := platform.Curl(url, o.shownToken(s), platform.UserAgent(), p.body)
	if o.f.JSON {
		out := map[string]any{
			"dryRun": true,
			"url":    url,
			"count":  o.count,
			"headers": map[string]string{
				"authorization": "Bearer " + o.shownToken(s),
				"content-type":  "application/json",
				"cache-control": "no-cache",
				"user-agent":    platform.UserAgent(),
			},
			"curl": curl,
		}
		if json.Valid(p.body) {
			out["payload"] = json.RawMessage(p.body)
		} else {
			out["payload"] = string(p.body)
		}
		return ui.WriteJSON(o.f.IO.Out, out)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, p.body, "", "  ") != nil {
		pretty.Reset()
		pretty.Write(p.body)
	}
	fmt.Fprintln(o.f.IO.Out, pretty.String())
	st := o.f.IO.Styles(o.f.IO.ErrOut)
	note := "dry run: nothing sent. The equivalent request:"
	if o.count > 1 {
		note = fmt.Sprintf("dry run: nothing sent (would send %d, each with its own mId). The first request:", o.count)
	}
	fmt.Fprintf(o.f.IO.ErrOut, "%s\n%s\n", st.Dim.Render(note), curl)
	return nil
}

// sendResult is the --json object of one request.
type sendResult struct {
	Type      string          `json:"type,omitempty"`
	Seq       int             `json:"seq,omitempty"`
	OK        bool            `json:"ok"`
	Event     string          `json:"event,omitempty"`
	MID       string          `json:"mId"`
	Status    int             `json:"status,omitempty"`
	Attempts  int             `json:"attempts,omitempty"`
	LatencyMs float64         `json:"latencyMs,omitempty"`
	Body      json.RawMessage `json:"body,omitempty"`
	Error     string          `json:"error,omitempty"`
	// Verdict says how it went (`ccx help exit-codes`); Warnings are the
	// platform's, from its 200 answer; Retried names why attempts were retried.
	Verdict  verdict.Verdict `json:"verdict"`
	Warnings []string        `json:"warnings,omitempty"`
	Retried  []string        `json:"retried,omitempty"`
}

func (o *sendOptions) result(out platform.Outcome) sendResult {
	r := sendResult{OK: out.OK(), MID: out.MID, Verdict: sendVerdict(out.Result, out.Err)}
	if out.Result != nil {
		r.Status = out.Result.Status
		r.Attempts = out.Result.Attempts
		r.Retried = out.Result.Retried
		r.Warnings = platformWarnings(out.Result, o.token)
		r.LatencyMs = ms(out.Result.Latency)
		if b := bytes.TrimSpace(out.Result.Body); len(b) > 0 {
			b = []byte(ui.RedactIn(string(b), o.token))
			if json.Valid(b) {
				r.Body = b
			} else {
				r.Body, _ = json.Marshal(platform.Snippet(b, 2000))
			}
		}
	} else {
		var ne *platform.NetworkError
		if errors.As(out.Err, &ne) {
			r.Attempts, r.Retried = ne.Attempts, ne.Retried
		}
	}
	if out.Err != nil {
		r.Error = ui.RedactIn(out.Err.Error(), o.token)
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (o *sendOptions) sendOne(ctx context.Context, c *platform.Client, s config.Profile, p *payload) error {
	res, err := c.Post(ctx, p.body)
	if errors.Is(err, context.Canceled) {
		return err
	}
	out := platform.Outcome{Seq: 1, MID: p.mid, Result: res, Err: err}
	if o.f.JSON {
		r := o.result(out)
		r.Event = p.what
		_ = ui.WriteJSON(o.f.IO.Out, r)
	} else if err == nil {
		st := o.f.IO.Styles(o.f.IO.Out)
		extra := ""
		if res.Attempts > 1 {
			extra = fmt.Sprintf(", %d attempts", res.Attempts)
		}
		fmt.Fprintf(o.f.IO.Out, "%s sent %s mId=%s: %d %s (%s%s)\n", st.OK.Render("✓"), p.what, p.mid, res.Status, http.StatusText(res.Status), res.Latency.Round(time.Millisecond/10), extra)
	}
	if res != nil {
		o.printWarnings(platformWarnings(res, o.token))
	}
	return sendError(err)
}

// platformWarnings are the "warnings" of a 200 answer (the emulator sends
// them; the platform may): accepted, but worth a look.
func platformWarnings(res *platform.Result, token string) []string {
	if res == nil || res.Status/100 != 2 {
		return nil
	}
	var out []string
	for _, w := range gjson.GetBytes(res.Body, "warnings").Array() {
		if s := strings.TrimSpace(w.String()); s != "" {
			out = append(out, ui.RedactIn(s, token))
		}
	}
	return out
}

func (o *sendOptions) printWarnings(ws []string) {
	st := o.f.IO.Styles(o.f.IO.ErrOut)
	for _, w := range ws {
		fmt.Fprintf(o.f.IO.ErrOut, "%s %s\n", st.Warning.Render("!"), w)
	}
}

// sendVerdict classifies a send's outcome in the words of `ccx help exit-codes`.
func sendVerdict(res *platform.Result, err error) verdict.Verdict {
	var se *platform.StatusError
	var ne *platform.NetworkError
	switch {
	case err == nil:
		return verdict.OK
	case errors.As(err, &se):
		return verdict.OfStatus(se.Result.Status, se.Result.Header, se.Result.Body)
	case errors.As(err, &ne) && platform.IsTimeout(ne.Err):
		return verdict.Timeout
	case errors.As(err, &ne):
		return verdict.Network
	case errors.Is(err, context.Canceled):
		return verdict.Interrupted
	}
	return verdict.Network
}

// sendError maps a platform error to its exit code, with a remedy.
func sendError(err error) error {
	if err == nil {
		return nil
	}
	var se *platform.StatusError
	if errors.As(err, &se) {
		switch v := verdict.OfStatus(se.Result.Status, se.Result.Header, se.Result.Body); v {
		case verdict.Auth:
			return Exit(ExitAuth, fmt.Errorf("%v\nThe platform rejected the credentials: check the API token and channel ID (`ccx config get api_token`, `ccx config set api_token -`, --token or CCX_API_TOKEN)", err))
		case verdict.NoRoute:
			return Exit(ExitFailure, fmt.Errorf("%v\nNothing answers at the webhook URL (404): copy it again from the channel's settings (`ccx config set webhook_url URL`)", err))
		case verdict.RateLimited:
			return Exit(ExitFailure, fmt.Errorf("%v\nThe platform is rate limiting this channel (20 requests/s): lower --rate, or raise --retries", err))
		}
		return Exit(ExitFailure, err)
	}
	var ne *platform.NetworkError
	if errors.As(err, &ne) {
		return Exit(ExitIO, err)
	}
	return err
}

func (o *sendOptions) sendBulk(ctx context.Context, c *platform.Client, p *payload) error {
	tpl, err := platform.NewTemplate(p.body, p.midPaths, p.tsPaths)
	if err != nil {
		return err
	}
	tpl.Now = channel.NowMillis
	tpl.NewMID = func(int) string { return channel.NewMID() }
	if o.mid != "" {
		tpl.NewMID = func(seq int) string { return o.mid + "-" + strconv.Itoa(seq) }
		if len(o.mid)+1+len(strconv.Itoa(o.count)) > channel.MaxMIDLen {
			return UsageErrorf(fmt.Errorf("--mid %q with --count %d makes mIds longer than %d characters", o.mid, o.count, channel.MaxMIDLen))
		}
	}
	body := tpl.Render
	if len(p.midPaths) == 0 { // receipts: every request is about the same mId
		body = func(seq int) ([]byte, string) {
			b, _ := tpl.Render(seq)
			return b, p.mid
		}
	}
	var mu sync.Mutex
	var done atomic.Int64
	bo := platform.BulkOptions{
		Count: o.count, Concurrency: o.concurrency, Body: body, Done: &done, StopOnAuth: true,
	}
	// Each distinct platform warning is said once, with how often it came.
	warned := map[string]int{}
	var order []string
	var wmu sync.Mutex
	noteWarnings := func(out platform.Outcome) {
		ws := platformWarnings(out.Result, o.token)
		if len(ws) == 0 {
			return
		}
		wmu.Lock()
		defer wmu.Unlock()
		for _, w := range ws {
			if warned[w] == 0 {
				order = append(order, w)
			}
			warned[w]++
		}
	}
	bo.OnOutcome = noteWarnings
	var flushNDJSON func()
	if o.f.JSON {
		// Buffered, flushed every 100ms and at the end: one write per line
		// would cost a syscall per request at load-test rates.
		bw := bufio.NewWriterSize(o.f.IO.Out, 64<<10)
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		bo.OnOutcome = func(out platform.Outcome) {
			noteWarnings(out)
			r := o.result(out)
			r.Type, r.Seq = "result", out.Seq
			mu.Lock()
			_ = enc.Encode(r)
			mu.Unlock()
		}
		quit := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					mu.Lock()
					_ = bw.Flush()
					mu.Unlock()
				case <-quit:
					return
				}
			}
		}()
		flushNDJSON = func() {
			close(quit)
			wg.Wait()
			_ = bw.Flush()
		}
	}
	stop := o.progress(&done)
	sum := c.Bulk(ctx, bo)
	stop()
	if flushNDJSON != nil {
		flushNDJSON()
	}

	if o.f.JSON {
		_ = ui.WriteJSON(o.f.IO.Out, bulkSummary{
			Type: "summary", Requested: o.count, Count: sum.Count, Sent: sum.Sent, Failed: sum.Failed,
			FailedByStatus: sum.ByStatus, ElapsedMs: ms(sum.Elapsed), RatePerSec: round2(sum.Rate),
			LatencyMs: latencies{P50: ms(sum.P50), P90: ms(sum.P90), P99: ms(sum.P99)}, Stopped: sum.Stopped,
			Retried: sum.Retried, RetriedBy: sum.RetriedBy, RateLimited: sum.RateLimited, Verdict: bulkVerdict(sum),
		})
	} else {
		o.printSummary(sum)
	}
	for _, w := range order {
		if n := warned[w]; n > 1 {
			w += fmt.Sprintf(" (×%d)", n)
		}
		o.printWarnings([]string{w})
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case sum.AuthError:
		return Exit(ExitAuth, fmt.Errorf("the platform rejected the credentials (401/403); stopped after %d request(s). Check the API token and channel ID (`ccx config get api_token`, --token or CCX_API_TOKEN)", sum.Count))
	case sum.ByStatus["network"] > 0 && sum.ByStatus["network"] == sum.Failed:
		return Exit(ExitIO, fmt.Errorf("%d of %d request(s) got no response", sum.Failed, sum.Count))
	case sum.Failed > 0:
		return Exit(ExitFailure, fmt.Errorf("%d of %d request(s) failed", sum.Failed, sum.Count))
	}
	return nil
}

// bulkSummary is the final NDJSON line of a bulk --json run.
type bulkSummary struct {
	Type           string          `json:"type"`
	Requested      int             `json:"requested"`
	Count          int             `json:"count"`
	Sent           int             `json:"sent"`
	Failed         int             `json:"failed"`
	FailedByStatus map[string]int  `json:"failedByStatus"`
	ElapsedMs      float64         `json:"elapsedMs"`
	RatePerSec     float64         `json:"ratePerSec"`
	LatencyMs      latencies       `json:"latencyMs"`
	Stopped        bool            `json:"stopped"`
	Retried        int             `json:"retried"`
	RetriedBy      map[string]int  `json:"retriedBy"`
	RateLimited    bool            `json:"rateLimited"`
	Verdict        verdict.Verdict `json:"verdict"`
}

// bulkVerdict is the run's verdict: what ended it, else the commonest failure.
func bulkVerdict(s platform.Summary) verdict.Verdict {
	switch {
	case s.AuthError:
		return verdict.Auth
	case s.Failed == 0:
		return verdict.OK
	case s.ByStatus["network"] == s.Failed:
		return verdict.Network
	case s.ByStatus["429"] > 0:
		return verdict.RateLimited
	}
	return verdict.Refused
}

type latencies struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

func (o *sendOptions) printSummary(s platform.Summary) {
	w := o.f.IO.Out
	st := o.f.IO.Styles(w)
	fmt.Fprintf(w, "%s %d of %d in %s (%.1f req/s)\n", st.OK.Render("sent"), s.Sent, o.count, s.Elapsed.Round(time.Millisecond), s.Rate)
	if s.Failed > 0 {
		keys := make([]string, 0, len(s.ByStatus))
		for k := range s.ByStatus {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s: %d", k, s.ByStatus[k])
		}
		fmt.Fprintf(w, "%s %d (%s)\n", st.Error.Render("failed"), s.Failed, strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "latency p50 %s  p90 %s  p99 %s\n", fmtDur(s.P50), fmtDur(s.P90), fmtDur(s.P99))
	if s.Retried > 0 {
		fmt.Fprintf(w, "%s %d request(s) (%s)\n", st.Warning.Render("retried"), s.Retried, countList(s.RetriedBy, "×"))
	}
	if s.RateLimited && o.rate > 0 && s.Rate < o.rate*0.9 {
		fmt.Fprintf(w, "%s %.1f req/s is below --rate %g because the platform rate-limited (429)\n", st.Warning.Render("note:"), s.Rate, o.rate)
	}
}

// countList renders {"429":3,"503":1} as "429 ×3, 503 ×1", sorted by key.
func countList(m map[string]int, sep string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %s%d", k, sep, m[k])
	}
	return strings.Join(parts, ", ")
}

func fmtDur(d time.Duration) string {
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return d.Round(time.Millisecond / 10).String()
}

// progress draws a bar on stderr while a bulk run goes, only on a terminal.
func (o *sendOptions) progress(done *atomic.Int64) (stop func()) {
	if !o.f.IO.IsStderrTTY() {
		return func() {}
	}
	quit := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	draw := func() {
		n := done.Load()
		const width = 30
		fill := int(int64(width) * n / int64(o.count))
		rate := float64(n) / time.Since(start).Seconds()
		fmt.Fprintf(o.f.IO.ErrOut, "\r[%s%s] %d/%d %.0f req/s ", strings.Repeat("=", fill), strings.Repeat(" ", width-fill), n, o.count, rate)
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				draw()
			case <-quit:
				draw()
				fmt.Fprintln(o.f.IO.ErrOut)
				return
			}
		}
	}()
	return func() { close(quit); <-finished }
}

// redactErr rewrites err's message with the token redacted, keeping its exit code.
func redactErr(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	msg := errors.New(ui.RedactIn(err.Error(), token))
	var ee *ExitError
	if errors.As(err, &ee) {
		return Exit(ee.Code, msg)
	}
	var fe *FlagError
	if errors.As(err, &fe) {
		return UsageErrorf(msg)
	}
	return Exit(exitCode(err), msg)
}
