package platform

import "strings"

// Curl renders the request Post would make as a curl command. token is
// printed as given: callers pass it redacted unless the user asked to see it.
func Curl(url, token, userAgent string, body []byte) string {
	var b strings.Builder
	b.WriteString("curl -sS -X POST ")
	b.WriteString(shellQuote(url))
	for _, h := range []string{
		"authorization: Bearer " + token,
		"content-type: application/json",
		"cache-control: no-cache",
		"user-agent: " + userAgent,
	} {
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
