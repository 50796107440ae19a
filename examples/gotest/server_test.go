package demo_test

import (
	"net/http/httptest"
	"testing"

	"example.com/ccx-kit-demo"
	"github.com/ccx-cli/ccx/ccxtest"
)

const customer = "7700900123" // a Telegram private chat id: a Custom ID

// start runs the server between the platform emulator and a Telegram fake.
func start(t *testing.T, p *ccxtest.Platform, tg *ccxtest.Provider) string {
	t.Helper()
	c := tg.Credentials()
	srv := httptest.NewServer(demo.New(demo.Config{WebhookURL: p.WebhookURL(), ChannelID: p.ChannelID(), Token: p.Token(),
		TelegramURL: tg.BaseURL(), BotToken: c["CCX_TELEGRAM_BOT_TOKEN"], WebhookSecret: c["CCX_TELEGRAM_WEBHOOK_SECRET"]}))
	t.Cleanup(srv.Close)
	p.SetServerURL(t, srv.URL)
	return srv.URL
}

func TestCustomerMessageReachesThePlatform(t *testing.T) {
	p := ccxtest.NewPlatform(t, ccxtest.PlatformOptions{IDType: ccxtest.Custom})
	tg := ccxtest.NewProvider(t, "telegram", ccxtest.ProviderOptions{})
	url := start(t, p, tg)

	if resp := tg.PostInbound(t, url+"/telegram", ccxtest.Inbound{From: customer, Message: ccxtest.Text("hi there")}); resp.Status != 200 {
		t.Fatalf("the server answered Telegram %d %s", resp.Status, resp.Body)
	}
	got := p.WaitMessages(t, customer, 1)
	if got[0].Content.Text != "hi there" || got[0].Origin != ccxtest.FromContact {
		t.Fatalf("the platform stored %+v", got[0])
	}

	// A webhook without Telegram's secret never reaches the platform.
	if resp := tg.PostInbound(t, url+"/telegram", ccxtest.Inbound{From: customer, Message: ccxtest.Text("forged"), BadSignature: true}); resp.Status != 401 {
		t.Fatalf("the server answered a forged webhook %d", resp.Status)
	}
}

func TestAgentReplyGoesToTelegram(t *testing.T) {
	p := ccxtest.NewPlatform(t, ccxtest.PlatformOptions{IDType: ccxtest.Custom})
	tg := ccxtest.NewProvider(t, "telegram", ccxtest.ProviderOptions{})
	url := start(t, p, tg)
	tg.PostInbound(t, url+"/telegram", ccxtest.Inbound{From: customer, Message: ccxtest.Text("hi")})
	p.WaitMessages(t, customer, 1) // a Custom ID contact writes first

	out := p.Send(t, customer, ccxtest.Text("hello from the agent"))
	if out.Status != ccxtest.Sent {
		t.Fatalf("the server refused /message: %s", out.Reason)
	}
	sends := tg.WaitSends(t, 1)
	if sends[0].To != customer || sends[0].Message.Text != "hello from the agent" {
		t.Fatalf("Telegram got %+v", sends[0])
	}
}

func TestConformance(t *testing.T) {
	p := ccxtest.NewPlatform(t, ccxtest.PlatformOptions{IDType: ccxtest.Custom})
	tg := ccxtest.NewProvider(t, "telegram", ccxtest.ProviderOptions{})
	url := start(t, p, tg)
	// This server sends no attachments and no custom payloads.
	ccxtest.Check(t, ccxtest.CheckOptions{ServerURL: url, Channel: p.Channel(), ContactID: customer, Skip: []string{"attachment"}})
}

func TestEndToEnd(t *testing.T) {
	loop := ccxtest.NewE2E(t, "telegram", ccxtest.E2EOptions{IDType: ccxtest.Custom, InboundPath: "/telegram",
		Only: []string{"in-text", "in-retry", "in-bad-signature", "in-platform-down", "out-text", "out-location", "out-quick-reply"}})
	c := loop.Credentials()
	srv := httptest.NewServer(demo.New(demo.Config{WebhookURL: loop.WebhookURL(), ChannelID: loop.Channel().ID, Token: loop.Channel().Token,
		TelegramURL: loop.ProviderURL(), BotToken: c["CCX_TELEGRAM_BOT_TOKEN"], WebhookSecret: c["CCX_TELEGRAM_WEBHOOK_SECRET"]}))
	defer srv.Close()
	loop.Run(t, srv.URL)
}
