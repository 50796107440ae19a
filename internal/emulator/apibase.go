package emulator

import (
	"fmt"

	"github.com/ccx-cli/ccx/internal/outgoing"
)

// SetAPIBaseURL points a channel's outgoing /message calls at url from now
// on ("" → the first channel). A test starts the platform first, gives its
// webhook URL to the server it then starts, and only then knows the
// server's URL (the ccxtest kit).
func (e *Emulator) SetAPIBaseURL(channelID, url string) error {
	if channelID == "" {
		channelID = e.channels[0].ID
	}
	known := false
	for _, c := range e.channels {
		known = known || c.ID == channelID
	}
	if !known {
		return fmt.Errorf("%w %q", ErrUnknownChannel, channelID)
	}
	if _, err := outgoing.MessageURL(url); err != nil {
		return err
	}
	e.baseURLs.Store(channelID, url)
	return nil
}

// withBase applies SetAPIBaseURL to a configured channel.
func (e *Emulator) withBase(c Channel) Channel {
	if u, ok := e.baseURLs.Load(c.ID); ok {
		c.APIBaseURL = u.(string)
	}
	return c
}
