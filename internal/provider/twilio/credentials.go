package twilio

import "github.com/ccx-cli/ccx/internal/provider"

// FromCredentials reads the adapter's options from a credentials lookup (env
// or a --credentials file, or an emulator's Credentials) and names the
// required ones that are missing (a sender, From or MessagingServiceSID, is
// the caller's check).
func FromCredentials(get func(string) string) (Options, []string) {
	o := Options{AccountSID: get("CCX_TWILIO_ACCOUNT_SID"), AuthToken: get("CCX_TWILIO_AUTH_TOKEN"),
		From: get("CCX_TWILIO_FROM"), MessagingServiceSID: get("CCX_TWILIO_MESSAGING_SERVICE_SID")}
	return o, provider.Missing(get, "CCX_TWILIO_ACCOUNT_SID", "CCX_TWILIO_AUTH_TOKEN")
}

// Secrets are the values logs must never show.
func (o Options) Secrets() []string { return []string{o.AuthToken} }
