// Package emulators lists the provider emulators by name and builds them
// from one set of options, so commands and other packages (serve, send,
// emulate --provider, check --e2e) need not know each provider package.
package emulators

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/clicksend"
	"github.com/ccx-cli/ccx/internal/provider/emukit"
	"github.com/ccx-cli/ccx/internal/provider/gupshup"
	"github.com/ccx-cli/ccx/internal/provider/telegram"
	"github.com/ccx-cli/ccx/internal/provider/twilio"
	"github.com/ccx-cli/ccx/internal/provider/zalo"
)

// Options build an emulator.
type Options struct {
	// Credentials to accept and sign with, keyed by the relay's variable
	// names (CCX_TWILIO_AUTH_TOKEN, ...); a missing one is generated.
	Credentials map[string]string
	// BusinessNumber is the business's address at the provider (Twilio
	// From, ClickSend sender); empty → the credentials' one or a default.
	BusinessNumber string
	// CallbackURL receives status callbacks for sends that name none
	// (Twilio's Messaging Service callback, ClickSend's receipt rule URL).
	CallbackURL string
	// NoReceipts turns automatic status callbacks off.
	NoReceipts bool
	// ReceiptDelay separates the callbacks of one send.
	ReceiptDelay time.Duration
	// Client posts the callbacks (nil: 10 s timeout).
	Client *http.Client
	// WebhookType is ClickSend's rule webhook_type: post (default), json, get.
	WebhookType string
}

// Info describes one emulator for help texts and printers.
type Info struct {
	Name string `json:"name"`
	// Credentials are the variable names a server reads, in a stable order;
	// Secret tells which of them must never be shown.
	Credentials []string        `json:"credentials"`
	Secret      map[string]bool `json:"-"`
	// SignWith are the credentials needed to sign webhooks as the provider
	// (what `ccx provider send` must be given).
	SignWith []string `json:"signWith"`
	// Alternatives are credential sets of which any one suffices (Vonage:
	// application id and key, or API key and secret).
	Alternatives [][]string `json:"alternatives,omitempty"`
	// Receipts: the provider posts status callbacks.
	Receipts bool `json:"receipts"`
	// DefaultCustomer is the customer address used when none is given.
	DefaultCustomer string `json:"defaultCustomer"`
	// Webhooks are the paths `ccx relay` serves for this provider (a guide
	// for --to; any server's own paths work).
	Webhooks    []string              `json:"webhooks"`
	NativeTypes []provider.NativeType `json:"nativeTypes"`

	build func(Options) provider.Emulator
}

