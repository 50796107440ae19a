package emulators

import (
	"github.com/ccx-cli/ccx/internal/provider"
	"github.com/ccx-cli/ccx/internal/provider/vonage"
)

func init() {
	registry["vonage"] = Info{
		Name: "vonage",
		Credentials: []string{vonage.EnvApplicationID, vonage.EnvPrivateKey, vonage.EnvAPIKey, vonage.EnvAPISecret,
			vonage.EnvSignatureSecret, vonage.EnvFrom, vonage.EnvChannel},
		Secret:          map[string]bool{vonage.EnvPrivateKey: true, vonage.EnvAPISecret: true, vonage.EnvSignatureSecret: true},
		SignWith:        []string{vonage.EnvSignatureSecret},
		Alternatives:    [][]string{{vonage.EnvApplicationID, vonage.EnvPrivateKey}, {vonage.EnvAPIKey, vonage.EnvAPISecret}},
		Receipts:        true,
		DefaultCustomer: vonage.DefaultCustomer,
		Webhooks:        []string{"/providers/vonage/inbound", "/providers/vonage/status"},
		NativeTypes:     vonage.NativeTypes,
		build: func(o Options) provider.Emulator {
			c := o.Credentials
			from := o.BusinessNumber
			if from == "" {
				from = c[vonage.EnvFrom]
			}
			return vonage.NewEmulator(vonage.EmulatorOptions{ApplicationID: c[vonage.EnvApplicationID], PrivateKey: c[vonage.EnvPrivateKey],
				APIKey: c[vonage.EnvAPIKey], APISecret: c[vonage.EnvAPISecret], SignatureSecret: c[vonage.EnvSignatureSecret],
				From: from, Channel: c[vonage.EnvChannel], StatusURL: o.CallbackURL,
				NoReceipts: o.NoReceipts, ReceiptDelay: o.ReceiptDelay, Client: o.Client})
		},
	}
	adapters["vonage"] = func(c AdapterConfig) (provider.Adapter, error) {
		o, _, err := vonage.FromCredentials(c.get)
		if err != nil {
			return nil, err
		}
		o.BaseURL, o.Media = c.BaseURL, c.Media
		return vonage.New(o), nil
	}
}
