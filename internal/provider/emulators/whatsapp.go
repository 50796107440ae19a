package emulators

import (
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/whatsapp"
)

func init() {
	registry["whatsapp"] = Info{
		Name:            "whatsapp",
		Credentials:     []string{whatsapp.EnvToken, whatsapp.EnvPhoneNumberID, whatsapp.EnvAppSecret, whatsapp.EnvVerifyToken},
		Secret:          map[string]bool{whatsapp.EnvToken: true, whatsapp.EnvAppSecret: true, whatsapp.EnvVerifyToken: true},
		SignWith:        []string{whatsapp.EnvAppSecret, whatsapp.EnvVerifyToken},
		Receipts:        true,
		DefaultCustomer: whatsapp.DefaultCustomer,
		// One app webhook takes messages and statuses.
		Webhooks:    []string{"/providers/whatsapp/webhook"},
		NativeTypes: whatsapp.NativeTypes,
		build: func(o Options) provider.Emulator {
			c := o.Credentials
			return whatsapp.NewEmulator(whatsapp.EmulatorOptions{Token: c[whatsapp.EnvToken], PhoneNumberID: c[whatsapp.EnvPhoneNumberID],
				AppSecret: c[whatsapp.EnvAppSecret], VerifyToken: c[whatsapp.EnvVerifyToken], DisplayNumber: o.BusinessNumber,
				WebhookURL: o.CallbackURL, NoReceipts: o.NoReceipts, ReceiptDelay: o.ReceiptDelay, Client: o.Client})
		},
	}
	adapters["whatsapp"] = func(c AdapterConfig) (provider.Adapter, error) {
		o, _ := whatsapp.FromCredentials(c.get)
		o.BaseURL, o.Media = c.BaseURL, c.Media
		return whatsapp.New(o), nil
	}
}