var registry = map[string]Info{
	"clicksend": {
		Name:            "clicksend",
		Credentials:     []string{"CCX_CLICKSEND_USERNAME", "CCX_CLICKSEND_API_KEY", "CCX_CLICKSEND_FROM", "CCX_CLICKSEND_SECRET"},
		Secret:          map[string]bool{"CCX_CLICKSEND_API_KEY": true, "CCX_CLICKSEND_SECRET": true},
		SignWith:        []string{},
		Receipts:        true,
		DefaultCustomer: clicksend.DefaultCustomer,
		Webhooks:        []string{"/providers/clicksend/inbound/{secret}", "/providers/clicksend/receipt/{secret}"},
		NativeTypes:     clicksend.NativeTypes,
		build: func(o Options) provider.Emulator {
			from := o.BusinessNumber
			if from == "" {
				from = o.Credentials["CCX_CLICKSEND_FROM"]
			}
			secret := o.Credentials["CCX_CLICKSEND_SECRET"]
			if secret == "" {
				secret = "ccx" + emukit.HexID(12) // a server should protect its push URLs
			}
			return clicksend.NewEmulator(clicksend.EmulatorOptions{Username: o.Credentials["CCX_CLICKSEND_USERNAME"],
				APIKey: o.Credentials["CCX_CLICKSEND_API_KEY"], Secret: secret, From: from, ReceiptURL: o.CallbackURL,
				WebhookType: o.WebhookType, NoReceipts: o.NoReceipts, ReceiptDelay: o.ReceiptDelay, Client: o.Client})
		},
	},
	"telegram": {
		Name:            "telegram",
		Credentials:     []string{"CCX_TELEGRAM_BOT_TOKEN", "CCX_TELEGRAM_WEBHOOK_SECRET"},
		Secret:          map[string]bool{"CCX_TELEGRAM_BOT_TOKEN": true, "CCX_TELEGRAM_WEBHOOK_SECRET": true},
		SignWith:        []string{"CCX_TELEGRAM_WEBHOOK_SECRET"},
		DefaultCustomer: telegram.DefaultCustomer,
		Webhooks:        []string{"/providers/telegram/webhook"},
		NativeTypes:     telegram.NativeTypes,
		build: func(o Options) provider.Emulator {
			return telegram.NewEmulator(telegram.EmulatorOptions{Token: o.Credentials["CCX_TELEGRAM_BOT_TOKEN"],
				Secret: o.Credentials["CCX_TELEGRAM_WEBHOOK_SECRET"], Client: o.Client})
		},
	},
	"twilio": {
		Name:            "twilio",
		Credentials:     []string{"CCX_TWILIO_ACCOUNT_SID", "CCX_TWILIO_AUTH_TOKEN", "CCX_TWILIO_FROM"},
		Secret:          map[string]bool{"CCX_TWILIO_AUTH_TOKEN": true},
		SignWith:        []string{"CCX_TWILIO_AUTH_TOKEN"},
		Receipts:        true,
		DefaultCustomer: twilio.DefaultCustomer,
		Webhooks:        []string{"/providers/twilio/inbound", "/providers/twilio/status"},
		NativeTypes:     twilio.NativeTypes,
		build: func(o Options) provider.Emulator {
			from := o.BusinessNumber
			if from == "" {
				from = o.Credentials["CCX_TWILIO_FROM"]
			}
			if from == "" {
				from = "+15005550006" // Twilio's test-credentials sender
			}
			return twilio.NewEmulator(twilio.EmulatorOptions{AccountSID: o.Credentials["CCX_TWILIO_ACCOUNT_SID"],
				AuthToken: o.Credentials["CCX_TWILIO_AUTH_TOKEN"], From: from, StatusCallback: o.CallbackURL,
				NoReceipts: o.NoReceipts, ReceiptDelay: o.ReceiptDelay, Client: o.Client})
		},
	},
	"gupshup": {
		Name:            "gupshup",
		Credentials:     []string{"CCX_GUPSHUP_API_KEY", "CCX_GUPSHUP_APP_NAME", "CCX_GUPSHUP_SOURCE", "CCX_GUPSHUP_SECRET", "CCX_GUPSHUP_WEBHOOK_HEADER", "CCX_GUPSHUP_WEBHOOK_TOKEN"},
		Secret:          map[string]bool{"CCX_GUPSHUP_API_KEY": true, "CCX_GUPSHUP_SECRET": true, "CCX_GUPSHUP_WEBHOOK_TOKEN": true},
		SignWith:        []string{},
		Receipts:        true,
		DefaultCustomer: gupshup.DefaultCustomer,
		Webhooks:        []string{gupshup.WebhookPath + "/{secret}"},
		NativeTypes:     gupshup.NativeTypes,
		build: func(o Options) provider.Emulator {
			source := o.BusinessNumber
			if source == "" {
				source = o.Credentials["CCX_GUPSHUP_SOURCE"]
			}
			secret := o.Credentials["CCX_GUPSHUP_SECRET"]
			if secret == "" && o.Credentials["CCX_GUPSHUP_WEBHOOK_TOKEN"] == "" {
				secret = "ccx" + emukit.HexID(12) // Gupshup signs nothing: a server should protect its callback URL
			}
			return gupshup.NewEmulator(gupshup.EmulatorOptions{APIKey: o.Credentials["CCX_GUPSHUP_API_KEY"], AppName: o.Credentials["CCX_GUPSHUP_APP_NAME"],
				Source: source, Secret: secret, Header: o.Credentials["CCX_GUPSHUP_WEBHOOK_HEADER"], HeaderValue: o.Credentials["CCX_GUPSHUP_WEBHOOK_TOKEN"],
				CallbackURL: o.CallbackURL, NoReceipts: o.NoReceipts, ReceiptDelay: o.ReceiptDelay, Client: o.Client})
		},
	},
	"zalo": {
		Name:            "zalo",
		Credentials:     []string{"CCX_ZALO_APP_ID", "CCX_ZALO_APP_SECRET", "CCX_ZALO_OA_SECRET_KEY", "CCX_ZALO_ACCESS_TOKEN", "CCX_ZALO_REFRESH_TOKEN", "CCX_ZALO_OA_ID"},
		Secret:          map[string]bool{"CCX_ZALO_APP_SECRET": true, "CCX_ZALO_OA_SECRET_KEY": true, "CCX_ZALO_ACCESS_TOKEN": true, "CCX_ZALO_REFRESH_TOKEN": true},
		SignWith:        []string{"CCX_ZALO_APP_ID", "CCX_ZALO_OA_SECRET_KEY"},
		Receipts:        true,
		DefaultCustomer: zalo.DefaultCustomer,
		Webhooks:        []string{zalo.WebhookPath},
		NativeTypes:     zalo.NativeTypes,
		build: func(o Options) provider.Emulator {
			oa := o.BusinessNumber
			if oa == "" {
				oa = o.Credentials["CCX_ZALO_OA_ID"]
			}
			return zalo.NewEmulator(zalo.EmulatorOptions{AppID: o.Credentials["CCX_ZALO_APP_ID"], AppSecret: o.Credentials["CCX_ZALO_APP_SECRET"],
				OASecretKey: o.Credentials["CCX_ZALO_OA_SECRET_KEY"], OAID: oa, AccessToken: o.Credentials["CCX_ZALO_ACCESS_TOKEN"],
				RefreshToken: o.Credentials["CCX_ZALO_REFRESH_TOKEN"], WebhookURL: o.CallbackURL, NoReceipts: o.NoReceipts,
				ReceiptDelay: o.ReceiptDelay, Client: o.Client})
		},
	},
}

