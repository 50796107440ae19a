package ccxtest_test

import (
	"fmt"
	"strings"

	"github.com/ccx-cli/ccx/ccxtest"
)

// In these examples startRelay runs ccx's own relay as "your server", and
// exampleT stands in for the test's *testing.T.

func ExampleNewPlatform() {
	t := exampleT() // in a test: the *testing.T
	defer t.done()

	p := ccxtest.NewPlatform(t, ccxtest.PlatformOptions{})
	twilio := ccxtest.NewProvider(t, "twilio", ccxtest.ProviderOptions{})
	server := startRelay(t, "twilio", p.WebhookURL(), p.Channel(), twilio.BaseURL(), twilio.Credentials())

	// A customer texts the business: Twilio posts its signed webhook to the
	// server, which must post a message event to the platform.
	twilio.PostInbound(t, server+"/providers/twilio/inbound", ccxtest.Inbound{From: "+60177872890", Message: ccxtest.Text("hi")})
	got := p.WaitMessages(t, "+60177872890", 1)
	fmt.Printf("%s %s: %s\n", got[0].Origin, got[0].ContactID, got[0].Content.Text)
	// Output:
	// contact +60177872890: hi
}

func ExamplePlatform_Send() {
	t := exampleT() // in a test: the *testing.T
	defer t.done()

	p := ccxtest.NewPlatform(t, ccxtest.PlatformOptions{})
	twilio := ccxtest.NewProvider(t, "twilio", ccxtest.ProviderOptions{NoReceipts: true})
	server := startRelay(t, "twilio", p.WebhookURL(), p.Channel(), twilio.BaseURL(), twilio.Credentials())
	p.SetServerURL(t, server)

	// An agent answers: the platform calls the server's POST /message and
	// the server sends through Twilio.
	out := p.Send(t, "+60177872890", ccxtest.Text("hello"))
	fmt.Println("reply:", out.Reply.HTTPStatus, out.Status)
	sent := twilio.WaitSends(t, 1)
	fmt.Println("twilio got:", sent[0].To, sent[0].Message.Text)

	// Twilio's status callback must become a message_status event for the
	// mId the server answered.
	twilio.PostReceipt(t, "", ccxtest.Receipt{ProviderID: sent[0].ID, To: sent[0].To, Status: ccxtest.Delivered})
	fmt.Println("then:", p.WaitStatus(t, out.MID, ccxtest.Delivered).Status)
	// Output:
	// reply: 200 sent
	// twilio got: +60177872890 hello
	// then: delivered
}

func ExampleProvider_SetFaults() {
	t := exampleT() // in a test: the *testing.T
	defer t.done()

	p := ccxtest.NewPlatform(t, ccxtest.PlatformOptions{})
	twilio := ccxtest.NewProvider(t, "twilio", ccxtest.ProviderOptions{})
	p.SetServerURL(t, startRelay(t, "twilio", p.WebhookURL(), p.Channel(), twilio.BaseURL(), twilio.Credentials()))

	// Twilio refuses the recipient: the server must answer /message with a
	// 4xx {"error":{"message"}}, and the platform marks the message failed.
	twilio.SetFaults(ccxtest.Faults{Reject: []string{"+60177872890"}})
	out := p.Send(t, "+60177872890", ccxtest.Text("hello"))
	fmt.Println(out.Status, out.Reply.HTTPStatus >= 400 && out.Reply.HTTPStatus < 500)
	// Output:
	// failed true
}

func ExampleCheck() {
	t := exampleT() // in a test: the *testing.T (each check is a subtest)
	defer t.done()

	p := ccxtest.NewPlatform(t, ccxtest.PlatformOptions{})
	twilio := ccxtest.NewProvider(t, "twilio", ccxtest.ProviderOptions{})
	server := startRelay(t, "twilio", p.WebhookURL(), p.Channel(), twilio.BaseURL(), twilio.Credentials())

	ccxtest.Check(t, ccxtest.CheckOptions{ServerURL: server, Channel: p.Channel()})
	fmt.Println("failed:", t.Failed())
	// Output:
	// failed: false
}

func ExampleNewE2E() {
	t := exampleT() // in a test: the *testing.T (each check is a subtest)
	defer t.done()

	loop := ccxtest.NewE2E(t, "telegram", ccxtest.E2EOptions{IDType: ccxtest.Custom, Only: []string{"in-text", "out-text", "out-location"}})
	server := startRelay(t, "telegram", loop.WebhookURL(), loop.Channel(), loop.ProviderURL(), loop.Credentials())

	loop.Run(t, server)
	fmt.Println("failed:", t.Failed())
	// Output:
	// failed: false
}

func ExampleNewProvider() {
	t := exampleT() // in a test: the *testing.T
	defer t.done()

	twilio := ccxtest.NewProvider(t, "twilio", ccxtest.ProviderOptions{Credentials: map[string]string{"CCX_TWILIO_FROM": "+15550001111"}})
	// Your server calls twilio.BaseURL() instead of https://api.twilio.com,
	// with these credentials (the missing ones generated).
	for _, kv := range twilio.Env() {
		k, v, _ := strings.Cut(kv, "=")
		if k != "CCX_TWILIO_FROM" {
			v = "…"
		}
		fmt.Println(k, v)
	}
	fmt.Println(strings.HasPrefix(twilio.BaseURL(), "http://127.0.0.1:"))
	// Output:
	// CCX_TWILIO_ACCOUNT_SID …
	// CCX_TWILIO_AUTH_TOKEN …
	// CCX_TWILIO_FROM +15550001111
	// true
}

func ExampleProviders() {
	fmt.Println(strings.Join(ccxtest.Providers(), " "))
	// Output:
	// clicksend gupshup telegram twilio vonage whatsapp zalo
}
