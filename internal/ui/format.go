package ui

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// HTTPStatus renders an HTTP status: 200 ok, 4xx a warning, else an error.
func HTTPStatus(st Styles, status int) string {
	s := fmt.Sprint(status)
	switch {
	case status == 200:
		return st.OK.Render(s)
	case status >= 400 && status < 500:
		return st.Warning.Render(s)
	}
	return st.Error.Render(s)
}

// Millis renders a latency in milliseconds as a duration (12.35ms).
func Millis(ms float64) string {
	return (time.Duration(ms * float64(time.Millisecond))).Round(10 * time.Microsecond).String()
}

// OneLine folds s onto one line of at most n runes.
func OneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// RedactValues redacts each secret of 4 bytes or more (and its path-escaped
// form) in s, as `ccx provider` prints them.
func RedactValues(s string, secrets []string) string {
	for _, v := range secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, Redact(v))
			s = strings.ReplaceAll(s, url.PathEscape(v), Redact(v))
		}
	}
	return s
}
