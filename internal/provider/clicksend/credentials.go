package clicksend

import "github.com/ccx-cli/ccx/internal/provider"

// FromCredentials reads the adapter's options from a credentials lookup (env
// or a --credentials file, or an emulator's Credentials) and names the
// required ones that are missing.
func FromCredentials(get func(string) string) (Options, []string) {
	o := Options{Username: get("CCX_CLICKSEND_USERNAME"), APIKey: get("CCX_CLICKSEND_API_KEY"),
		From: get("CCX_CLICKSEND_FROM"), Secret: get("CCX_CLICKSEND_SECRET")}
	return o, provider.Missing(get, "CCX_CLICKSEND_USERNAME", "CCX_CLICKSEND_API_KEY")
}

// Secrets are the values logs must never show.
func (o Options) Secrets() []string { return []string{o.APIKey, o.Secret} }
