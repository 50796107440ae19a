package main

// Examples that run: every `ccx ...` line in the commands' --help Examples and
// every line of README.md's ```sh blocks is run by bash, with the real ccx
// (the testscript shim on PATH), against local fakes: the emulator library as
// the IS-Messenger webhook, listen's handler as the integration server and a
// ccx relay for the end-to-end check. Each line must exit with the code in
// exampleWants (0 unless listed there with its reason), on free ports. The
// rules are in docs/contributing.md ("How examples are tested").

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/cli"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/listen"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/emulators"
	"github.com/ccx-cli/ccx/internal/relay"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/spf13/cobra"
)

const (
	exToken     = "ccx-examples-token-0123456789abcdef"
	exChannelID = "gfd8g7fd89dgfd"
	exContactID = "+60177872890"
	// notRun marks a README line that the test skips (keep it rare).
	notRun = "# not run in tests"
	// Deadlines: they bound a hang, they are not what is asserted. A line
	// must finish within lineDeadline; a server must listen within
	// readyDeadline and stop within stopDeadline of SIGINT.
	lineDeadline  = 60 * time.Second
	readyDeadline = 30 * time.Second
	stopDeadline  = 15 * time.Second
)

// exampleWant is what one example line must do in the examples' world.
type exampleWant struct {
	code   int    // the exact exit code
	server bool   // runs until stopped: must listen on its port, then exit code on SIGINT
	why    string // the reason for a non-zero code (and what the server is)
}

// exampleFollowers are the lines that run until stopped reading the world's
// emulator's event stream: stopped with SIGINT once the emulator counts one.
var exampleFollowers = map[string]bool{
	`ccx emulate inbox --follow --json | jq -c '{kind, contactId, text: .message.message.text}'`: true,
}

