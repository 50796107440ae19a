package deliver

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/twilio"
	"github.com/ccx-cli/ccx/internal/provider/whatsapp"
	"github.com/ccx-cli/ccx/internal/verdict"
)

func TestJudge(t *testing.T) {
	h := http.Header{"Content-Type": {"text/xml"}}
	cases := []struct {
		prov    string
		bad     bool
		status  int
		body    string
		verdict verdict.Verdict
		finding string
	}{
		{"twilio", false, 200, "", verdict.OK, ""},
		{"twilio", false, 200, `<?xml version="1.0"?><Response/>`, verdict.OK, ""},
		{"twilio", false, 200, `<Response><Message>thanks</Message></Response>`, verdict.OK, "auto-reply"},
		{"twilio", false, 200, `{"ok":true}`, verdict.OK, "not TwiML"},
		{"telegram", false, 200, `{"method":"sendMessage","chat_id":1,"text":"x"}`, verdict.OK, "executes it"},
		{"telegram", true, 200, "", verdict.WrongReply, "badly signed"},
		{"telegram", true, 403, "", verdict.Auth, ""},
		{"twilio", false, 403, "", verdict.Auth, "correctly signed"},
		{"clicksend", false, 302, "", verdict.WrongReply, "redirect"},
		{"clicksend", false, 404, "", verdict.NoRoute, "refused the webhook (404)"},
		{"clicksend", false, 400, "", verdict.Refused, "refused the webhook (400)"},
		{"twilio", false, 429, "", verdict.RateLimited, "refused the webhook (429)"},
		{"twilio", false, 200, "<!DOCTYPE html><html></html>", verdict.WrongReply, "a web page"},
		{"twilio", false, 500, "", verdict.ServerError, "not retry"},
		{"telegram", false, 503, "", verdict.ServerError, "retries"},
	}
	for _, c := range cases {
		v, fs := Judge(c.prov, c.bad, c.status, h, []byte(c.body))
		joined := ""
		for _, f := range fs {
			joined += f.Message + "|"
		}
		if v != c.verdict || (c.finding == "" && len(fs) != 0) || !strings.Contains(joined, c.finding) {
			t.Errorf("%s %d %q bad=%v: %s %v", c.prov, c.status, c.body, c.bad, v, fs)
		}
	}
}

