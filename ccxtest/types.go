package ccxtest

import (
	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/provider"
)

// IDType is a channel's contact ID type: Phone (+E.164 numbers) or Custom.
type IDType = channel.IDType

// The ID types.
const (
	Phone  IDType = channel.IDPhone
	Custom IDType = channel.IDCustom
)

// Content is what a message carries (text, attachment, location,
// quick_reply, custom_payload), as in the Custom Channel API.
type Content = channel.Message

// Text is a text message.
func Text(s string) Content { return channel.Text(s) }

// AttachmentKind is an attachment's type.
type AttachmentKind = channel.AttachmentKind

// The attachment kinds.
const (
	Image AttachmentKind = channel.AttachmentImage
	Video AttachmentKind = channel.AttachmentVideo
	Audio AttachmentKind = channel.AttachmentAudio
	File  AttachmentKind = channel.AttachmentFile
)

// Attach is an attachment message of the given kind at url.
func Attach(kind AttachmentKind, url string) Content {
	return channel.NewAttachment(kind, url, "", "", "")
}

// Location is a location message.
func Location(lat, lng float64, address string) Content { return channel.Location(lat, lng, address) }

// QuickReply is a quick_reply message: a title and the replies offered.
func QuickReply(title string, replies ...string) Content {
	return channel.QuickReply(title, replies...)
}

// Status is a message's delivery status.
type Status = channel.StatusValue

// The statuses: Received for what a contact wrote, the others for what the
// business sent (set by the /message reply and the server's receipts).
const (
	Received  Status = emulator.StatusReceived
	Sent      Status = channel.StatusSent
	Delivered Status = channel.StatusDelivered
	Read      Status = channel.StatusRead
	Failed    Status = channel.StatusFailed
)

// Message is one message the platform stored, with its status timeline.
type Message = emulator.Message

// Direction of a stored message, seen from the business.
type Direction = emulator.Direction

// The directions: what a contact wrote, and what the business sent.
const (
	Incoming Direction = emulator.In
	Outgoing Direction = emulator.Out
)

// Origin says how a stored message reached the platform.
type Origin = emulator.Origin

// The origins: a message event, a message_echo event, or Platform.Send.
const (
	FromContact  Origin = emulator.OriginContact
	Echo         Origin = emulator.OriginEcho
	FromPlatform Origin = emulator.OriginPlatform
)

// Contact is a conversation partner the platform knows.
type Contact = emulator.Contact

// Warning is something odd the platform accepted (an unknown mId in a
// receipt, a status moving backwards, a duplicate mId); Rule is a stable id.
type Warning = emulator.Warning

// Request is one logged exchange between the platform and the server: a
// webhook post (Kind "webhook") or a /message call (Kind "message"), with
// credentials redacted.
type Request = emulator.RequestRecord

// Send is one call the server made to a provider fake's API.
type Send = provider.Send

// Faults are the failures a provider fake plays on request.
type Faults = provider.Faults

// Inbound is a customer's message as a provider delivers it to the server.
type Inbound = provider.CustomerMessage

// Receipt is a status callback a provider posts for a message it sent.
type Receipt = provider.ReceiptSpec

// Channel is the emulated Custom Channel a server is set up with.
type Channel struct {
	ID     string
	Token  string // the API token; the server checks it on /message and sends it to the webhook
	IDType IDType
}