// Unneeded reports whether credential k may stay unset because another of
// its alternative sets is complete in given.
func (i Info) Unneeded(k string, given map[string]string) bool {
	for _, set := range i.Alternatives {
		if contains(set, k) {
			continue
		}
		if complete(set, given) && inAnyAlternative(i.Alternatives, k) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func complete(set []string, given map[string]string) bool {
	for _, k := range set {
		if given[k] == "" {
			return false
		}
	}
	return len(set) > 0
}

func inAnyAlternative(sets [][]string, k string) bool {
	for _, set := range sets {
		if contains(set, k) {
			return true
		}
	}
	return false
}

// Names lists the known emulators, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// UnknownError is an emulator name nobody registered.
type UnknownError struct{ Name string }

func (e *UnknownError) Error() string {
	if e.Name == "" {
		return "no provider given: use one of " + strings.Join(Names(), ", ")
	}
	return fmt.Sprintf("unknown provider %q: use one of %s", e.Name, strings.Join(Names(), ", "))
}

// Infos describes every emulator, sorted by name.
func Infos() []Info {
	var out []Info
	for _, n := range Names() {
		out = append(out, registry[n])
	}
	return out
}

// Lookup describes an emulator; *UnknownError when there is none.
func Lookup(name string) (Info, error) {
	i, ok := registry[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Info{}, &UnknownError{Name: name}
	}
	return i, nil
}

// New builds the named emulator; *UnknownError when there is none.
func New(name string, o Options) (provider.Emulator, error) {
	i, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	if o.Credentials == nil {
		o.Credentials = map[string]string{}
	}
	return i.build(o), nil
}
