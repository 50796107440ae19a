package channel

import (
	"fmt"
	"unicode/utf8"
)

// IDError says why a contact ID does not fit its ID type.
type IDError struct {
	Reason string
}

func (e *IDError) Error() string { return e.Reason }

// CheckContactID applies §5 for the channel's ID type. An empty idType checks
// only the envelope rule (non-empty, at most 50 characters).
func CheckContactID(id string, t IDType) error {
	n := utf8.RuneCountInString(id)
	if n == 0 {
		return &IDError{"contact ID is empty"}
	}
	if n > MaxContactIDLen {
		return &IDError{fmt.Sprintf("contact ID is %d characters; the maximum is %d", n, MaxContactIDLen)}
	}
	switch t {
	case IDPhone:
		return checkPhone(id)
	case IDCustom:
		return checkCustom(id)
	}
	return nil
}

// IsE164 reports whether s is +<country><number>, 7 to 15 digits, no leading 0.
func IsE164(s string) bool { return checkPhone(s) == nil }

func checkPhone(id string) error {
	if id[0] != '+' {
		return &IDError{"phone contact IDs are E.164 with a leading '+', e.g. +60177872890"}
	}
	digits := id[1:]
	if len(digits) < 7 || len(digits) > 15 {
		return &IDError{fmt.Sprintf("phone contact ID has %d digits after '+'; E.164 allows 7 to 15", len(digits))}
	}
	if digits[0] == '0' {
		return &IDError{"phone contact ID cannot start with +0 (E.164 country codes start at 1)"}
	}
	for i := 0; i < len(digits); i++ {
		if c := digits[i]; c < '0' || c > '9' {
			return &IDError{fmt.Sprintf("phone contact ID has %q at position %d; only digits may follow '+' (no spaces or dashes)", rune(c), i+2)}
		}
	}
	return nil
}

func checkCustom(id string) error {
	for i, r := range id {
		if !customIDRune(r) {
			return &IDError{fmt.Sprintf("custom contact ID has %q at position %d; allowed: A-Z a-z 0-9 _ = + / @", r, i+1)}
		}
	}
	return nil
}

func customIDRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		r == '_' || r == '=' || r == '+' || r == '/' || r == '@'
}

// ParseIDType accepts "phone" or "custom" (and the UI names).
func ParseIDType(s string) (IDType, error) {
	switch s {
	case "phone", "Phone Number", "phone_number":
		return IDPhone, nil
	case "custom", "Custom ID", "custom_id":
		return IDCustom, nil
	}
	return "", fmt.Errorf("unknown ID type %q: use phone or custom", s)
}