// exampleWants lists every example line that is a server or must not exit
// 0, keyed by exampleKey (the line without a trailing comment or '&', spaces
// collapsed). Every other line must exit 0. TestExampleWantsCurrent fails on
// a key no example has any more.
var exampleWants = map[string]exampleWant{
	// Servers: started on a free port, stopped with SIGINT once they listen;
	// a clean shutdown exits 0.
	"ccx emulate": {0, true, "server: the IS-Messenger emulator"},
	"ccx emulate --port 4747 --api-base-url http://127.0.0.1:3030 --state emulator.json": {0, true, "server: the emulator with a state file"},
	"ccx emulate --id-type custom --rate-limit 0 --json":                                 {0, true, "server: the emulator, NDJSON log"},
	"ccx listen":         {0, true, "server: the /message endpoint"},
	"ccx listen --local": {0, true, "server: the /message endpoint with the 'local' profile"},
	"ccx listen --port 3030 --json > calls.ndjson":                                                                                               {0, true, "server: the /message endpoint, NDJSON to a file"},
	`ccx listen --reply-status 400 --reply-message "number blocked"`:                                                                             {0, true, "server: the /message endpoint answering 400"},
	"ccx listen --fail-rate 0.2 --latency 300ms --record calls.ndjson":                                                                           {0, true, "server: the /message endpoint with failures and latency"},
	"ccx listen --forward-to http://127.0.0.1:8080/message":                                                                                      {0, true, "server: the /message endpoint forwarding"},
	"ccx listen --forward-to https://127.0.0.1:8443/message --cacert ca.pem --forward-timeout 3s -v":                                             {0, true, "server: the /message endpoint forwarding over TLS with a private CA"},
	"ccx listen --record calls.ndjson":                                                                                                           {0, true, "server: the /message endpoint recording calls"},
	"ccx relay --provider loopback --spool relay.db":                                                                                             {0, true, "server: the relay (loopback adapter)"},
	"ccx relay --config relay.toml --spool-dir spool --public-url https://relay.example.com":                                                     {0, true, "server: a relay of the config file's two channels"},
	"ccx relay --provider loopback --admin-addr 127.0.0.1:9100":                                                                                  {0, true, "server: the relay with its admin address"},
	"CCX_CLICKSEND_USERNAME=me CCX_CLICKSEND_API_KEY=... CCX_CLICKSEND_SECRET=s3cr3t ccx relay --provider clicksend":                             {0, true, "server: the relay (clicksend adapter)"},
	"ccx relay --provider twilio --public-url https://relay.example.com --credentials twilio.env":                                                {0, true, "server: the relay (twilio adapter)"},
	"ccx relay --provider http --http-config testdata/relay/clicksend-http.json":                                                                 {0, true, "server: the relay (http adapter)"},
	"ccx relay --provider gupshup --credentials gupshup.env --public-url https://relay.example.com":                                              {0, true, "server: the relay (gupshup adapter)"},
	"ccx relay --provider zalo --id-type custom --credentials zalo.env":                                                                          {0, true, "server: the relay (zalo adapter)"},
	"ccx relay --provider whatsapp --public-url https://relay.example.com --credentials whatsapp.env":                                            {0, true, "server: the relay (whatsapp adapter)"},
	"ccx provider serve --provider whatsapp --status-url http://127.0.0.1:3030/providers/whatsapp/webhook --credentials-out wa.env":              {0, true, "server: the WhatsApp fake"},
	"ccx provider serve --provider vonage --status-url http://127.0.0.1:3030/providers/vonage/status --credentials-out vonage.env":               {0, true, "server: the Vonage fake"},
	"ccx emulate --provider twilio":                                                                                                              {0, true, "server: the emulator with the Twilio fake"},
	"ccx emulate --provider twilio --provider-webhook twilio=http://127.0.0.1:8080/twilio/sms":                                                   {0, true, "server: the emulator with the Twilio fake, webhooks to a given URL"},
	"ccx relay --provider twilio --local --credentials ~/.config/ccx/provider-twilio.env":                                                        {0, true, "server: the relay, configured from what emulate --provider wrote"},
	"ccx provider serve --provider twilio --port 3040 --credentials-out twilio.env":                                                              {0, true, "server: the Twilio fake"},
	"ccx provider serve --provider telegram --rate-limit-next 2 --retry-after 3s":                                                                {0, true, "server: the Telegram fake, rate limiting"},
	"ccx provider serve --provider clicksend --status-url 'http://127.0.0.1:3030/providers/clicksend/receipt/{secret}' --credentials-out cs.env": {0, true, "server: the ClickSend fake with a receipt URL"},
	"ccx provider serve --provider twilio --reject-number +15550001111 --fail-rate 0.2 --json":                                                   {0, true, "server: the Twilio fake with failures"},

	// Followers: stopped with SIGINT once they read the emulator's stream.
	`ccx emulate inbox --follow --json | jq -c '{kind, contactId, text: .message.message.text}'`: {130, false, "follows the emulator until Ctrl-C (130); see exampleFollowers"},

	// Non-zero exits, each for its reason.
	"ccx relay --provider clicksend --credentials clicksend.env --queue nats://nats-1:4222,nats://nats-2:4222 --queue-creds relay.creds": {
		3, false, "the NATS servers it names (and their relay.creds) are not in the test's world: the relay cannot reach its queue, an I/O error; relay_queue.txtar runs --queue against a real server"},
	"ccx check --e2e --provider twilio --credentials twilio.env --provider-webhook http://127.0.0.1:3030/twilio/sms --timeout 3s": {
		1, false, "the relay takes Twilio webhooks at /providers/twilio/inbound, not at /twilio/sms, so the provider-webhook checks fail"},
	`ccx emulate customer location 3.139003 101.686855 --address "Kuala Lumpur, Malaysia"`: {
		1, false, "the world's Twilio fake has an SMS business number, and Twilio sends locations only from WhatsApp senders (the emulator answers 400)"},
	"ccx validate testdata/valid/webhook/": {
		1, false, "the profile's id_type is phone, and testdata/valid holds Custom-ID samples (*--id-custom.json) that fail the phone rule"},
	"ccx validate --output github testdata/valid/": {
		1, false, "the profile's id_type is phone, and testdata/valid holds Custom-ID samples (*--id-custom.json) that fail the phone rule"},
}

// exampleKey is how exampleWants names a line.
func exampleKey(line string) string {
	return strings.Join(strings.Fields(stripBackground(stripComment(line))), " ")
}

// stripComment cuts a trailing shell comment (a '#' after white space,
// outside quotes).
func stripComment(line string) string {
	quote := byte(0)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'', c == '"':
			quote = c
		case c == '#' && i > 0 && (line[i-1] == ' ' || line[i-1] == '\t'):
			return strings.TrimRight(line[:i], " \t")
		}
	}
	return line
}

// stripBackground drops a trailing '&': the test runs the server in the
// foreground, so that its own exit code is the one asserted.
func stripBackground(line string) string {
	t := strings.TrimRight(line, " \t")
	if strings.HasSuffix(t, "&") && !strings.HasSuffix(t, "&&") {
		return strings.TrimRight(strings.TrimSuffix(t, "&"), " \t")
	}
	return line
}

