package validate

// RuleInfo describes one rule id: its fixed severity and what it means. Every
// finding's severity comes from this table, so a rule never changes severity
// between payloads (scripts can filter on the id alone).
type RuleInfo struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Summary  string   `json:"summary"`
}

// Rules lists every rule id in documentation order (docs/validate.md mirrors it).
var Rules = []RuleInfo{
	{RuleSyntax, Error, "the input is not well-formed JSON (or is empty)"},
	{RuleEncoding, Error, "the input is not valid UTF-8 or contains a NUL byte"},
	{RuleArrayEmpty, Error, "an empty array (`[]`): there is no payload to validate"},
	{RuleStringNUL, Error, "a string holds the escape \\u0000, a NUL character that receivers cut the text at or reject"},
	{RuleStringSurrogate, Error, "a string holds a lone UTF-16 surrogate escape (e.g. \\ud800): not a character, so it cannot be encoded as UTF-8"},
	{RuleDepth, Error, "nesting deeper than MaxDepth (64) levels"},
	{RuleTooLarge, Error, "a single document is larger than the size cap; it is not read"},
	{RuleKind, Error, "cannot tell a webhook body, a /message body and a /message reply apart (use --kind)"},
	{RuleRequired, Error, "a required field is missing"},
	{RuleType, Error, "a field has the wrong JSON type (or the payload is not an object)"},
	{RuleEnum, Error, "a value outside the known set (event type, message type, attachment type, status value)"},
	{RuleEmpty, Error, "a required string is empty (channelId, contactId, mId, title, reply, error message)"},
	{RuleEventsEmpty, Error, "events[] has no element"},
	{RuleContactIDLength, Error, "contactId is longer than 50 characters"},
	{RuleContactIDFormat, Error, "contactId does not fit the channel's ID type (phone: E.164; custom: A-Z a-z 0-9 _ = + / @)"},
	{RuleMIDLength, Error, "mId is longer than 50 characters"},
	{RuleTimestampSeconds, Error, "a 10-digit timestamp: seconds where milliseconds are expected"},
	{RuleTimestampRange, Error, "a timestamp that is negative, fractional or implausible as epoch milliseconds"},
	{RuleTextEmpty, Error, "a text message whose text is empty or only white space"},
	{RuleURL, Error, "an attachment URL that is not an absolute http(s) URL with a host"},
	{RuleLatitude, Error, "latitude outside [-90, 90]"},
	{RuleLongitude, Error, "longitude outside [-180, 180]"},
	{RuleRepliesEmpty, Error, "a quick_reply without replies"},
	{RuleChannelIDMismatch, Error, "channelId differs from the configured channel (--channel-id or the profile)"},
	{RuleReplyStatus, Error, "a /message reply with a status other than 2xx or 4xx"},
	{RuleEventsMultiple, Warning, "more than one event in one POST (every documented sample has one)"},
	{RuleTextLength, Warning, "text longer than the limit (7,000 characters by default)"},
	{RuleLocationNested, Warning, "location fields nested in message.location{} instead of flat on the message"},
	{RuleRepliesCount, Warning, "more than 10 quick replies"},
	{RuleStatusReason, Warning, "a failed status without status.message (the reason)"},
	{RuleCustomPayload, Warning, "custom_payload is not documented for Custom Channels (unverified)"},
	{RuleUnknownField, Warning, "a field the spec does not know"},
	{RuleUnexpectedField, Warning, "a known field in the wrong place (e.g. status on a message event)"},
	{RuleDuplicateKey, Warning, "the same key twice in one object (the last one is checked)"},
	{RuleCoordinateString, Warning, "latitude/longitude sent as a numeric string instead of a number"},
	{RuleContactField, Warning, "a contact{} value of doubtful shape (countryCode, phone, email, profilePic, language, locale, timezone)"},
	{RuleAttachmentMIME, Warning, "attachment.type disagrees with its mimeType"},
	{RuleReplyStatusNot200, Warning, "a 2xx /message reply other than the documented 200"},
	{RuleMediaUnreachable, Warning, "with --fetch-media: an attachment URL that cannot be fetched (no connection, no answer in time, a redirect to a non-http(s) scheme)"},
	{RuleMediaStatus, Warning, "with --fetch-media: an attachment URL that answers other than 2xx"},
	{RuleMediaDisposition, Warning, "with --fetch-media: an attachment served with Content-Disposition: attachment (a forced download; it must be inline)"},
	{RuleMediaContentType, Warning, "with --fetch-media: a Content-Type that does not fit the attachment type (an image served as text/html)"},
	{RuleMIDDuplicate, Warning, "a message or message_echo mId used twice for the same channel within one input (a stream, an array, a directory)"},
}

var ruleSeverity = func() map[string]Severity {
	m := make(map[string]Severity, len(Rules))
	for _, r := range Rules {
		m[r.ID] = r.Severity
	}
	return m
}()

// RuleSeverity returns the fixed severity of a rule id; ok is false for an
// unknown id.
func RuleSeverity(id string) (sev Severity, ok bool) {
	sev, ok = ruleSeverity[id]
	return sev, ok
}
