package provider

import (
	"net/http"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
)

// Emulator is a local fake of one provider, the provider face of an
// integration server seen from the outside: its send API (recording every
// call the server makes, answering like the real provider, failing on
// request) and its webhooks (customer messages and status callbacks, shaped
// and signed as the real provider does). `ccx provider serve|send`,
// `ccx emulate --provider` and `ccx check --e2e` speak to providers only
// through this interface; each provider package implements it next to its
// adapter, so one package knows one provider completely.
type Emulator interface {
	// Name is the provider name (twilio, telegram, clicksend, ...).
	Name() string
	// Handler serves the provider's API under the paths of its real base URL
	// (e.g. /2010-04-01/Accounts/{sid}/Messages.json). It records every call.
	Handler() http.Handler
	// Credentials are the values a server needs to call this fake and to
	// verify its webhooks, keyed as `ccx relay` reads them from env or
	// --credentials (e.g. CCX_TWILIO_ACCOUNT_SID; also the business number,
	// CCX_TWILIO_FROM, which is no secret). Never printed by ccx.
	Credentials() map[string]string
	// SetFaults changes how later API calls are answered.
	SetFaults(Faults)
	// Sends returns the recorded API calls, oldest first.
	Sends() []Send
	// Subscribe calls fn (on the recording goroutine; fn must not block nor
	// call back into the emulator's recording) for every send recorded from
	// now on, and again, with the same Seq and a longer Callbacks, each time a
	// status callback of that send was answered: subscribers replace by Seq.
	// It returns an unsubscribe func.
	Subscribe(fn func(Send)) (cancel func())
	// Inbound builds the webhook the provider would POST to target (the
	// server's provider webhook URL) for a customer message, signed as the
	// provider signs (or badly signed when in.BadSignature).
	Inbound(target string, in CustomerMessage) (*http.Request, error)
	// Receipt builds the status callback the provider would POST for a
	// message it accepted earlier (ProviderID as answered to the send). The
	// target is the callback URL the send named or, empty, the configured one.
	// ErrNoReceipts when the provider has none (Telegram).
	Receipt(target string, r ReceiptSpec) (*http.Request, error)
	// Close stops firing status callbacks and waits (bounded by the callback
	// client's timeout) for those in flight. The Handler keeps answering.
	Close()
}

// ErrNoReceipts is returned by Receipt for providers without status callbacks.
var ErrNoReceipts = errorString("this provider sends no delivery receipts")

type errorString string

func (e errorString) Error() string { return string(e) }

// Faults are the failure modes an Emulator plays on request.
type Faults struct {
	// FailRate is the fraction (0..1) of sends answered with the provider's
	// 5xx error body.
	FailRate float64
	// Reject lists addresses (as the server sends them, e.g. +15550001111)
	// refused as invalid recipients with the provider's own error.
	Reject []string
	// RateLimit answers the next N sends with 429 and RetryAfter.
	RateLimit  int
	RetryAfter time.Duration
	// BadCredentials answers every call as unauthenticated.
	BadCredentials bool
}

// Send is one recorded API call to the fake, accepted or refused.
type Send struct {
	Seq      int       `json:"seq"`
	Time     time.Time `json:"time"`
	Provider string    `json:"provider"`
	// The request as received: exact bytes (secrets are never in the body of
	// the providers we fake; auth headers are not recorded).
	Method string `json:"method"`
	Path   string `json:"path"`
	// Path never holds a secret: Telegram's bot token is shown as <token>.
	ContentType string `json:"contentType,omitempty"`
	Body        []byte `json:"body,omitempty"`
	// Truncated: Body keeps only the first MaxRecordedBody bytes (uploads).
	Truncated bool `json:"truncated,omitempty"`
	// The answer.
	Status int    `json:"status"`
	Error  string `json:"error,omitempty"` // the provider's error text when refused
	// What the customer would get, decoded from the call: the provider's id
	// (empty when refused), addresses in provider format, and the content.
	ID          string          `json:"id,omitempty"`
	To          string          `json:"to,omitempty"`
	From        string          `json:"from,omitempty"`
	Message     channel.Message `json:"message"`
	CallbackURL string          `json:"callbackUrl,omitempty"` // status callback the send named, if any
	// Callbacks are the status callbacks fired for this send so far, with the
	// server's answer to each.
	Callbacks []Callback `json:"callbacks,omitempty"`
}

// MaxRecordedBody bounds Send.Body.
const MaxRecordedBody = 1 << 20

// Callback is one status callback the emulator posted and how it was answered.
type Callback struct {
	Time   time.Time           `json:"time"`
	Status channel.StatusValue `json:"status"`
	// URL is where it went, with any secret in it (ClickSend's path secret)
	// redacted.
	URL string `json:"url"`
	// Answer is the HTTP status the server answered (0 when it did not).
	Answer int    `json:"answer,omitempty"`
	Error  string `json:"error,omitempty"` // transport failure, timeout, queue full
}

// CustomerMessage is what a customer sends through the provider.
type CustomerMessage struct {
	// ID is the provider's message id; empty → a fresh one. Reuse it to play
	// a provider retry.
	ID string
	// From is the customer's address in the platform's form (+E.164 or a
	// custom id such as a Telegram chat id); the emulator converts it.
	From string
	// Message is text, attachment (URL served by the caller or the fake),
	// location, or a provider-native type expressed as channel types.
	Message channel.Message
	// Name is the customer's profile name when the provider carries one
	// (WhatsApp ProfileName, Telegram first_name); empty → none.
	Name string
	// Native selects a provider-native variant of Message (e.g. Twilio
	// "button", Telegram "voice" or "callback"); empty → the plain rendering.
	// Each provider package lists its natives.
	Native string
	// Time of the message; zero → now.
	Time time.Time
	// BadSignature signs with a wrong key (negative tests).
	BadSignature bool
}

// ReceiptSpec names a status change of a sent message.
type ReceiptSpec struct {
	ProviderID string
	To         string // the recipient, in the platform's form, when the provider includes it
	Status     channel.StatusValue
	Reason     string // for failed
	Time       time.Time
	// BadSignature signs with a wrong key (negative tests).
	BadSignature bool
}

// NativeType is one provider-native variant of a customer message
// (CustomerMessage.Native), for help texts and pickers.
type NativeType struct {
	Name string `json:"name"`
	// Help says what it is and which CustomerMessage fields it reads.
	Help string `json:"help"`
}
