// Package validate checks Custom Channel payloads given as raw JSON bytes,
// read in one pass by a flat scanner (never unmarshalled into maps or
// structs) that checks grammar, encoding and depth and lays the values the
// rules need on a tape, and reports located, typed findings: severity, JSON
// path, line:column, a stable rule id and a message a person can act on.
// Stream does the same for NDJSON, arrays and big input.
package validate

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
)

// Severity of a finding.
type Severity string

const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Kind is what a payload is.
type Kind string

const (
	KindAuto    Kind = ""        // detect from the content
	KindWebhook Kind = "webhook" // body POSTed to the platform webhook (§2.3)
	KindMessage Kind = "message" // body the platform POSTs to <base>/message (§3.2)
	KindReply   Kind = "reply"   // the server's answer to /message (§3.3)
)

// Kinds lists the explicit kinds, for flags and completion.
var Kinds = []Kind{KindWebhook, KindMessage, KindReply}

// Finding is one problem found in a payload.
type Finding struct {
	Severity Severity `json:"severity"`
	Rule     string   `json:"rule"`
	Path     string   `json:"path"`   // e.g. events[0].mId; "" for the whole document
	Line     int      `json:"line"`   // 1-based, in the bytes given to Bytes
	Column   int      `json:"column"` // 1-based, in bytes
	Message  string   `json:"message"`
}

// Options steer a validation.
type Options struct {
	Kind   Kind           // KindAuto detects
	IDType channel.IDType // "": contactId must fit one of the two types
	// ChannelID, when set, is the channel the payload must belong to.
	ChannelID string
	// ReplyStatus is the HTTP status a KindReply body came with; 0 infers it
	// from the body's shape.
	ReplyStatus int
	// TextLimit overrides the text length warning threshold (0: channel.TextWarnLen).
	TextLimit int
	// MaxBytes, when positive, rejects a larger document with json-too-large
	// before reading it (Stream applies its own cap the same way).
	MaxBytes int

	// Media lists the payload's attachment URLs in Report.Media (for
	// mediacheck: ccx validate --fetch-media).
	Media bool

	mids bool // record message mIds for mid-duplicate (Stream sets it)
}

// Media is one attachment URL of a payload, where it is written.
type Media struct {
	URL, Kind    string // kind: image, video, audio or file ("" when unknown)
	Path         string
	Line, Column int
}

// Report is the outcome of one validation.
type Report struct {
	Kind     Kind      `json:"kind"`
	Findings []Finding `json:"findings"`

	// Media holds the attachment URLs that passed url-invalid (with
	// Options.Media only).
	Media []Media `json:"-"`

	mids midList // message mIds, for Stream's mid-duplicate check
}

// HasErrors reports whether any finding is an error.
func (r Report) HasErrors() bool { return r.count(Error) > 0 }

// HasWarnings reports whether any finding is a warning.
func (r Report) HasWarnings() bool { return r.count(Warning) > 0 }

// Errors counts error findings.
func (r Report) Errors() int { return r.count(Error) }

// Warnings counts warning findings.
func (r Report) Warnings() int { return r.count(Warning) }

func (r Report) count(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == s {
			n++
		}
	}
	return n
}

