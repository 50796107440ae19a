package listen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/ui"
)

// RunOptions are what `ccx listen` serves with: the handler's options
// (OnRequest and OnCall are set here), the address and the outputs.
type RunOptions struct {
	Handler    Options
	Host, Path string
	Port       int
	Grace      time.Duration // shutdown grace
	Record     string
	IO         *ui.IOStreams
	JSON       bool
	Ready      func(base string) // tests: called once listening
	Received   func()            // tests: called when a call has been read
}

// Run serves until ctx ends: every call printed (pretty on a terminal, else
// NDJSON) and recorded, a banner and the final counts on stderr. Its errors
// are all I/O: the record file, the address, the server.
func Run(ctx context.Context, o RunOptions) error {
	io := o.IO
	stats := &Stats{}
	sinks := []func(Call){stats.Add}
	var onRequest func(Call)
	if o.JSON || !io.IsStdoutTTY() {
		jp := NewJSONPrinter(io.Out)
		sinks = append(sinks, func(c Call) { _ = jp.Print(c) })
	} else {
		pp := NewPrettyPrinter(io.Out, io.Styles(io.Out))
		pp.Width = io.Width()
		onRequest = pp.Request
		sinks = append(sinks, pp.Reply)
	}
	if o.Record != "" {
		rec, err := OpenRecorder(o.Record, io.ErrOut)
		if err != nil {
			return fmt.Errorf("--record: %v", err)
		}
		defer rec.Close()
		sinks = append(sinks, func(c Call) { _ = rec.Print(c) })
	}
	if o.Received != nil {
		pr := onRequest
		onRequest = func(c Call) {
			if pr != nil {
				pr(c)
			}
			o.Received()
		}
	}
	ho := o.Handler
	ho.OnRequest = onRequest
	ho.OnCall = func(c Call) {
		for _, s := range sinks {
			s(c)
		}
	}
	h := NewHandler(ho)
	addr := net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("cannot listen on %s: %v (another ccx listen or your server running? pick another --port, or 0 for a free one)", addr, err)
		}
		return fmt.Errorf("cannot listen on %s: %v", addr, err)
	}
	base := "http://" + ln.Addr().String()
	if ip := net.ParseIP(o.Host); o.Host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(io.ErrOut, "warning: listening on %s, not loopback: anyone who can reach this address and knows the token can call it\n", o.Host)
	}
	st := io.Styles(io.ErrOut)
	fmt.Fprintf(io.ErrOut, "%s %s%s (token %s", st.OK.Render("listening on"), base, o.Path, ui.Redact(ho.Token))
	if ho.ChannelID != "" {
		fmt.Fprintf(io.ErrOut, ", channel %s", ho.ChannelID)
	}
	fmt.Fprintln(io.ErrOut, ")")
	if ho.ForwardTo != "" {
		fmt.Fprintf(io.ErrOut, "forwarding every call to %s\n", ho.ForwardTo)
	}
	if o.Path == channel.MessagePath {
		fmt.Fprintf(io.ErrOut, "API base URL for the platform or ccx trigger: %s   (Ctrl-C to stop)\n", base)
	}
	if o.Ready != nil {
		o.Ready(base)
	}
	wait := ho.Reply.Latency
	if ho.ForwardTo != "" {
		wait = max(wait, ho.ForwardTimeout)
	}
	srv := NewServer(NewMux(o.Path, h), wait)
	err = Serve(ctx, srv, ln, o.Grace)
	fmt.Fprintf(io.ErrOut, "stopped: %s\n", stats.Summary())
	if err != nil {
		return fmt.Errorf("server: %v", err)
	}
	return nil
}
