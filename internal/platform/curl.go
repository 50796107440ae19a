package platform

import "strings"

// TokenEnv is the variable a printed curl reads the token from.
const TokenEnv = "CCX_API_TOKEN"

// Curl renders the request Post would make as a runnable curl command. An
// empty token is written as "$CCX_API_TOKEN" (expanded by the shell, so the
// line runs as printed once the variable is set); a token is printed as
// given (the user asked to see it).
func Curl(url, token, userAgent string, body []byte) string {
	var b strings.Builder
	b.WriteString("curl -sS -X POST ")
	b.WriteString(shellQuote(url))
	if token == "" {
		b.WriteString(" \\\n  -H \"authorization: Bearer $" + TokenEnv + "\"")
	}
	for _, h := range []string{
		"authorization: Bearer " + token,
		"content-type: application/json",
		"cache-control: no-cache",
		"user-agent: " + userAgent,
	} {
		if token == "" && strings.HasPrefix(h, "authorization:") {
			continue
		}
		b.WriteString(" \\\n  -H ")
		b.WriteString(shellQuote(h))
	}
	b.WriteString(" \\\n  --data-raw ")
	b.WriteString(shellQuote(string(body)))
	return b.String()
}

// shellQuote wraps s in single quotes for POSIX shells.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// UserAgent is the default User-Agent header.
func UserAgent() string { return defaultUA() }
