package channel

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// NowMillis is the current time as a UNIX epoch in milliseconds (§2.3).
func NowMillis() int64 { return time.Now().UnixMilli() }

// NewMID returns a fresh message ID: a UUID v4 (36 chars, within MaxMIDLen),
// the form official tooling uses (§2.3).
func NewMID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// Text builds a text message.
func Text(text string) Message { return Message{Type: MessageText, Text: text} }

// NewAttachment builds an attachment message; optional fields may be empty.
func NewAttachment(kind AttachmentKind, url, mimeType, fileName, description string) Message {
	return Message{Type: MessageAttachment, Attachment: &Attachment{
		Type: kind, URL: url, MimeType: mimeType, FileName: fileName, Description: description,
	}}
}

// Location builds a flat location message (§4.3).
func Location(lat, lng float64, address string) Message {
	return Message{Type: MessageLocation, Latitude: &lat, Longitude: &lng, Address: address}
}

// QuickReply builds a quick_reply message (§4.4).
func QuickReply(title string, replies ...string) Message {
	return Message{Type: MessageQuickReply, Title: title, Replies: replies}
}

// CustomPayload builds a custom_payload message around raw JSON (§4.5).
func CustomPayload(payload json.RawMessage) Message {
	return Message{Type: MessageCustomPayload, Payload: payload}
}

// NewEvent builds a message or message_echo event with a fresh mId and the
// current timestamp; callers override MID/Timestamp when the user gave them.
func NewEvent(t EventType, m Message) Event {
	return Event{Type: t, MID: NewMID(), Timestamp: NowMillis(), Message: &m}
}

// NewReceipt builds a message_status event for the message mid (§2.6).
func NewReceipt(mid string, value StatusValue, reason string) Event {
	return Event{Type: EventStatus, MID: mid, Timestamp: NowMillis(), Status: &Status{Value: value, Message: reason}}
}

// NewWebhook wraps events in the envelope; contact may be nil.
func NewWebhook(channelID, contactID string, contact *Contact, events ...Event) Webhook {
	if contact != nil && contact.IsZero() {
		contact = nil
	}
	return Webhook{ChannelID: channelID, ContactID: contactID, Events: events, Contact: contact}
}

// KindForMIME picks the attachment kind from a MIME type (§4.2).
func KindForMIME(mime string) AttachmentKind {
	switch {
	case strings.HasPrefix(mime, "image/"):
		return AttachmentImage
	case strings.HasPrefix(mime, "video/"):
		return AttachmentVideo
	case strings.HasPrefix(mime, "audio/"):
		return AttachmentAudio
	}
	return AttachmentFile
}

// ParseLocation builds a location from LAT and LNG as typed: decimal
// degrees, latitude in [-90, 90], longitude in [-180, 180].
func ParseLocation(lat, lng, address string) (Message, error) {
	la, err := parseCoord(lat, "latitude", 90)
	if err != nil {
		return Message{}, err
	}
	ln, err := parseCoord(lng, "longitude", 180)
	if err != nil {
		return Message{}, err
	}
	return Location(la, ln, address), nil
}

func parseCoord(s, name string, limit float64) (float64, error) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a number", name, s)
	}
	if v < -limit || v > limit {
		return 0, fmt.Errorf("%s %v is out of range [-%v, %v]", name, v, limit, limit)
	}
	return v, nil
}

// ParseCustomPayload builds a custom_payload from a JSON object as typed.
func ParseCustomPayload(s string) (Message, error) {
	raw := strings.TrimSpace(s)
	if !json.Valid([]byte(raw)) || !strings.HasPrefix(raw, "{") {
		return Message{}, fmt.Errorf("custom-payload needs a JSON object, got %q", s)
	}
	return CustomPayload(json.RawMessage(raw)), nil
}
