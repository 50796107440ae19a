package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ccx-cli/ccx/internal/listen"
)

// In a big inbox the list loads 100 contacts at a time: a link to a
// contact further down, and a search for one, still find it.
func TestBrowserLinkAndSearchBeyondTheFirstPage(t *testing.T) {
	f := newFixture(t, listen.ReplyPolicy{})
	seedBig(t, f, 150, 3) // +60120000000 is the least recently active: on the second page
	ctx := newTab(t)
	run(t, ctx, "link to a contact on the second page", chromedp.Navigate(f.e.URL()+"/#/contacts/%2B60120000000"),
		chromedp.WaitVisible(`#conn[data-state="live"]`),
		waitJS(`document.querySelector('#conv-title').textContent === '+60120000000' &&
			[...document.querySelectorAll('#messages .text')].some(p => p.textContent === 'hello from +60120000000')`))
	ctx2 := newTab(t)
	open(t, ctx2, f)
	const shownContacts = `[...document.querySelectorAll('#contact-list button')].map(b => b.querySelector('.contact-name').textContent).join(',')`
	if n := eval[int](t, ctx2, `document.querySelectorAll('#contact-list button').length`); n != 100 {
		t.Fatalf("first page shows %d contacts, want 100", n)
	}
	run(t, ctx2, "search a contact not loaded yet", setField(`#contact-search`, "+60120000001"),
		waitJS(shownContacts+` === '+60120000001'`))
}
