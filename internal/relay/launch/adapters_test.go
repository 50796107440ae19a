package launch

import (
	"slices"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/netguard"
)

// The required-credential checks of `ccx relay --provider NAME`: a usage
// error naming what is missing, in order; with them given, the adapter and
// its secrets (for redaction).
func TestBuildAdapterCredentials(t *testing.T) {
	cases := []struct {
		provider string
		idType   channel.IDType
		miss     string
		creds    map[string]string
		secret   string
	}{
		{"clicksend", channel.IDPhone, "CCX_CLICKSEND_USERNAME, CCX_CLICKSEND_API_KEY",
			map[string]string{"CCX_CLICKSEND_USERNAME": "u", "CCX_CLICKSEND_API_KEY": "ck"}, "ck"},
		{"twilio", channel.IDPhone, "CCX_TWILIO_ACCOUNT_SID, CCX_TWILIO_AUTH_TOKEN",
			map[string]string{"CCX_TWILIO_ACCOUNT_SID": "AC1", "CCX_TWILIO_AUTH_TOKEN": "tt", "CCX_TWILIO_MESSAGING_SERVICE_SID": "MG1"}, "tt"},
		{"telegram", channel.IDCustom, "CCX_TELEGRAM_BOT_TOKEN, CCX_TELEGRAM_WEBHOOK_SECRET",
			map[string]string{"CCX_TELEGRAM_BOT_TOKEN": "1:bt", "CCX_TELEGRAM_WEBHOOK_SECRET": "ws"}, "ws"},
		{"gupshup", channel.IDPhone, "CCX_GUPSHUP_API_KEY, CCX_GUPSHUP_APP_NAME, CCX_GUPSHUP_SOURCE",
			map[string]string{"CCX_GUPSHUP_API_KEY": "gk", "CCX_GUPSHUP_APP_NAME": "a", "CCX_GUPSHUP_SOURCE": "9170", "CCX_GUPSHUP_WEBHOOK_TOKEN": "ht"}, "ht"},
		{"zalo", channel.IDCustom, "CCX_ZALO_APP_ID, CCX_ZALO_OA_SECRET_KEY",
			map[string]string{"CCX_ZALO_APP_ID": "1", "CCX_ZALO_OA_SECRET_KEY": "ok", "CCX_ZALO_ACCESS_TOKEN": "at"}, "at"},
		{"whatsapp", channel.IDPhone, "CCX_WHATSAPP_TOKEN, CCX_WHATSAPP_PHONE_NUMBER_ID, CCX_WHATSAPP_APP_SECRET, CCX_WHATSAPP_VERIFY_TOKEN",
			map[string]string{"CCX_WHATSAPP_TOKEN": "wt", "CCX_WHATSAPP_PHONE_NUMBER_ID": "1", "CCX_WHATSAPP_APP_SECRET": "as", "CCX_WHATSAPP_VERIFY_TOKEN": "vt"}, "as"},
	}
	for _, tc := range cases {
		t.Run(tc.provider, func(t *testing.T) {
			opts := &Options{Provider: tc.provider}
			empty := &config.Credentials{File: map[string]string{}, Getenv: func(string) string { return "" }}
			_, _, err := BuildAdapter(opts, empty, "", "", tc.idType, netguard.Options{})
			if k, ok := fault.KindOf(err); !ok || k != fault.Usage || !strings.Contains(err.Error(), "--provider "+tc.provider+" needs "+tc.miss+" (env or --credentials file)") {
				t.Fatalf("no credentials: %v", err)
			}
			given := &config.Credentials{File: tc.creds, Getenv: func(string) string { return "" }}
			a, secrets, err := BuildAdapter(opts, given, "http://127.0.0.1:1", "http://127.0.0.1:2", tc.idType, netguard.Options{})
			if err != nil || a == nil || !slices.Contains(secrets, tc.secret) {
				t.Fatalf("with credentials: %v %v %q", a, err, secrets)
			}
		})
	}
}
