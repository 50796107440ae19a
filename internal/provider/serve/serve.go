// Package serve runs a provider emulator as a server (`ccx provider serve`):
// the provider's API at its real paths, plus a small control API under
// /_provider/ (the record, health, the failure knobs), and a stream of
// events for printers.
package serve

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/listen"
	"github.com/ccx-cli/ccx/internal/provider"
)

// ControlPrefix is where the control API lives; no provider uses it.
const ControlPrefix = "/_provider/"

// MaxBody bounds a request to the fake (Telegram uploads are ≤ 50 MB).
const MaxBody = 64 << 20

// Server serves an emulator's API and the control API:
//
//	GET  /_provider/health  {"ok":true,"provider":NAME}
//	GET  /_provider/sends   the record, oldest first (JSON array)
//	GET  /_provider/faults  the failure knobs; PUT/POST replaces them
//	POST /_provider/expire-token  expires the fake's access tokens (Zalo):
//	     the server's next call is refused until it refreshes
type Server struct {
	e   provider.Emulator
	api http.Handler

	mu     sync.Mutex
	faults provider.Faults
}

// New wraps e.
func New(e provider.Emulator) *Server { return &Server{e: e, api: e.Handler()} }

// SetFaults checks and sets the knobs.
func (s *Server) SetFaults(f provider.Faults) error {
	if err := CheckFaults(f); err != nil {
		return err
	}
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
	s.e.SetFaults(f)
	return nil
}

// Faults are the knobs last set.
func (s *Server) Faults() provider.Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, ControlPrefix) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		s.api.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fail := func(status int, msg string) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"message": msg}})
	}
	switch strings.TrimPrefix(r.URL.Path, ControlPrefix) {
	case "health":
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "provider": s.e.Name()})
	case "sends":
		sends := s.e.Sends()
		if sends == nil {
			sends = []provider.Send{}
		}
		_ = json.NewEncoder(w).Encode(sends)
	case "faults":
		switch r.Method {
		case http.MethodGet:
			_ = json.NewEncoder(w).Encode(faultsJSON(s.Faults()))
		case http.MethodPut, http.MethodPost:
			var in FaultsJSON
			body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
			if err := json.Unmarshal(body, &in); err != nil {
				fail(http.StatusBadRequest, "faults: "+err.Error())
				return
			}
			f, err := in.Faults()
			if err == nil {
				err = s.SetFaults(f)
			}
			if err != nil {
				fail(http.StatusBadRequest, err.Error())
				return
			}
			_ = json.NewEncoder(w).Encode(faultsJSON(f))
		default:
			fail(http.StatusMethodNotAllowed, "use GET, PUT or POST")
		}
	case "expire-token":
		te, ok := s.e.(TokenExpirer)
		switch {
		case !ok:
			fail(http.StatusNotFound, s.e.Name()+" has no expiring access tokens")
		case r.Method != http.MethodPost:
			fail(http.StatusMethodNotAllowed, "use POST")
		default:
			te.ExpireAccessToken()
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "expired": true})
		}
	default:
		fail(http.StatusNotFound, "unknown control endpoint; see /_provider/health, /_provider/sends, /_provider/faults")
	}
}

// TokenExpirer is an emulator whose access tokens expire (Zalo's OAuth).
type TokenExpirer interface {
	ExpireAccessToken()
}

// FaultsJSON is the control API's form of provider.Faults (durations as
// Go strings such as "2s").
type FaultsJSON struct {
	FailRate       float64  `json:"failRate"`
	Reject         []string `json:"reject"`
	RateLimit      int      `json:"rateLimit"`
	RetryAfter     string   `json:"retryAfter,omitempty"`
	BadCredentials bool     `json:"badCredentials"`
}

func faultsJSON(f provider.Faults) FaultsJSON {
	out := FaultsJSON{FailRate: f.FailRate, Reject: f.Reject, RateLimit: f.RateLimit, BadCredentials: f.BadCredentials}
	if out.Reject == nil {
		out.Reject = []string{}
	}
	if f.RetryAfter > 0 {
		out.RetryAfter = f.RetryAfter.String()
	}
	return out
}

// Faults checks and converts.
func (j FaultsJSON) Faults() (provider.Faults, error) {
	f := provider.Faults{FailRate: j.FailRate, Reject: j.Reject, RateLimit: j.RateLimit, BadCredentials: j.BadCredentials}
	if err := CheckFaults(f); err != nil {
		return f, err
	}
	if j.RetryAfter != "" {
		d, err := time.ParseDuration(j.RetryAfter)
		if err != nil || d < 0 {
			return f, fmt.Errorf("retryAfter %q is not a duration such as 2s", j.RetryAfter)
		}
		f.RetryAfter = d
	}
	return f, nil
}

// CheckFaults refuses knobs out of range.
func CheckFaults(f provider.Faults) error {
	switch {
	case f.FailRate < 0 || f.FailRate > 1:
		return fmt.Errorf("fail rate %v: use a share between 0 and 1, e.g. 0.2", f.FailRate)
	case f.RateLimit < 0:
		return fmt.Errorf("rate limit %d: use a number of calls ≥ 0", f.RateLimit)
	case f.RetryAfter < 0:
		return fmt.Errorf("retry-after %v must not be negative", f.RetryAfter)
	}
	return nil
}

// Event is one thing a printer shows: a recorded send, or one more answered
// status callback of a send.
type Event struct {
	Kind     string             `json:"event"` // "send" | "callback"
	Send     provider.Send      `json:"send"`
	Callback *provider.Callback `json:"callback,omitempty"`
}

// Watch turns the emulator's notifications into events: the first for a
// Seq is its send, each later one its newest callback.
func Watch(e provider.Emulator, fn func(Event)) (cancel func()) {
	seen := map[int]int{} // Seq → callbacks already reported
	return e.Subscribe(func(s provider.Send) {
		n, known := seen[s.Seq]
		if !known {
			seen[s.Seq] = len(s.Callbacks)
			fn(Event{Kind: "send", Send: s})
			for i := range s.Callbacks {
				c := s.Callbacks[i]
				fn(Event{Kind: "callback", Send: s, Callback: &c})
			}
			return
		}
		for i := n; i < len(s.Callbacks); i++ {
			c := s.Callbacks[i]
			fn(Event{Kind: "callback", Send: s, Callback: &c})
		}
		seen[s.Seq] = len(s.Callbacks)
		if len(seen) > 20000 { // long runs: forget the oldest half
			for k := range seen {
				if k < s.Seq-10000 {
					delete(seen, k)
				}
			}
		}
	})
}

// Serve runs on ln until ctx ends, then stops the emulator's callbacks
// and shuts down gracefully (in-flight calls finish within grace).
func (s *Server) Serve(ctx context.Context, ln net.Listener, grace time.Duration) error {
	err := listen.Serve(ctx, listen.NewServer(s, 0), ln, grace)
	s.e.Close()
	return err
}
