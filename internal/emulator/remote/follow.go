package remote

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/ui"
)

// streamClient has no overall timeout (a stream lasts as long as the user
// wants) but gives up on connecting and on the answer's head.
var streamClient = http.Client{Transport: &http.Transport{
	DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	ResponseHeaderTimeout: 10 * time.Second,
}}

// messageKinds are the events that carry a message: a new one, or its
// new status.
var messageKinds = map[emulator.EventKind]bool{
	emulator.EventMessageReceived: true, emulator.EventMessageEcho: true,
	emulator.EventOutgoingSent: true, emulator.EventOutgoingFailed: true,
	emulator.EventStatusChanged: true,
}

// Follow prints the messages of the emulator at base as they arrive (its
// GET /_emulator/events stream; channelID and contact filter, "" for all):
// a line each, or with asJSON the events as NDJSON. It returns when ctx ends
// (an interrupted error) or the emulator goes away (an I/O error).
func Follow(ctx context.Context, io *ui.IOStreams, asJSON bool, base, channelID, contact string) error {
	base = strings.TrimRight(base, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/_emulator/events", nil)
	if err != nil {
		return fault.New(fault.Usage, err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := streamClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fault.New(fault.Interrupted, ctx.Err())
		}
		return fault.New(fault.IO, &emulator.UnreachableError{URL: base, Err: err})
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fault.New(fault.IO, fmt.Errorf("the emulator at %s answered HTTP %d to its event stream", base, resp.StatusCode))
	}
	st := io.Styles(io.Out)
	fmt.Fprintf(io.ErrOut, "following messages at %s (Ctrl-C to stop)\n", base)
	err = readEvents(resp.Body, func(ev emulator.Event) error {
		if !messageKinds[ev.Kind] || ev.Message == nil ||
			(channelID != "" && ev.ChannelID != channelID) || (contact != "" && ev.ContactID != contact) {
			return nil
		}
		if asJSON {
			return ui.WriteJSON(io.Out, ev)
		}
		line := st.Path.Render(ev.ContactID) + "  " + emulator.MessageLine(*ev.Message, st)
		if ev.Kind == emulator.EventStatusChanged {
			line += "  " + st.Dim.Render("(status)")
		}
		_, err := fmt.Fprintln(io.Out, ui.Wrap(line, io.Width(), 4))
		return err
	})
	switch {
	case ctx.Err() != nil:
		return fault.New(fault.Interrupted, ctx.Err())
	case err != nil && !errors.Is(err, errStreamEnded):
		return fault.New(fault.IO, err)
	}
	return fault.New(fault.IO, fmt.Errorf("the emulator at %s went away (its event stream ended); start it again and re-run --follow", base))
}

var errStreamEnded = errors.New("stream ended")

// readEvents calls fn with each SSE event's decoded data until r ends
// (errStreamEnded), a line is too long or fn fails.
func readEvents(r io.Reader, fn func(emulator.Event) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	var data strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data.Len() > 0 {
				var ev emulator.Event
				if json.Unmarshal([]byte(data.String()), &ev) == nil {
					if err := fn(ev); err != nil {
						return err
					}
				}
				data.Reset()
			}
		case strings.HasPrefix(line, "data:"):
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading the emulator's event stream: %w", err)
	}
	return errStreamEnded
}
