package ui

import "strings"

// Redact shows a secret as its first and last four characters ("abcd…wxyz"),
// or only asterisks when it is too short for that to be safe.
func Redact(secret string) string {
	if secret == "" {
		return ""
	}
	if len(secret) < 16 {
		return strings.Repeat("*", 8)
	}
	return secret[:4] + "…" + secret[len(secret)-4:]
}

// RedactIn replaces every occurrence of secret in s with its redacted form.
func RedactIn(s, secret string) string {
	if secret == "" {
		return s
	}
	return strings.ReplaceAll(s, secret, Redact(secret))
}