func TestPostAgainstServers(t *testing.T) {
	e := twilio.NewEmulator(twilio.EmulatorOptions{AuthToken: "tok-secret-1234", From: "+15005550006"})
	var mu sync.Mutex
	var bodies []string
	verify := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		a2 := twilio.New(twilio.Options{AuthToken: "tok-secret-1234", PublicURL: "http://" + r.Host})
		if a2.Verify(r, b) != nil {
			w.WriteHeader(403)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response/>`)
	}))
	defer verify.Close()
	in := provider.CustomerMessage{From: "+60177872890", Message: channel.Text("hi")}
	at, err := Inbound(t.Context(), e, Options{Target: verify.URL + "/providers/twilio/inbound", Repeat: 3}, in)
	if err != nil || len(at) != 3 {
		t.Fatal(at, err)
	}
	for _, x := range at {
		if x.Verdict != verdict.OK || x.Status != 200 || len(x.Findings) != 0 {
			t.Errorf("attempt %+v", x)
		}
	}
	if bodies[0] != bodies[1] || bodies[1] != bodies[2] || !strings.Contains(bodies[0], "MessageSid=SM") {
		t.Error("a repeat must be the same webhook (same MessageSid)")
	}
	in.BadSignature = true
	at, _ = Inbound(t.Context(), e, Options{Target: verify.URL + "/providers/twilio/inbound"}, in)
	if at[0].Verdict != verdict.Auth || at[0].Status != 403 {
		t.Errorf("bad signature: %+v", at[0])
	}
	// A server that accepts anything is caught by --bad-signature.
	lax := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer lax.Close()
	at, _ = Inbound(t.Context(), e, Options{Target: lax.URL}, in)
	if at[0].Verdict != verdict.WrongReply {
		t.Errorf("lax server: %+v", at[0])
	}
	// Redirects are not followed.
	redir := httptest.NewServer(http.RedirectHandler("http://127.0.0.1:1/elsewhere", http.StatusFound))
	defer redir.Close()
	at, _ = Inbound(t.Context(), e, Options{Target: redir.URL}, provider.CustomerMessage{Message: channel.Text("x")})
	if at[0].Verdict != verdict.WrongReply || at[0].Status != 302 {
		t.Errorf("redirect: %+v", at[0])
	}
	// Building errors are returned, not posted.
	if _, err := Inbound(t.Context(), e, Options{Target: "not a url"}, provider.CustomerMessage{Message: channel.Text("x")}); err == nil {
		t.Error("a bad target must be an error")
	}
}

func TestPostTransportFailures(t *testing.T) {
	e := twilio.NewEmulator(twilio.EmulatorOptions{})
	msg := provider.CustomerMessage{Message: channel.Text("x")}
	// Unreachable.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := "http://" + ln.Addr().String() + "/hook"
	ln.Close()
	at, err := Inbound(t.Context(), e, Options{Target: dead}, msg)
	if err != nil || at[0].Verdict != verdict.Network || at[0].Error == "" {
		t.Fatalf("unreachable: %+v %v", at, err)
	}
	// Garbage that is not HTTP.
	g, _ := net.Listen("tcp", "127.0.0.1:0")
	defer g.Close()
	go func() {
		for {
			c, err := g.Accept()
			if err != nil {
				return
			}
			_, _ = bufio.NewReader(c).ReadString('\n')
			_, _ = c.Write([]byte("garbage garbage\r\n\r\n"))
			c.Close()
		}
	}()
	at, _ = Inbound(t.Context(), e, Options{Target: "http://" + g.Addr().String() + "/hook"}, msg)
	if at[0].Verdict != verdict.Network || !strings.Contains(at[0].Error, "not HTTP") {
		t.Fatalf("garbage: %+v", at[0])
	}
	// A server that never answers hits the timeout.
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer slow.Close()
	defer close(block)
	start := time.Now()
	at, _ = Inbound(t.Context(), e, Options{Target: slow.URL, Timeout: 100 * time.Millisecond}, msg)
	if at[0].Verdict != verdict.Timeout || !strings.Contains(at[0].Error, "--timeout") || time.Since(start) > 5*time.Second {
		t.Fatalf("timeout: %+v", at[0])
	}
}

func TestSecretsRedacted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "echo "+r.URL.Path)
	}))
	defer srv.Close()
	at, err := Post(t.Context(), "clicksend", Options{Target: srv.URL, Secrets: []string{"pathsecret"}}, func() (*http.Request, error) {
		return http.NewRequest(http.MethodPost, srv.URL+"/inbound/pathsecret", strings.NewReader("x"))
	})
	if err != nil || strings.Contains(at[0].URL, "pathsecret") || strings.Contains(at[0].Body, "pathsecret") || !strings.Contains(at[0].URL, "<secret>") {
		t.Fatalf("%+v %v", at, err)
	}
}

// Meta saves a callback URL only when the handshake answers hub.challenge.
func TestHandshakeWantsTheChallenge(t *testing.T) {
	answer := "wrong"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if answer == "echo" {
			_, _ = io.WriteString(w, r.URL.Query().Get("hub.challenge"))
			return
		}
		_, _ = io.WriteString(w, answer)
	}))
	defer srv.Close()
	e := whatsapp.NewEmulator(whatsapp.EmulatorOptions{})
	in := provider.CustomerMessage{Native: "handshake", Message: channel.Text("1158201444")}
	for ans, want := range map[string]verdict.Verdict{"wrong": verdict.WrongReply, "echo": verdict.OK} {
		answer = ans
		atts, err := Inbound(t.Context(), e, Options{Target: srv.URL + "/providers/whatsapp/webhook"}, in)
		if err != nil || len(atts) != 1 || atts[0].Method != http.MethodGet || atts[0].Verdict != want {
			t.Fatalf("%s: %+v %v", ans, atts, err)
		}
		if want == verdict.WrongReply && !strings.Contains(atts[0].Findings[0].Message, `"1158201444"`) {
			t.Fatalf("finding: %+v", atts[0].Findings)
		}
	}
}