// exampleWorld is the fakes and fixtures the examples run against.
type exampleWorld struct {
	template string // fixture files copied into each example's directory
	env      []string
	emu      *emulator.Emulator
	server   *httptest.Server // the integration server: listen's /message handler
	provider *httptest.Server // the providers' APIs: 200 {} to anything
	relay    *exampleRelay    // for check --e2e and relay status; nil until needed
	parent   *testing.T       // the test that owns the world (its cleanups outlive subtests)
}

func newExampleWorld(t *testing.T) *exampleWorld {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not on PATH")
	}
	if _, err := exec.LookPath("ccx"); err != nil {
		t.Fatalf("ccx shim not on PATH (testscript.Main sets it up): %v", err)
	}
	w := &exampleWorld{template: t.TempDir(), parent: t}

	// The integration server: listen's handler, which passes ccx check; it
	// also takes provider webhooks (emulate customer, provider send) with an
	// empty 200, and answers WhatsApp's verification GET with its challenge.
	mux := http.NewServeMux()
	mux.Handle("/", listen.NewMux("/message", listen.NewHandler(listen.Options{
		Token: exToken, ChannelID: exChannelID, IDType: channel.IDPhone})))
	mux.HandleFunc("/providers/", func(rw http.ResponseWriter, r *http.Request) {
		if c := r.URL.Query().Get("hub.challenge"); r.Method == http.MethodGet && c != "" {
			_, _ = rw.Write([]byte(c))
		}
	})
	w.server = httptest.NewServer(mux)
	t.Cleanup(w.server.Close)
	w.provider = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		_, _ = rw.Write([]byte("{}"))
	}))
	t.Cleanup(w.provider.Close)

	// The emulator: the IS-Messenger webhook, inbox and outgoing calls.
	emu, err := emulator.New(emulator.Options{
		Channels:  []emulator.Channel{{ID: exChannelID, Token: exToken, IDType: channel.IDPhone, APIBaseURL: w.server.URL}},
		StatePath: filepath.Join(w.template, "emulator.json"),
	})
	if err != nil {
		t.Fatal(err)
	}
	w.emu = emu
	t.Cleanup(func() { _ = emu.Close() })

	payload, _ := json.MarshalIndent(channel.NewWebhook(exChannelID, exContactID, &channel.Contact{FirstName: "John"},
		channel.NewEvent(channel.EventMessage, channel.Text("Hello"))), "", "  ")
	// One message so the emulator has a contact to answer.
	req, _ := http.NewRequest(http.MethodPost, emu.WebhookURL(), bytes.NewReader(payload))
	req.Header.Set("Authorization", "Bearer "+exToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("seeding the emulator: %d", resp.StatusCode)
	}
	if err := emu.Close(); err != nil { // flush emulator.json, then serve again without a state file
		t.Fatal(err)
	}
	state, err := os.ReadFile(filepath.Join(w.template, "emulator.json"))
	if err != nil {
		t.Fatal(err)
	}
	emu, err = emulator.New(emulator.Options{
		Channels: []emulator.Channel{{ID: exChannelID, Token: exToken, IDType: channel.IDPhone, APIBaseURL: w.server.URL}},
		// It plays Twilio too, for `ccx emulate customer`.
		Providers: []emulator.Provider{{WebhookURL: w.server.URL + "/providers/twilio/inbound",
			Build: func(c *http.Client) (provider.Emulator, error) {
				return emulators.New("twilio", emulators.Options{Client: c, NoReceipts: true})
			}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.emu = emu
	t.Cleanup(func() { _ = emu.Close() })
	seed, _ := http.NewRequest(http.MethodPost, emu.WebhookURL(), bytes.NewReader(payload))
	seed.Header = req.Header
	if resp, err := http.DefaultClient.Do(seed); err == nil {
		resp.Body.Close()
	}

	// Fixture files the examples name.
	record := fmt.Sprintf(`{"id":"rec-0001","method":"POST","path":"/message","header":{"Authorization":["Bearer %s"],"Content-Type":["application/json"]},"auth":"ok","type":"text","status":200,"body":"{\"channelId\":\"%s\",\"contactId\":\"%s\",\"message\":{\"type\":\"text\",\"text\":\"Hi\"}}","replyBody":"{\"mId\":\"x\"}","latencyMs":0.2}`+"\n",
		ui.Redact(exToken), exChannelID, exContactID)
	files := map[string]string{
		"payload.json":  string(payload) + "\n",
		"payloads.json": string(payload) + "\n",
		"token.txt":     exToken + "\n",
		"calls.ndjson":  record,
		"emulator.json": string(state),
		"twilio.env":    "CCX_TWILIO_ACCOUNT_SID=AC00000000000000000000000000000000\nCCX_TWILIO_AUTH_TOKEN=examples-auth-token-0123456789\nCCX_TWILIO_FROM=+15005550006\n",
		"telegram.env":  "CCX_TELEGRAM_BOT_TOKEN=123456:examples-bot-token\nCCX_TELEGRAM_WEBHOOK_SECRET=examples_webhook_secret\n",
	}
	// Credentials of the other providers, as their fakes make them (what
	// `ccx provider serve --credentials-out FILE` writes).
	for file, name := range map[string]string{"whatsapp.env": "whatsapp", "wa.env": "whatsapp", "vonage.env": "vonage",
		"gupshup.env": "gupshup", "zalo.env": "zalo", "clicksend.env": "clicksend"} {
		files[file] = credentialsFile(t, name)
	}
	// A CA file for --cacert (a loopback test server's certificate).
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	files["ca.pem"] = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw}))
	tlsSrv.Close()
	// A relay config file of two loopback channels (`ccx relay --config`).
	files["relay.toml"] = fmt.Sprintf("[[channel]]\nid = \"shop\"\ntoken = \"env:CCX_API_TOKEN\"\nwebhook_url = %q\nprovider = \"loopback\"\n\n"+
		"[[channel]]\nid = \"support\"\ntoken = \"examples-second-token-0123456789\"\nwebhook_url = %q\nprovider = \"loopback\"\n", emu.WebhookURL(), emu.WebhookURL())
	// What `ccx emulate --provider twilio` writes next to the config file.
	files["provider-twilio.env"] = files["twilio.env"] + "CCX_PROVIDER_BASE_URL=" + w.provider.URL + "\n"
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(w.template, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(w.template, "ccx-relay-spool"), 0o700); err != nil {
		t.Fatal(err)
	}
	// Relay spools for `ccx relay status --spool ...` and `--spool-dir`.
	for _, name := range []string{"relay.db", "ccx-relay.db", "ccx-relay-spool/shop.db", "ccx-relay-spool/support.db"} {
		sp, err := relay.OpenSpool(filepath.Join(w.template, name), relay.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if err := sp.Close(); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load(filepath.Join(w.template, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	p := config.Profile{WebhookURL: emu.WebhookURL(), ChannelID: exChannelID, APIToken: exToken, IDType: "phone", APIBaseURL: w.server.URL, ContactID: exContactID}
	for _, name := range []string{"default", "staging", "old", "local", "prod"} {
		cfg.Put(name, p)
	}
	if err := cfg.Use("default"); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Save(); err != nil {
		t.Fatal(err)
	}

	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "CCX_") || k == "NO_COLOR" || k == "CLICOLOR" || k == "CLICOLOR_FORCE" || k == "HOME" {
			continue
		}
		w.env = append(w.env, kv)
	}
	w.env = append(w.env,
		"CI=true",
		"CCX_WEBHOOK_URL="+emu.WebhookURL(),
		"CCX_CHANNEL_ID="+exChannelID,
		"CCX_API_TOKEN="+exToken,
		"CCX_ID_TYPE=phone",
		"CCX_API_BASE_URL="+w.server.URL,
		"CCX_CONTACT_ID="+exContactID,
		"CCX_EMULATOR_URL="+emu.URL(),
		"TOKEN="+exToken,
		"CCX_PROVIDER_BASE_URL="+w.provider.URL, // providers' APIs: never the internet
	)
	return w
}

// credentialsFile is an env file of credentials that provider's fake
// accepts, sorted by name.
func credentialsFile(t *testing.T, name string) string {
	t.Helper()
	em, err := emulators.New(name, emulators.Options{NoReceipts: true})
	if err != nil {
		t.Fatal(err)
	}
	creds := em.Credentials()
	keys := make([]string, 0, len(creds))
	for k := range creds {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, creds[k])
	}
	return b.String()
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var (
	shellOps   = regexp.MustCompile(`&&|\|\||[|;&]`)
	serverCmd  = regexp.MustCompile(`^(\s*(?:[A-Z_]+=\S*\s+)*ccx (listen|emulate|relay|provider serve))(\s+-\S*.*|\s*>.*|\s*)$`)
	portFlag   = regexp.MustCompile(`--port[ =][0-9]+`)
	adminFlag  = regexp.MustCompile(`--admin-addr[ =]\S+`)
	e2ePort    = regexp.MustCompile(`--platform-port[ =][0-9]+`)
	goRunCCX   = regexp.MustCompile(`\bgo run \./cmd/ccx\b`)
	localURL   = func(port string) []string { return []string{"http://127.0.0.1:" + port, "http://localhost:" + port} }
	serverURLs = []string{"3030", "8080", "8000"}
)

// rewrite makes an example line safe to run here: a trailing comment and '&'
// go, `go run ./cmd/ccx` is ccx, every server (listen, emulate, relay,
// provider serve) gets a free --port (and relay a free --admin-addr), check
// --e2e the platform port of the world's relay, and well-known local URLs
// point at the fakes. ports are the servers' ports, in order.
func (w *exampleWorld) rewrite(t *testing.T, line string) (out string, ports []int) {
	t.Helper()
	line = goRunCCX.ReplaceAllString(stripBackground(stripComment(line)), "ccx")
	ops := shellOps.FindAllString(line, -1)
	segs := shellOps.Split(line, -1)
	for i, seg := range segs {
		if m := serverCmd.FindStringSubmatch(seg); m != nil {
			p := freePort(t)
			ports = append(ports, p)
			if portFlag.MatchString(seg) {
				seg = portFlag.ReplaceAllString(seg, "--port "+strconv.Itoa(p))
			} else {
				seg = m[1] + " --port " + strconv.Itoa(p) + m[3]
			}
			if m[2] == "relay" {
				admin := "--admin-addr 127.0.0.1:" + strconv.Itoa(freePort(t))
				if adminFlag.MatchString(seg) {
					seg = adminFlag.ReplaceAllString(seg, admin)
				} else {
					seg = strings.Replace(seg, "ccx relay", "ccx relay "+admin, 1)
				}
			}
		}
		if strings.Contains(seg, "ccx check") && strings.Contains(seg, "--e2e") {
			r := w.startRelay(t)
			platform := "--platform-port " + strconv.Itoa(r.platformPort)
			if e2ePort.MatchString(seg) {
				seg = e2ePort.ReplaceAllString(seg, platform)
			} else {
				seg = strings.Replace(seg, "--e2e", "--e2e "+platform, 1)
			}
			// The server under test is the relay, named or by default.
			for _, u := range localURL("3030") {
				seg = strings.ReplaceAll(seg, u, r.url)
			}
			seg = "CCX_API_BASE_URL=" + r.url + " " + strings.TrimLeft(seg, " ")
		}
		if strings.Contains(seg, "ccx relay status") {
			for _, u := range localURL("3031") {
				seg = strings.ReplaceAll(seg, u, w.startRelay(t).adminURL)
			}
		}
		segs[i] = seg
	}
	var b strings.Builder
	for i, seg := range segs {
		b.WriteString(seg)
		if i < len(ops) {
			b.WriteString(ops[i])
		}
	}
	out = b.String()
	for _, port := range serverURLs {
		for _, u := range localURL(port) {
			out = strings.ReplaceAll(out, u, w.server.URL)
		}
	}
	for _, u := range localURL("4747") {
		out = strings.ReplaceAll(out, u, w.emu.URL())
	}
	return out, ports
}

// exampleRelay is a `ccx relay --provider twilio` subprocess: the integration
// server that `ccx check --e2e` examples judge (its platform webhook and
// provider API are on platformPort, where check --e2e serves its fakes), and
// the admin address that `ccx relay status --url` reads.
type exampleRelay struct {
	url, adminURL string
	platformPort  int
}

// startRelay starts the world's relay the first time it is needed.
func (w *exampleWorld) startRelay(t *testing.T) *exampleRelay {
	t.Helper()
	if w.relay != nil {
		return w.relay
	}
	dir := w.parent.TempDir()
	pp, rp, ap := freePort(t), freePort(t), freePort(t)
	r := &exampleRelay{url: fmt.Sprintf("http://127.0.0.1:%d", rp), adminURL: fmt.Sprintf("http://127.0.0.1:%d", ap), platformPort: pp}
	cmd := exec.Command("ccx", "relay", "--provider", "twilio", "--port", strconv.Itoa(rp), "--admin-addr", fmt.Sprintf("127.0.0.1:%d", ap),
		"--webhook-url", fmt.Sprintf("http://127.0.0.1:%d/custom/channel/webhook/", pp), "--channel-id", exChannelID,
		"--credentials", filepath.Join(w.template, "twilio.env"), "--spool", filepath.Join(dir, "relay.db"), "--backoff", "20ms")
	cmd.Env = append(append([]string{}, w.env...), "HOME="+dir, "CCX_CONFIG="+filepath.Join(dir, "config.toml"),
		fmt.Sprintf("CCX_PROVIDER_BASE_URL=http://127.0.0.1:%d/_provider/twilio", pp))
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// The world outlives the subtest that first needs the relay: stop it when
	// the whole test ends.
	w.parent.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(stopDeadline):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	if err := waitListening(rp, done); err != nil {
		t.Fatalf("the examples' relay: %v\n%s", err, log.String())
	}
	w.relay = r
	return r
}

// waitListening waits until 127.0.0.1:port accepts a connection. It gives up
// when done yields (the process ended first; its result is passed back on
// done) or after readyDeadline.
func waitListening(port int, done chan error) error {
	deadline := time.Now().Add(readyDeadline)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-done:
			done <- err
			return fmt.Errorf("exited before listening on %s (%v)", addr, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("not listening on %s after %s", addr, readyDeadline)
}

type exampleResult struct {
	code           int
	stdout, stderr string
	notReady       error // a server that never listened
	hung           bool  // killed at lineDeadline or stopDeadline
}

// run runs one (rewritten) example line with bash in a fresh copy of the
// fixtures. A server is stopped with SIGINT once it listens on ports[0].
func (w *exampleWorld) run(t *testing.T, line string, server, follow bool, ports []int) exampleResult {
	t.Helper()
	dir := t.TempDir()
	copyErr := filepath.WalkDir(w.template, func(p string, e os.DirEntry, err error) error {
		if err != nil || p == w.template {
			return err
		}
		rel, _ := filepath.Rel(w.template, p)
		if e.IsDir() { // the spools of `relay status --spool-dir`
			return os.Mkdir(filepath.Join(dir, rel), 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o600)
	})
	if copyErr != nil {
		t.Fatal(copyErr)
	}
	// Where the completion install examples write.
	for _, d := range []string{".zsh/completions", ".config/fish/completions", ".local/share/bash-completion/completions"} {
		_ = os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	// The env file `ccx emulate --provider twilio` leaves in the default config directory.
	if b, err := os.ReadFile(filepath.Join(w.template, "provider-twilio.env")); err == nil {
		_ = os.MkdirAll(filepath.Join(dir, ".config", "ccx"), 0o700)
		_ = os.WriteFile(filepath.Join(dir, ".config", "ccx", "provider-twilio.env"), b, 0o600)
	}
	// Examples may name the repository's testdata.
	_ = os.Symlink(filepath.Join(repoRoot(), "testdata"), filepath.Join(dir, "testdata"))

	cmd := exec.Command("bash", "-c", "set -o pipefail\n"+line)
	cmd.Dir = dir
	cmd.Env = append(append([]string{}, w.env...), "HOME="+dir, "CCX_CONFIG="+filepath.Join(dir, "config.toml"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var res exampleResult
	wait := lineDeadline
	if server {
		if len(ports) == 0 {
			res.notReady = errors.New("no server port in the line (the rewrite found no listen/emulate/relay)")
		} else {
			res.notReady = waitListening(ports[0], done)
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		wait = stopDeadline
	}
	if follow {
		res.notReady = w.waitStream(done)
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
		wait = stopDeadline
	}
	var err error
	select {
	case err = <-done:
	case <-time.After(wait):
		res.hung = true
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = <-done
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.code = ee.ExitCode()
		if res.code == -1 { // killed by a signal
			res.code = 128 + int(ee.Sys().(syscall.WaitStatus).Signal())
		}
	} else if err != nil {
		t.Fatal(err)
	}
	res.stdout, res.stderr = stdout.String(), stderr.String()
	return res
}

// waitStream waits (at most readyDeadline) until the world's emulator has
// an event stream open, or the line ended.
func (w *exampleWorld) waitStream(done chan error) error {
	deadline := time.Now().Add(readyDeadline)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			done <- err
			return fmt.Errorf("it ended before following: %v", err)
		default:
		}
		if resp, err := http.Get(w.emu.URL() + "/_emulator/health"); err == nil {
			var h struct{ Streams int }
			_ = json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			if h.Streams > 0 {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no event stream within %s", readyDeadline)
}

// runExample runs one example line and asserts its exit code (exampleWants,
// else 0), that a server listened and stopped on SIGINT, and no panic.
func (w *exampleWorld) runExample(t *testing.T, line string) {
	t.Helper()
	want := exampleWants[exampleKey(line)]
	rewritten, ports := w.rewrite(t, line)
	if p := missingProgram(rewritten); p != "" {
		t.Skipf("needs %s, not installed here", p)
	}
	follow := exampleFollowers[exampleKey(line)]
	r := w.run(t, rewritten, want.server, follow, ports)
	t.Logf("exit %d (want %d%s): %s\nran: %s", r.code, want.code, map[bool]string{true: ", a server stopped with SIGINT"}[want.server], line, rewritten)
	switch {
	case strings.Contains(r.stderr, "panic:") || strings.Contains(r.stderr, "goroutine "):
		t.Errorf("%s: panicked:\n%s", line, r.stderr)
	case r.notReady != nil:
		t.Errorf("%s: a server, but %v:\n%s", line, r.notReady, r.stderr)
	case r.hung && (want.server || follow):
		t.Errorf("%s: did not stop within %s of SIGINT", line, stopDeadline)
	case r.hung:
		t.Errorf("%s: still running after %s (a server? list it in exampleWants)", line, lineDeadline)
	case r.code != want.code:
		why := want.why
		if why == "" {
			why = "not in exampleWants, so it must succeed"
		}
		t.Errorf("%s: exit %d, want %d (%s)\nstdout:\n%s\nstderr:\n%s", line, r.code, want.code, why, r.stdout, r.stderr)
	}
}

// missingProgram reports a program an example pipes through that this
// machine lacks (PowerShell's Out-String on Linux, say): such lines skip.
func missingProgram(line string) string {
	unquoted := regexp.MustCompile(`'[^']*'|"[^"]*"`).ReplaceAllString(line, "x")
	if i := strings.Index(unquoted, " #"); i >= 0 { // a trailing comment
		unquoted = unquoted[:i]
	}
	unquoted = strings.TrimSuffix(strings.TrimSpace(unquoted), "&")
	for _, seg := range regexp.MustCompile(`\||&&|;`).Split(unquoted, -1) {
		fields := strings.Fields(seg)
		if len(fields) == 0 || fields[0] == "source" || strings.HasPrefix(fields[0], "$") || strings.Contains(fields[0], "=") {
			continue
		}
		if _, err := exec.LookPath(fields[0]); err != nil && !isShellBuiltin(fields[0]) {
			return fields[0]
		}
	}
	return ""
}

func isShellBuiltin(s string) bool {
	switch s {
	case "echo", "cd", "export", "printf", "test", "[", "read", "set", "true", "false", "mkdir":
		return true
	}
	return false
}

// exampleLines splits an Example (or a sh block) into command lines: joins
// backslash continuations, drops blank lines and whole-line comments.
func exampleLines(text string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(strings.ReplaceAll(text, "\\\n", " ")))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// TestHelpExamplesRun runs every example of every command's --help.
func TestHelpExamplesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every example (-short)")
	}
	w := newExampleWorld(t)
	io, _, _, _ := ui.Test()
	root := cli.NewRootCmd(&cli.Factory{IO: io})
	n := 0
	var visit func(c *cobra.Command)
	visit = func(c *cobra.Command) {
		for _, line := range exampleLines(c.Example) {
			if !strings.Contains(line, "ccx") {
				continue
			}
			n++
			line := line
			t.Run(c.CommandPath()+"/"+line, func(t *testing.T) { w.runExample(t, line) })
		}
		for _, sub := range c.Commands() {
			if !sub.Hidden {
				visit(sub)
			}
		}
	}
	visit(root)
	if n < 40 {
		t.Fatalf("only %d example lines found", n)
	}
}

var shBlock = regexp.MustCompile("(?s)```(?:sh|bash|shell|console)\n(.*?)```")

// readmeLines extracts the command lines of README.md's ```sh blocks. Lines
// ending in "# not run in tests" are skipped, and `go` commands other than
// `go run ./cmd/ccx` are left to CI (`go test ./...` is this very suite).
func readmeLines(readme string) (run, skipped []string) {
	for _, m := range shBlock.FindAllStringSubmatch(readme, -1) {
		for _, l := range exampleLines(m[1]) {
			l = strings.TrimPrefix(l, "$ ")
			switch {
			case strings.HasSuffix(l, notRun):
				skipped = append(skipped, l)
			case strings.HasPrefix(l, "go ") && !strings.HasPrefix(l, "go run ./cmd/ccx"):
				skipped = append(skipped, l)
			default:
				run = append(run, l)
			}
		}
	}
	return run, skipped
}

// TestReadmeExamplesRun runs the README's shell examples as written.
func TestReadmeExamplesRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every README example (-short)")
	}
	b, err := os.ReadFile(filepath.Join(repoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	run, skipped := readmeLines(string(b))
	for _, l := range skipped {
		t.Logf("not run: %s", l)
	}
	if len(run) == 0 {
		t.Skip("README.md has no runnable ```sh lines")
	}
	w := newExampleWorld(t)
	for _, line := range run {
		line := line
		t.Run(line, func(t *testing.T) { w.runExample(t, line) })
	}
}

// exampleLinesAll is every help Example line and README line that is run.
func exampleLinesAll(t *testing.T) []string {
	io, _, _, _ := ui.Test()
	var lines []string
	var visit func(c *cobra.Command)
	visit = func(c *cobra.Command) {
		for _, line := range exampleLines(c.Example) {
			if strings.Contains(line, "ccx") {
				lines = append(lines, line)
			}
		}
		for _, sub := range c.Commands() {
			if !sub.Hidden {
				visit(sub)
			}
		}
	}
	visit(cli.NewRootCmd(&cli.Factory{IO: io}))
	b, err := os.ReadFile(filepath.Join(repoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	run, _ := readmeLines(string(b))
	return append(lines, run...)
}

// TestExampleWantsCurrent keeps the table honest: every entry names a line
// that exists, and every non-zero or server entry says why.
func TestExampleWantsCurrent(t *testing.T) {
	seen := map[string]bool{}
	for _, l := range exampleLinesAll(t) {
		seen[exampleKey(l)] = true
	}
	for key, want := range exampleWants {
		if !seen[key] {
			t.Errorf("exampleWants[%q]: no help Example or README line has it any more", key)
		}
		if (want.code != 0 || want.server) && want.why == "" {
			t.Errorf("exampleWants[%q]: exit %d without a reason", key, want.code)
		}
	}
}

func TestReadmeLines(t *testing.T) {
	md := "intro\n```sh\ngo run ./cmd/ccx demo   # the loop\ngo test ./...\nccx send text hi \\\n  --dry-run\n# a comment\nccx listen # not run in tests\n```\n```go\nnot shell\n```\n```bash\n$ ccx version\n```\n"
	run, skipped := readmeLines(md)
	want := []string{"go run ./cmd/ccx demo   # the loop", "ccx send text hi    --dry-run", "ccx version"}
	if strings.Join(run, "|") != strings.Join(want, "|") {
		t.Errorf("run = %q, want %q", run, want)
	}
	if len(skipped) != 2 {
		t.Errorf("skipped = %q", skipped)
	}
	w := &exampleWorld{server: httptest.NewServer(http.NotFoundHandler()), relay: &exampleRelay{url: "http://relay", adminURL: "http://admin", platformPort: 5555}}
	defer w.server.Close()
	w.emu, _ = emulator.New(emulator.Options{})
	defer w.emu.Close()
	port := regexp.MustCompile(`--port [0-9]+`)
	admin := regexp.MustCompile(`--admin-addr 127\.0\.0\.1:[0-9]+`)
	for _, c := range []struct{ in, want string }{
		{"go run ./cmd/ccx trigger text hi --to http://127.0.0.1:3030 && ccx listen --port 3030", "ccx trigger text hi --to " + w.server.URL + " && ccx listen --port P"},
		{"ccx listen &   # a server", "ccx listen --port P"},
		{"ccx emulate --json", "ccx emulate --port P --json"},
		{"ccx emulate send text hi --emulator http://127.0.0.1:4747", "ccx emulate send text hi --emulator " + w.emu.URL()},
		{"X=1 ccx relay --provider loopback --admin-addr 127.0.0.1:9100 > log", "X=1 ccx relay --port P --provider loopback --admin-addr A > log"},
		{"ccx relay --provider x | jq .", "ccx relay --admin-addr A --port P --provider x | jq ."},
		{"ccx relay status --url http://127.0.0.1:3031", "ccx relay status --url http://admin"},
		{"ccx check --e2e --provider twilio http://127.0.0.1:3030", "CCX_API_BASE_URL=http://relay ccx check --e2e --platform-port 5555 --provider twilio http://relay"},
		{`ccx send text "a # b"`, `ccx send text "a # b"`},
	} {
		got, ports := w.rewrite(t, c.in)
		got = admin.ReplaceAllString(port.ReplaceAllString(got, "--port P"), "--admin-addr A")
		if got != c.want {
			t.Errorf("rewrite(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.Contains(c.want, "--port P") != (len(ports) == 1) {
			t.Errorf("rewrite(%q): ports %v", c.in, ports)
		}
	}
	if k := exampleKey("ccx emulate &      # a local IS-Messenger; saves 'local'"); k != "ccx emulate" {
		t.Errorf("exampleKey = %q", k)
	}
}
