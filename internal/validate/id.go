package validate

import (
	"strconv"
	"unicode/utf8"

	"github.com/ccx-cli/ccx/internal/channel"
)

// idProblem is why a contact ID fails, and where (byte offset in the value).
type idProblem struct {
	bad    bool
	rule   string
	offset int
	msg    string
}

// checkID applies channel.CheckContactID and maps its verdict to a rule id and
// the offending position.
func checkID(id string, t channel.IDType) idProblem {
	err := channel.CheckContactID(id, t)
	if err == nil && t == "" {
		// No ID type known: the ID must fit one of the two. A phone ID
		// (+ and digits) fits the custom alphabet, so that alphabet is the
		// union; what fits neither fails here.
		if badCustom(id) {
			i := firstBadIDByte(id, channel.IDCustom)
			r, _ := utf8.DecodeRuneInString(id[i:])
			return idProblem{bad: true, rule: RuleContactIDFormat, offset: i,
				msg: "contactId has " + strconv.QuoteRune(r) + " at position " + strconv.Itoa(1+utf8.RuneCountInString(id[:i])) +
					", which neither ID type allows (phone: E.164 such as +60123456789; custom: A-Z a-z 0-9 _ = + / @); no ID type is known, so both were tried: --id-type phone|custom (or CCX_ID_TYPE, the profile's id_type) narrows the check"}
		}
	}
	if err == nil {
		return idProblem{}
	}
	p := idProblem{bad: true, rule: RuleContactIDFormat, msg: err.Error()}
	switch {
	case id == "":
		p.rule = RuleEmpty
		p.msg = "contactId is empty: the contact's phone number or custom ID"
	case utf8.RuneCountInString(id) > channel.MaxContactIDLen:
		p.rule = RuleContactIDLength
		p.offset = runeOffset(id, channel.MaxContactIDLen)
	default:
		p.offset = firstBadIDByte(id, t)
	}
	return p
}

func runeOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

// badCustom reports whether id has a character outside the custom alphabet.
func badCustom(id string) bool {
	for i := 0; i < len(id); i++ {
		if b := id[i]; !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '=' || b == '+' || b == '/' || b == '@') {
			return true
		}
	}
	return false
}

// firstBadIDByte finds the first character that breaks the ID type's rule (0
// when the problem is not one character, e.g. too few digits).
func firstBadIDByte(id string, t channel.IDType) int {
	switch t {
	case channel.IDPhone:
		if id[0] != '+' {
			return 0
		}
		for i := 1; i < len(id); i++ {
			if id[i] < '0' || id[i] > '9' || i == 1 && id[i] == '0' {
				return i
			}
		}
	case channel.IDCustom:
		for i, r := range id {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '=' || r == '+' || r == '/' || r == '@') {
				return i
			}
		}
	}
	return 0
}

// ID checks one contact ID against the ID type ("" checks it against the
// union of both types' rules), for `ccx validate id`. Column is the 1-based
// character position of the offending character (1 when the whole value is
// at fault); Line is always 1; Path is "contactId".
func ID(value string, t channel.IDType) []Finding {
	p := checkID(value, t)
	if !p.bad {
		return nil
	}
	sev, _ := RuleSeverity(p.rule)
	col := 1 + utf8.RuneCountInString(value[:p.offset])
	return []Finding{{Severity: sev, Rule: p.rule, Path: "contactId", Line: 1, Column: col, Message: p.msg}}
}
