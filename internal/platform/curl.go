package platform

import "strings"

// TokenVar is the environment variable a printed curl command reads the API
// token from, so the command runs as pasted and never carries the token.
const TokenVar = "$CCX_API_TOKEN"

// Curl renders the request Post would make as a curl command. token is
// printed as given: callers pass it redacted unless the user asked to see it,
// or TokenVar to have the shell fill it in.
func Curl(url, token, userAgent string, body []byte) string {
	return CurlCommand("POST", url, []string{
		"authorization: Bearer " + token,
		"content-type: application/json",
		"cache-control: no-cache",
		"user-agent: " + userAgent,
	}, body)
}

// CurlCommand renders one request as a runnable POSIX-shell curl command:
// every part single-quoted, except TokenVar, which is left for the shell to
// expand. A nil body sends none.
func CurlCommand(method, url string, header []string, body []byte) string {
	var b strings.Builder
	b.WriteString("curl -sS -X ")
	b.WriteString(method)
	b.WriteString(" ")
	b.WriteString(shellQuote(url))
	for _, h := range header {
		b.WriteString(" \\\n  -H ")
		b.WriteString(quoteExpandingToken(h))
	}
	if body != nil {
		b.WriteString(" \\\n  --data-raw ")
		b.WriteString(shellQuote(string(body)))
	}
	return b.String()
}

// quoteExpandingToken quotes s, leaving each TokenVar outside the quotes
// (double-quoted) so that the shell substitutes it.
func quoteExpandingToken(s string) string {
	parts := strings.Split(s, TokenVar)
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteString(`"` + TokenVar + `"`)
		}
		if p != "" || len(parts) == 1 {
			b.WriteString(shellQuote(p))
		}
	}
	return b.String()
}

// shellQuote wraps s in single quotes for POSIX shells.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// UserAgent is the default User-Agent header.
func UserAgent() string { return defaultUA() }
