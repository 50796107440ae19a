// Package channel is the wire model of the IS-Messenger Custom Channel API:
// the webhook envelope the integration server posts to the platform, the
// outgoing /message request the platform sends to the server, its replies,
// and the identifier rules and limits they share. It imports nothing of ccx.
//
// docs/api.md is the reference: every field, rule, limit and decision, with
// how sure we are of each. The § numbers in comments are its sections.
package channel

import (
	"encoding/json"
	"net/url"
	"strings"
)

// Limits from the spec (§2.3, §4, §5, §6).
const (
	MaxContactIDLen = 50   // §2.3 contactId, §5
	MaxMIDLen       = 50   // §2.3 events[].mId, §3.3 reply mId
	MaxCustomIDLen  = 50   // §5 Custom ID
	TextWarnLen     = 7000 // §4.1, §7 #8: warn above, not a hard limit
	QuickReplyWarn  = 10   // §4.4, §7 #9: warn above
	RateLimitPerSec = 20   // §6: 20 requests per second per channel
)

// DefaultWebhookURL is the documented webhook after the host move (§2.1, §7 #1).
const DefaultWebhookURL = "https://webhook.respond.io/custom/channel/webhook/"

// MessagePath is appended by the platform to the server's API base URL (§3.1).
const MessagePath = "/message"

// TrimMessagePath reports whether an API base URL already ends in /message
// (the most common set-up mistake: the platform appends /message, so calls
// go to .../message/message) and returns the URL without it.
func TrimMessagePath(base string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil || u.Host == "" {
		return base, false
	}
	p := strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(p, MessagePath) {
		return base, false
	}
	u.Path = strings.TrimSuffix(p, MessagePath)
	u.RawPath = ""
	return u.String(), true
}

// EventType is events[].type (§2.3).
type EventType string

const (
	EventMessage EventType = "message"
	EventEcho    EventType = "message_echo"
	EventStatus  EventType = "message_status"
)

// EventTypes lists every known event type, in documentation order.
var EventTypes = []EventType{EventMessage, EventEcho, EventStatus}

// MessageType is message.type (§4).
type MessageType string

const (
	MessageText          MessageType = "text"
	MessageAttachment    MessageType = "attachment"
	MessageLocation      MessageType = "location"
	MessageQuickReply    MessageType = "quick_reply"
	MessageCustomPayload MessageType = "custom_payload" // §4.5: unverified pass-through
)

// MessageTypes lists every known message type.
var MessageTypes = []MessageType{MessageText, MessageAttachment, MessageLocation, MessageQuickReply, MessageCustomPayload}

// AttachmentKind is message.attachment.type (§4.2).
type AttachmentKind string

const (
	AttachmentImage AttachmentKind = "image"
	AttachmentVideo AttachmentKind = "video"
	AttachmentAudio AttachmentKind = "audio"
	AttachmentFile  AttachmentKind = "file"
)

// AttachmentKinds lists every attachment kind.
var AttachmentKinds = []AttachmentKind{AttachmentImage, AttachmentVideo, AttachmentAudio, AttachmentFile}

// StatusValue is events[].status.value of a message_status event (§2.6, §7 #5).
type StatusValue string

const (
	StatusSent      StatusValue = "sent"
	StatusDelivered StatusValue = "delivered"
	StatusRead      StatusValue = "read"
	StatusFailed    StatusValue = "failed"
)

// StatusValues lists every status value in their forward order.
var StatusValues = []StatusValue{StatusSent, StatusDelivered, StatusRead, StatusFailed}

// IDType is the channel's contact ID type chosen at set-up (§1.2, §5).
type IDType string

const (
	IDPhone  IDType = "phone"
	IDCustom IDType = "custom"
)

// IDTypes lists both ID types.
var IDTypes = []IDType{IDPhone, IDCustom}

// Contact is the optional contact{} block used at contact creation (§2.7).
// Locale and Timezone are undocumented but sent by official tooling (§7 #10).
type Contact struct {
	FirstName   string   `json:"firstName,omitempty"`
	LastName    string   `json:"lastName,omitempty"`
	ProfilePic  string   `json:"profilePic,omitempty"`
	CountryCode string   `json:"countryCode,omitempty"`
	Email       string   `json:"email,omitempty"`
	Phone       string   `json:"phone,omitempty"`
	Language    string   `json:"language,omitempty"`
	Locale      string   `json:"locale,omitempty"`
	Timezone    *float64 `json:"timezone,omitempty"`
}

// ContactKeys are the nine known contact{} keys (§2.7).
var ContactKeys = []string{"firstName", "lastName", "profilePic", "countryCode", "email", "phone", "language", "locale", "timezone"}

// IsZero reports whether no contact field is set.
func (c Contact) IsZero() bool { return c == Contact{} }

// Attachment is message.attachment (§4.2).
type Attachment struct {
	Type        AttachmentKind `json:"type"`
	URL         string         `json:"url"`
	MimeType    string         `json:"mimeType,omitempty"`
	FileName    string         `json:"fileName,omitempty"`
	Description string         `json:"description,omitempty"`
}

// Message is the message object shared by message, message_echo and the
// outgoing /message request (§4). Location fields sit flat on it (§4.3, §7 #7).
type Message struct {
	Type       MessageType     `json:"type"`
	Text       string          `json:"text,omitempty"`
	Attachment *Attachment     `json:"attachment,omitempty"`
	Latitude   *float64        `json:"latitude,omitempty"`
	Longitude  *float64        `json:"longitude,omitempty"`
	Address    string          `json:"address,omitempty"`
	Title      string          `json:"title,omitempty"`
	Replies    []string        `json:"replies,omitempty"`
	Payload    json.RawMessage `json:"payload,omitempty"`
}

// Status is events[].status of a message_status event (§2.6).
type Status struct {
	Value   StatusValue `json:"value"`
	Message string      `json:"message,omitempty"`
}

// Event is one element of events[] (§2.3).
type Event struct {
	Type      EventType `json:"type"`
	MID       string    `json:"mId"`
	Timestamp int64     `json:"timestamp"`
	Message   *Message  `json:"message,omitempty"`
	Status    *Status   `json:"status,omitempty"`
}

// Webhook is the body the integration server POSTs to the platform (§2.3).
type Webhook struct {
	ChannelID string   `json:"channelId"`
	ContactID string   `json:"contactId"`
	Events    []Event  `json:"events"`
	Contact   *Contact `json:"contact,omitempty"`
}

// OutgoingRequest is the body the platform POSTs to <base URL>/message (§3.2).
type OutgoingRequest struct {
	ChannelID string  `json:"channelId"`
	ContactID string  `json:"contactId"`
	Message   Message `json:"message"`
}

// Reply is the integration server's 200 answer to /message (§3.3).
type Reply struct {
	MID string `json:"mId"`
}

// ErrorReply is the 4xx answer to /message (§3.3): {"error":{"message":...}}.
type ErrorReply struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is the inner object of ErrorReply.
type ErrorBody struct {
	Message string `json:"message"`
}

// NewErrorReply builds {"error":{"message": msg}}.
func NewErrorReply(msg string) ErrorReply { return ErrorReply{Error: ErrorBody{Message: msg}} }
