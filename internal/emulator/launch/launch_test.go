package launch

import (
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/emulator"
)

func TestProviderSetupsDefaultsAndChannels(t *testing.T) {
	phone := emulator.GenerateChannel(channel.IDPhone, "http://127.0.0.1:3030")
	custom := emulator.GenerateChannel(channel.IDCustom, "http://127.0.0.1:4000/")
	file := &config.File{}
	opts := &Options{Providers: []string{"Twilio", "telegram"}, NoProfile: true,
		ProviderWebhooks: []string{"telegram=http://127.0.0.1:9000/tg"}}
	got, err := Setups(file, []emulator.Channel{phone, custom}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("setups: %+v", got)
	}
	tw, tg := got[0], got[1]
	// Twilio's +E.164 customers go to the phone channel, with ccx relay's paths.
	if tw.name != "twilio" || tw.channel.ID != phone.ID || tw.webhook != "http://127.0.0.1:3030/providers/twilio/inbound" ||
		tw.status != "http://127.0.0.1:3030/providers/twilio/status" || tw.envFile != "" {
		t.Errorf("twilio: %+v", tw)
	}
	// Telegram's chat ids need the Custom ID channel; the flag wins.
	if tg.channel.ID != custom.ID || tg.webhook != "http://127.0.0.1:9000/tg" || tg.status != "" {
		t.Errorf("telegram: %+v", tg)
	}
	if _, err := Setups(file, []emulator.Channel{phone}, &Options{Providers: []string{"telegram"}}); err == nil ||
		!strings.Contains(err.Error(), "--id-type custom") {
		t.Errorf("telegram on a phone channel: %v", err)
	}
	for _, bad := range [][]string{{"twilio"}, {"=http://x"}, {"twilio=/relative"}} {
		if _, err := parseNamedURLs("--provider-webhook", bad, []string{"twilio"}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// Meta's app has one webhook: statuses go to it too.
	wa, err := Setups(file, []emulator.Channel{phone}, &Options{Providers: []string{"whatsapp", "vonage"}, NoProfile: true})
	if err != nil || len(wa) != 2 || wa[0].webhook != "http://127.0.0.1:3030/providers/whatsapp/webhook" || wa[0].status != wa[0].webhook ||
		wa[1].status != "http://127.0.0.1:3030/providers/vonage/status" {
		t.Errorf("whatsapp, vonage: %+v %v", wa, err)
	}
	if relayPortFlag("http://127.0.0.1:3030") != "" || relayPortFlag("http://127.0.0.1:4000/") != " --port 4000" {
		t.Error("relayPortFlag")
	}
}

func TestParseChannelSpec(t *testing.T) {
	c, err := ParseChannelSpec("id=abc,token=xyz,id-type=custom,api-base-url=http://127.0.0.1:9/")
	if err != nil {
		t.Fatal(err)
	}
	if c.ID != "abc" || c.Token != "xyz" || c.IDType != channel.IDCustom || c.APIBaseURL != "http://127.0.0.1:9/" {
		t.Fatalf("%+v", c)
	}
	c, err = ParseChannelSpec("id-type=phone")
	if err != nil || len(c.ID) != 14 || len(c.Token) != 46 || c.APIBaseURL != emulator.DefaultAPIBaseURL {
		t.Fatalf("generated %+v %v", c, err)
	}
}
