package ui

import (
	"fmt"
	"strings"
	"time"
)

// StatusCode renders an HTTP status: 200 green, 4xx yellow, else red.
func StatusCode(st Styles, status int) string {
	s := fmt.Sprint(status)
	switch {
	case status == 200:
		return st.OK.Render(s)
	case status >= 400 && status < 500:
		return st.Warning.Render(s)
	}
	return st.Error.Render(s)
}

// Millis renders a latency in milliseconds as a duration (1.5ms).
func Millis(ms float64) string {
	return (time.Duration(ms * float64(time.Millisecond))).Round(10 * time.Microsecond).String()
}

// OneLine folds s onto one line of at most n runes, ending in … when cut.
func OneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
