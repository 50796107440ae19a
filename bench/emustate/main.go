// Command emustate writes a deterministic `ccx emulate --state` file for
// bench/emulate-scale.sh: -messages messages over -contacts contacts of one
// channel (contact i%contacts writes message i), two in three incoming
// texts, one in three an outgoing reply with its /message answer and a
// sent → delivered → read timeline, the way a busy inbox looks.
//
//	go run ./bench/emustate -messages 1000000 -contacts 10000 -channel benchchannel01 -o state.json
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/verdict"
)

func main() {
	n := flag.Int("messages", 1000000, "messages")
	contacts := flag.Int("contacts", 10000, "contacts")
	ch := flag.String("channel", "benchchannel01", "channel ID")
	out := flag.String("o", "state.json", "output file")
	flag.Parse()
	if err := write(*out, *ch, *n, *contacts); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
}

// ContactID is the ID of contact i.
func contactID(i int) string { return fmt.Sprintf("+6017%07d", i) }

func write(path, ch string, n, contacts int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	item := func(first bool, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if !first {
			w.WriteString(",\n")
		}
		w.WriteString("    ")
		_, err = w.Write(b)
		return err
	}
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	fmt.Fprintf(w, "{\n  \"version\": %d,\n  \"seq\": %d,\n  \"contacts\": [\n", emulator.StateVersion, n)
	for i := 0; i < contacts; i++ {
		c := emulator.Contact{ChannelID: ch, ID: contactID(i), Profile: &channel.Contact{FirstName: "Bench", LastName: fmt.Sprint(i)},
			CreatedAt: t0, LastActivity: t0.Add(time.Duration(n-contacts+i) * time.Millisecond)}
		if err := item(i == 0, c); err != nil {
			return err
		}
	}
	w.WriteString("\n  ],\n  \"messages\": [\n")
	for i := 0; i < n; i++ {
		seq := int64(i + 1)
		ts := t0.UnixMilli() + seq
		m := emulator.Message{Seq: seq, ChannelID: ch, ContactID: contactID(i % contacts), MID: fmt.Sprintf("bench-%d", seq),
			Type: channel.MessageText, Timestamp: ts}
		if i%3 == 2 {
			m.Direction, m.Origin, m.Status = emulator.Out, emulator.OriginPlatform, channel.StatusRead
			m.Content = channel.Text(fmt.Sprintf("Thanks, order %d is on its way", i))
			m.Reply = &emulator.ReplyInfo{URL: "http://127.0.0.1:3030/message", Verdict: verdict.OK, HTTPStatus: 200,
				Body: fmt.Sprintf(`{"mId":"bench-%d"}`, seq), LatencyMS: 1.2}
			m.Timeline = []emulator.StatusChange{{Status: channel.StatusSent, Timestamp: ts, Applied: true},
				{Status: channel.StatusDelivered, Timestamp: ts + 300, Applied: true}, {Status: channel.StatusRead, Timestamp: ts + 2000, Applied: true}}
		} else {
			m.Direction, m.Origin, m.Status = emulator.In, emulator.OriginContact, emulator.StatusReceived
			m.Content = channel.Text(fmt.Sprintf("Hello, where is my order %d?", i))
			m.Timeline = []emulator.StatusChange{{Status: m.Status, Timestamp: ts, Applied: true}}
		}
		if err := item(i == 0, m); err != nil {
			return err
		}
	}
	w.WriteString("\n  ],\n  \"warnings\": []\n}\n")
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}
