package emulator

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Cursors are opaque to clients: a message cursor is a seq, a contact
// cursor the (last activity, channel, contact) of the last contact shown.

// ErrBadCursor is a `before` cursor this emulator did not hand out.
var ErrBadCursor = errors.New("bad cursor: pass the `next` value of the previous page")

func seqCursor(seq int64) string { return strconv.FormatInt(seq, 10) }

func parseSeqCursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, ErrBadCursor
	}
	return n, nil
}

type contactCursor struct {
	set bool
	at  time.Time
	key contactKey
}

func (c contactCursor) String() string {
	raw := strconv.FormatInt(c.at.UnixNano(), 10) + "\x00" + c.key.channel + "\x00" + c.key.id
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

func parseContactCursor(s string) (contactCursor, error) {
	if s == "" {
		return contactCursor{}, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return contactCursor{}, ErrBadCursor
	}
	parts := strings.SplitN(string(raw), "\x00", 3)
	if len(parts) != 3 {
		return contactCursor{}, ErrBadCursor
	}
	ns, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil {
		return contactCursor{}, ErrBadCursor
	}
	return contactCursor{set: true, at: time.Unix(0, ns).UTC(), key: contactKey{parts[1], parts[2]}}, nil
}
