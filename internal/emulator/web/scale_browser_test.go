package web_test

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/listen"
)

// seedBig restarts the fixture's emulator on a state file with others
// contacts of one incoming message each, then the contact "+60111111111"
// with n messages "old 000"... (the most recently active).
func seedBig(t *testing.T, f *fixture, others, n int) {
	t.Helper()
	if err := f.e.Close(); err != nil {
		t.Fatal(err)
	}
	st := emulator.State{Version: emulator.StateVersion}
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	add := func(contact, text string) {
		st.Seq++
		st.Messages = append(st.Messages, emulator.Message{Seq: st.Seq, ChannelID: f.ch.ID, ContactID: contact, MID: fmt.Sprintf("m%d", st.Seq),
			Direction: emulator.In, Origin: emulator.OriginContact, Type: channel.MessageText, Content: channel.Text(text),
			Timestamp: at.UnixMilli() + st.Seq, Status: emulator.StatusReceived})
	}
	for i := 0; i < others; i++ {
		c := fmt.Sprintf("+6012%07d", i)
		st.Contacts = append(st.Contacts, emulator.Contact{ChannelID: f.ch.ID, ID: c, CreatedAt: at, LastActivity: at.Add(time.Duration(i) * time.Second)})
		add(c, "hello from "+c)
	}
	st.Contacts = append(st.Contacts, emulator.Contact{ChannelID: f.ch.ID, ID: "+60111111111", CreatedAt: at, LastActivity: at.Add(time.Hour)})
	for i := 0; i < n; i++ {
		add("+60111111111", fmt.Sprintf("old %03d", i))
	}
	data, _ := json.Marshal(st)
	if err := os.WriteFile(f.state, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f.e = f.newEmulator(t)
}

// A big inbox loads a page at a time: the newest 50 messages of the open
// conversation, older ones as it is scrolled to the top (no gap, no
// repeat, in order), and more contacts as the list is scrolled down.
func TestBrowserLoadsOlderOnScroll(t *testing.T) {
	f := newFixture(t, listen.ReplyPolicy{})
	seedBig(t, f, 120, 180)
	ctx := newTab(t)
	open(t, ctx, f)
	const shown = `[...document.querySelectorAll('#messages li[data-seq]')].map(li => li.querySelector('.text').textContent)`
	run(t, ctx, "the newest page", waitJS(shown+`.length === 50`))
	first := eval[[]string](t, ctx, shown)
	if first[0] != "old 130" || first[49] != "old 179" {
		t.Fatalf("first page shows %s … %s, want old 130 … old 179", first[0], first[49])
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('#contact-list li').length`); n != 100 {
		t.Fatalf("%d contacts listed at first, want a page of 100", n)
	}
	for _, want := range []int{100, 150, 180} {
		run(t, ctx, fmt.Sprintf("scroll up to %d messages", want),
			chromedp.Evaluate[chromedp.Void](`document.querySelector('#messages').scrollTop = 0`),
			waitJS(shown+`.length === `+fmt.Sprint(want)))
		// What was on screen stays there: the view did not jump to the top.
		if top := eval[float64](t, ctx, `document.querySelector('#messages').scrollTop`); top <= 0 {
			t.Fatalf("after loading older messages the view is at the top (scrollTop %v)", top)
		}
	}
	all := eval[[]string](t, ctx, shown)
	for i, s := range all {
		if s != fmt.Sprintf("old %03d", i) {
			t.Fatalf("message %d reads %q after scrolling (gap, repeat or order)", i, s)
		}
	}
	if eval[bool](t, ctx, `!!document.querySelector('#load-older')`) {
		t.Fatal("the load-older row is still shown with every message loaded")
	}
	run(t, ctx, "more contacts on scrolling the list",
		chromedp.Evaluate[chromedp.Void](`(p => p.scrollTop = p.scrollHeight)(document.querySelector('#contacts'))`),
		waitJS(`document.querySelectorAll('#contact-list li').length === 121`))
	// Unread counts come from the server's summary, not from loaded messages.
	run(t, ctx, "unread of an unopened contact",
		waitJS(`(() => { const b = document.querySelector('#contact-list button[data-key$="+60120000005"] .unread'); return b && b.textContent === '1'; })()`))
	// A live message still lands at the bottom of the open conversation.
	f.post(t, "+60111111111", nil, channel.NewEvent(channel.EventMessage, channel.Text("newest")))
	run(t, ctx, "live message after paging", waitJS(shown+`.at(-1) === 'newest' && `+shown+`.length === 181`))
}
