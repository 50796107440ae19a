package gupshup

import "github.com/ccx-cli/ccx/internal/provider"

// FromCredentials reads the adapter's options from a credentials lookup (env
// or a --credentials file, or an emulator's Credentials) and names the
// required ones that are missing.
func FromCredentials(get func(string) string) (Options, []string) {
	o := Options{APIKey: get("CCX_GUPSHUP_API_KEY"), AppName: get("CCX_GUPSHUP_APP_NAME"), Source: get("CCX_GUPSHUP_SOURCE"),
		Secret: get("CCX_GUPSHUP_SECRET"), Header: get("CCX_GUPSHUP_WEBHOOK_HEADER"), HeaderValue: get("CCX_GUPSHUP_WEBHOOK_TOKEN")}
	return o, provider.Missing(get, "CCX_GUPSHUP_API_KEY", "CCX_GUPSHUP_APP_NAME", "CCX_GUPSHUP_SOURCE")
}

// Secrets are the values logs must never show.
func (o Options) Secrets() []string { return []string{o.APIKey, o.Secret, o.HeaderValue} }
