// Package ctxio makes blocking reads and opens give up when a context ends:
// a pipe that never writes or a FIFO that never gets a writer must not
// outlive Ctrl-C.
package ctxio

import (
	"context"
	"io"
	"os"
)

// Reader returns r wrapped so that Read returns ctx.Err() as soon as ctx is
// done, even while the underlying Read is blocked. The blocked Read stays
// behind in its goroutine (reading into a private buffer, so the caller's
// is never written late); a CLI exits right after, so that is fine.
// Regular files never block for long and are returned as they are.
func Reader(ctx context.Context, r io.Reader) io.Reader {
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			return r
		}
	}
	return &reader{ctx: ctx, r: r, res: make(chan result, 1)}
}

type result struct {
	n   int
	err error
}

type reader struct {
	ctx     context.Context
	r       io.Reader
	buf     []byte
	res     chan result
	pending bool // a Read is running in the background into buf
}

func (c *reader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !c.pending {
		if cap(c.buf) < len(p) {
			c.buf = make([]byte, len(p))
		}
		buf := c.buf[:len(p)]
		c.pending = true
		go func() {
			n, err := c.r.Read(buf)
			c.res <- result{n, err}
		}()
	}
	select {
	case res := <-c.res:
		c.pending = false
		// p is at least as long as the buffer read into: a pending Read is
		// only left behind when ctx ends, and then Read never gets here again.
		return copy(p, c.buf[:res.n]), res.err
	case <-c.ctx.Done():
		return 0, c.ctx.Err()
	}
}

// Open opens path for reading like os.Open, but returns ctx.Err() when ctx
// ends first: opening a FIFO waits for a writer. A file opened after ctx
// ended is closed.
func Open(ctx context.Context, path string) (*os.File, error) {
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		return os.Open(path)
	}
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.Open(path)
		ch <- opened{f, err}
	}()
	select {
	case o := <-ch:
		return o.f, o.err
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, ctx.Err()
	}
}
