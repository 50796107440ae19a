package config

// EnvironmentHelp is `ccx help environment`: every CCX_* variable a command
// reads (a test walks the source and fails on one missing here).
const EnvironmentHelp = `Settings come from flags first, then these variables, then the active profile.

  CCX_PROFILE        profile to use (like --profile)
  CCX_CONFIG         config file path (default: <user config dir>/ccx/config.toml)
  CCX_WEBHOOK_URL    the channel's IS-Messenger webhook URL
  CCX_CHANNEL_ID     the channel ID
  CCX_API_TOKEN      the channel's API token (Bearer secret; never printed; the
                     curl that --dry-run prints reads it)
  CCX_ID_TYPE        contact ID type: phone or custom
  CCX_API_BASE_URL   your integration server's base URL (the platform calls <base>/message)
  CCX_CONTACT_ID     the default contact for ccx send
  CCX_EMULATOR_URL   where 'ccx emulate send|inbox|customer' find the emulator
  CCX_NO_PROMPT      never prompt (also implied by CI)

Provider credentials (ccx relay, ccx provider, ccx emulate --provider, ccx check
--e2e; from the environment or a --credentials KEY=VALUE file):

  CCX_PROVIDER_BASE_URL  the provider API's base URL (a fake's, in tests)
  clicksend   CCX_CLICKSEND_USERNAME, CCX_CLICKSEND_API_KEY, CCX_CLICKSEND_SECRET,
              CCX_CLICKSEND_FROM
  twilio      CCX_TWILIO_ACCOUNT_SID, CCX_TWILIO_AUTH_TOKEN, CCX_TWILIO_FROM or
              CCX_TWILIO_MESSAGING_SERVICE_SID
  telegram    CCX_TELEGRAM_BOT_TOKEN, CCX_TELEGRAM_WEBHOOK_SECRET
  whatsapp    CCX_WHATSAPP_TOKEN, CCX_WHATSAPP_PHONE_NUMBER_ID, CCX_WHATSAPP_APP_SECRET,
              CCX_WHATSAPP_VERIFY_TOKEN, CCX_WHATSAPP_API_VERSION
  vonage      CCX_VONAGE_APPLICATION_ID with CCX_VONAGE_PRIVATE_KEY (PEM) or
              CCX_VONAGE_PRIVATE_KEY_PATH, or CCX_VONAGE_API_KEY with
              CCX_VONAGE_API_SECRET; CCX_VONAGE_SIGNATURE_SECRET, CCX_VONAGE_FROM,
              CCX_VONAGE_CHANNEL
  gupshup     CCX_GUPSHUP_API_KEY, CCX_GUPSHUP_APP_NAME, CCX_GUPSHUP_SOURCE,
              CCX_GUPSHUP_SECRET, CCX_GUPSHUP_WEBHOOK_HEADER, CCX_GUPSHUP_WEBHOOK_TOKEN
  zalo        CCX_ZALO_APP_ID, CCX_ZALO_APP_SECRET, CCX_ZALO_OA_ID, CCX_ZALO_OA_SECRET_KEY,
              CCX_ZALO_ACCESS_TOKEN, CCX_ZALO_REFRESH_TOKEN, CCX_ZALO_TOKEN_FILE,
              CCX_ZALO_OAUTH_URL

Terminal manners:

  NO_COLOR           any value turns colour off
  CLICOLOR=0         turns colour off
  CLICOLOR_FORCE=1   colour even when output is not a terminal
  COLUMNS            the terminal's width when it cannot be asked (tables wrap to it)
  CI                 set in CI: ccx never prompts`
