package loopback

import (
	"encoding/json"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/provider"
)

// InboundBody is the loopback webhook: a contact writes text.
type InboundBody struct {
	ID        string `json:"id"`
	From      string `json:"from"`
	Text      string `json:"text"`
	Timestamp int64  `json:"timestamp,omitempty"` // ms
}

// ParseInbound reads an InboundBody.
func ParseInbound(body []byte) ([]provider.Inbound, error) {
	var b InboundBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, provider.Bad("loopback inbound: %v", err)
	}
	if b.ID == "" || b.From == "" || b.Text == "" {
		return nil, provider.Bad("loopback inbound needs id, from and text")
	}
	m := channel.Text(b.Text)
	return []provider.Inbound{{Kind: provider.KindMessage, ProviderID: b.ID, ContactID: b.From, Timestamp: b.Timestamp, Message: &m}}, nil
}
