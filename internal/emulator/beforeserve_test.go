package emulator

import (
	"errors"
	"net"
	"net/http"
	"testing"
	"time"
)

// BeforeServe runs with the final URL known and before any request is
// answered; its error stops the start and frees the port.
func TestBeforeServe(t *testing.T) {
	var seenURL string
	var answeredBefore bool
	e, err := New(Options{BeforeServe: func(e *Emulator) error {
		seenURL = e.URL()
		c := http.Client{Timeout: 200 * time.Millisecond}
		if resp, err := c.Get(e.URL() + APIPrefix + "health"); err == nil {
			resp.Body.Close()
			answeredBefore = true
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if seenURL == "" || seenURL != e.URL() {
		t.Errorf("BeforeServe saw URL %q, emulator has %q", seenURL, e.URL())
	}
	if answeredBefore {
		t.Error("a request was answered before BeforeServe returned")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	boom := errors.New("boom")
	if _, err := New(Options{Listener: ln, BeforeServe: func(*Emulator) error { return boom }}); !errors.Is(err, boom) {
		t.Fatalf("New = %v, want the BeforeServe error", err)
	}
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("port not released after a failed start: %v", err)
	}
	ln2.Close()
}

// Wrap sees every request before the emulator and can answer it instead.
func TestWrap(t *testing.T) {
	var seen []string
	e, err := New(Options{Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen = append(seen, r.URL.Path)
			if r.URL.Path == "/wrapped" {
				w.WriteHeader(http.StatusTeapot)
				return
			}
			next.ServeHTTP(w, r)
		})
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for path, want := range map[string]int{"/wrapped": http.StatusTeapot, APIPrefix + "health": http.StatusOK} {
		resp, err := http.Get(e.URL() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
	if len(seen) != 2 {
		t.Errorf("the wrapper saw %v, want both requests", seen)
	}
}
