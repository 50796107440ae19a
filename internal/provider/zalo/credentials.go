package zalo

import "github.com/ccx-cli/ccx/internal/provider"

// FromCredentials reads the adapter's options from a credentials lookup (env
// or a --credentials file, or an emulator's Credentials) and names the
// required ones that are missing (which tokens suffice is the caller's
// check).
func FromCredentials(get func(string) string) (Options, []string) {
	o := Options{OAuthURL: get("CCX_ZALO_OAUTH_URL"), AppID: get("CCX_ZALO_APP_ID"), AppSecret: get("CCX_ZALO_APP_SECRET"),
		OASecretKey: get("CCX_ZALO_OA_SECRET_KEY"), AccessToken: get("CCX_ZALO_ACCESS_TOKEN"), RefreshToken: get("CCX_ZALO_REFRESH_TOKEN"),
		TokenFile: get("CCX_ZALO_TOKEN_FILE")}
	return o, provider.Missing(get, "CCX_ZALO_APP_ID", "CCX_ZALO_OA_SECRET_KEY")
}
