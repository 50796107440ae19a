package telegram

import "github.com/ccx-cli/ccx/internal/provider"

// FromCredentials reads the adapter's options from a credentials lookup (env
// or a --credentials file, or an emulator's Credentials) and names the
// required ones that are missing.
func FromCredentials(get func(string) string) (Options, []string) {
	o := Options{BotToken: get("CCX_TELEGRAM_BOT_TOKEN"), Secret: get("CCX_TELEGRAM_WEBHOOK_SECRET")}
	return o, provider.Missing(get, "CCX_TELEGRAM_BOT_TOKEN", "CCX_TELEGRAM_WEBHOOK_SECRET")
}

// Secrets are the values logs must never show.
func (o Options) Secrets() []string { return []string{o.BotToken, o.Secret} }