// Rule ids are stable: scripts and editors key on them. Add, never rename.
const (
	RuleSyntax            = "json-syntax"           // not well-formed JSON
	RuleEncoding          = "json-encoding"         // invalid UTF-8 or a NUL byte
	RuleDepth             = "json-depth"            // nesting deeper than the limit
	RuleKind              = "kind-unknown"          // cannot tell what payload this is
	RuleRequired          = "required"              // a required field is missing
	RuleType              = "type"                  // a field has the wrong JSON type
	RuleEnum              = "enum"                  // a value outside the known set
	RuleEmpty             = "empty"                 // a required string is empty
	RuleEventsEmpty       = "events-empty"          // events[] has no element
	RuleEventsMultiple    = "events-multiple"       // more than one event in one POST (warning)
	RuleContactIDLength   = "contact-id-length"     // contactId over 50 characters
	RuleContactIDFormat   = "contact-id-format"     // contactId does not fit the ID type
	RuleMIDLength         = "mid-length"            // mId over 50 characters
	RuleTimestampSeconds  = "timestamp-seconds"     // 10-digit timestamp: seconds, not ms
	RuleTimestampRange    = "timestamp-range"       // negative, fractional or absurd timestamp
	RuleTextEmpty         = "text-empty"            // text message with empty text
	RuleTextLength        = "text-length"           // text over the limit (warning)
	RuleURL               = "url-invalid"           // attachment URL not absolute http(s)
	RuleLatitude          = "latitude-range"        // latitude outside [-90, 90]
	RuleLongitude         = "longitude-range"       // longitude outside [-180, 180]
	RuleLocationNested    = "location-nested"       // message.location{} instead of flat fields (warning)
	RuleRepliesEmpty      = "replies-empty"         // quick_reply without replies
	RuleRepliesCount      = "replies-count"         // more than 10 replies (warning)
	RuleStatusReason      = "status-reason-missing" // failed without status.message (warning)
	RuleCustomPayload     = "custom-payload-unverified"
	RuleUnknownField      = "unknown-field"       // a field the spec does not know (warning)
	RuleUnexpectedField   = "unexpected-field"    // a known field in the wrong place (e.g. status on a message event)
	RuleChannelIDMismatch = "channel-id-mismatch" // channelId differs from the configured channel
	RuleReplyStatus       = "reply-status"        // /message reply with a status the platform does not expect

	// Added by the validate branch.
	RuleTooLarge          = "json-too-large"       // a single document over the size cap (reported by Stream)
	RuleDuplicateKey      = "duplicate-key"        // the same key twice in one object (warning)
	RuleCoordinateString  = "coordinate-string"    // latitude/longitude sent as a numeric string (warning)
	RuleContactField      = "contact-field"        // a contact{} value of doubtful shape (warning)
	RuleAttachmentMIME    = "attachment-mime"      // attachment.type disagrees with mimeType (warning)
	RuleReplyStatusNot200 = "reply-status-not-200" // a 2xx other than 200 (warning)

	// Added by the hardening branch.
	RuleArrayEmpty      = "array-empty"      // an empty top-level array: nothing to validate
	RuleStringNUL       = "string-nul"       // a \u0000 escape: a NUL character in a string
	RuleStringSurrogate = "string-surrogate" // a lone UTF-16 surrogate escape (\ud800): no character

	// Added by the fidelity branch.
	RuleMIDDuplicate = "mid-duplicate" // the same channel's mId twice in one input (warning)

	// Reported by mediacheck (ccx validate --fetch-media, ccx emulate
	// --fetch-media), never by Bytes: they need the network.
	RuleMediaUnreachable = "media-unreachable"  // the attachment URL cannot be fetched
	RuleMediaStatus      = "media-status"       // it answers other than 2xx
	RuleMediaDisposition = "media-disposition"  // Content-Disposition: attachment
	RuleMediaContentType = "media-content-type" // a Content-Type that does not fit the attachment type
)

// NetworkRules are the rule ids only a fetch can report (no corpus file
// can trigger them offline).
var NetworkRules = []string{RuleMediaUnreachable, RuleMediaStatus, RuleMediaDisposition, RuleMediaContentType}

// Unignorable are the rules that stop a payload from being read at all:
// leaving them out would turn unreadable input into a pass.
var Unignorable = []string{RuleSyntax, RuleEncoding, RuleDepth, RuleTooLarge, RuleKind}

// ParseIgnore checks rule ids given to leave out (--ignore) and returns them
// as a set; an unknown or unignorable id is an error naming it.
func ParseIgnore(ids []string) (map[string]bool, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	set := make(map[string]bool, len(ids))
	for _, id := range ids {
		id = strings.TrimSpace(id)
		switch {
		case id == "":
			continue
		case slices.Contains(Unignorable, id):
			return nil, fmt.Errorf("rule %q cannot be ignored: a payload it finds cannot be checked at all", id)
		case !known(id):
			return nil, fmt.Errorf("unknown rule %q; the rules are: %s", id, strings.Join(RuleIDs(), ", "))
		}
		set[id] = true
	}
	return set, nil
}

// Drop removes the findings of the ignored rules, in place.
func (r *Report) Drop(ignore map[string]bool) {
	if len(ignore) == 0 {
		return
	}
	r.Findings = slices.DeleteFunc(r.Findings, func(f Finding) bool { return ignore[f.Rule] })
}

func known(id string) bool { _, ok := RuleSeverity(id); return ok }

// RuleIDs lists the rule ids in documentation order.
func RuleIDs() []string {
	ids := make([]string, len(Rules))
	for i, r := range Rules {
		ids[i] = r.ID
	}
	return ids
}
