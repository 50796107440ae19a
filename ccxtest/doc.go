// Package ccxtest runs ccx's fakes inside a Go test: a local IS-Messenger
// (the platform face of an integration server), provider fakes (Twilio,
// Telegram, ClickSend, ... : the provider face), and the `ccx check`
// conformance suite and `ccx check --e2e` loop as t-aware helpers, the way
// stripe-mock and slack-go's slacktest serve Stripe and Slack.
//
// Everything binds 127.0.0.1 on a free port and is stopped by t.Cleanup; no
// test reaches the network. A typical test:
//
//	p := ccxtest.NewPlatform(t, ccxtest.PlatformOptions{IDType: ccxtest.Custom}) // Telegram chat ids
//	tg := ccxtest.NewProvider(t, "telegram", ccxtest.ProviderOptions{})
//	srv := httptest.NewServer(myserver.New(p.WebhookURL(), p.Token(), p.ChannelID(), tg.BaseURL(), tg.Credentials()))
//	defer srv.Close()
//	p.SetServerURL(t, srv.URL)
//
//	tg.PostInbound(t, srv.URL+"/telegram", ccxtest.Inbound{From: "7700900123", Message: ccxtest.Text("hi")})
//	got := p.WaitMessages(t, "7700900123", 1)           // what the server posted to the platform
//	out := p.Send(t, "7700900123", ccxtest.Text("hello")) // the platform calls the server's POST /message
//	sends := tg.WaitSends(t, 1)                          // what the server sent to the provider
//
//	ccxtest.Check(t, ccxtest.CheckOptions{ServerURL: srv.URL, Channel: p.Channel(), ContactID: "7700900123"})
//
// Helpers that can fail take a testing.TB, call t.Helper and fail the test
// with a message that says what was expected and what the fakes saw; call
// them from the test's goroutine. Waits end at the first of the fake's Wait
// option (default DefaultWait), the test's deadline (go test -timeout) and
// the end of t.Context().
//
// # Stability
//
// The exported API of this package (its functions, methods, option fields
// and the names of its types) follows semantic versioning from ccx v1:
// nothing is removed or changed incompatibly within a major version. Several
// types are aliases of ccx's internal ones (Message, Content, Request, Send,
// ...): their fields follow the JSON wire format shown by `ccx emulate`'s
// /_emulator/ API, and fields may be added. The packages under internal/
// are not part of the API and change without notice; import only ccxtest.
// Before v1 the API may still change between minor versions.
package ccxtest
