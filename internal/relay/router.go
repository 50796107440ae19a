package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/ccx-cli/ccx/internal/listen"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Router is one relay serving many channels: an engine per channel, each with
// its own queue, adapter, token and platform client, behind one listener.
// A request reaches only the engine its path names, so a channel's token is
// checked by that channel alone.
type Router struct {
	engs []*Engine
	reg  *prometheus.Registry
}

// NewRouter opens an engine per channel (New, with Scoped routes and one
// shared registry); on an error it closes those it opened.
func NewRouter(chans []Options) (*Router, error) {
	if len(chans) == 0 {
		return nil, errors.New("relay: no channels")
	}
	rt := &Router{reg: NewRegistry()}
	seen := map[string]bool{}
	for _, o := range chans {
		if seen[o.ChannelID] {
			rt.Close()
			return nil, fmt.Errorf("relay: channel %q twice", o.ChannelID)
		}
		seen[o.ChannelID] = true
		o.Scoped, o.Registry = true, rt.reg
		e, err := New(o)
		if err != nil {
			rt.Close()
			return nil, fmt.Errorf("channel %s: %w", o.ChannelID, err)
		}
		rt.engs = append(rt.engs, e)
	}
	return rt, nil
}

// Engines are the router's engines, in the order of their options.
func (rt *Router) Engines() []*Engine { return rt.engs }

// Start starts every engine's delivery.
func (rt *Router) Start() error {
	for _, e := range rt.engs {
		if err := e.Start(); err != nil {
			return fmt.Errorf("channel %s: %w", e.o.ChannelID, err)
		}
	}
	return nil
}

// Drain gives every engine's pending deliveries until ctx ends, in parallel.
func (rt *Router) Drain(ctx context.Context) {
	var wg sync.WaitGroup
	for _, e := range rt.engs {
		wg.Add(1)
		go func() { defer wg.Done(); e.Drain(ctx) }()
	}
	wg.Wait()
}

// Close stops and closes every engine; it returns the first error.
func (rt *Router) Close() error {
	var first error
	for _, e := range rt.engs {
		if err := e.Close(); err != nil && first == nil {
			first = fmt.Errorf("channel %s: %w", e.o.ChannelID, err)
		}
	}
	return first
}

// Handler serves every channel's routes, /healthz, and a 404 that names the
// routes for a path no channel owns.
func (rt *Router) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, e := range rt.engs {
		e.mount(mux)
	}
	mux.HandleFunc("/healthz", serveHealth)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		msg := fmt.Sprintf("no route %s: this relay serves %d channels at POST /<channel-id>/message, POST /providers/<channel-id>/<provider>/..., GET /media/<channel-id>/..., GET /healthz",
			r.URL.Path, len(rt.engs))
		if r.URL.Path == "/message" {
			msg += "; each channel's API base URL ends in its channel ID"
		}
		listen.WriteError(w, http.StatusNotFound, msg)
	})
	return mux
}

// AdminHandler serves the shared /metrics (every series labelled with its
// channel), /admin/status (totals and each channel's queue) and /healthz.
func (rt *Router) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(rt.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/admin/status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(rt.Stats().Redacted())
	})
	mux.HandleFunc("/healthz", serveHealth)
	return readOnly(mux)
}

// Stats are the totals of every channel's queue and each one's state.
func (rt *Router) Stats() MultiStats {
	var chans []ChannelStats
	for _, e := range rt.engs {
		chans = append(chans, ChannelStats{Channel: e.o.ChannelID, Stats: e.Stats()})
	}
	return Combine(chans)
}

// ChannelStats is one channel's queue state.
type ChannelStats struct {
	Channel string `json:"channel"`
	Stats
}

// MultiStats is a many-channel relay's state: the totals (so a reader of a
// single channel's status reads them too) and each channel's.
type MultiStats struct {
	Stats
	Channels []ChannelStats `json:"channels,omitempty"`
}

// Combine adds the channels' counts up; the oldest event is the oldest of
// all. The totals' path is the channels' common directory, if any.
func Combine(chans []ChannelStats) MultiStats {
	sort.Slice(chans, func(i, j int) bool { return chans[i].Channel < chans[j].Channel })
	m := MultiStats{Channels: chans}
	t := &m.Stats
	for i, c := range chans {
		s := c.Stats
		t.Depth += s.Depth
		t.Bytes += s.Bytes
		t.MaxEntries += s.MaxEntries
		t.MaxBytes += s.MaxBytes
		t.Dead += s.Dead
		t.Bad += s.Bad
		t.InFlight += s.InFlight
		t.Redelivered += s.Redelivered
		t.DedupeKeys += s.DedupeKeys
		t.SentMIDs += s.SentMIDs
		t.Delivered += s.Delivered
		if s.Oldest != nil && (t.Oldest == nil || s.OldestAgeMS > t.OldestAgeMS) {
			t.Oldest, t.OldestAgeMS = s.Oldest, s.OldestAgeMS
		}
		dir := s.Path[:strings.LastIndexByte(s.Path, '/')+1]
		if i == 0 {
			t.Path = dir
		} else if t.Path != dir {
			t.Path = ""
		}
	}
	return m
}

// Redacted redacts the totals' and every channel's contact ids.
func (m MultiStats) Redacted() MultiStats {
	m.Stats = m.Stats.Redacted()
	chans := make([]ChannelStats, len(m.Channels))
	for i, c := range m.Channels {
		chans[i] = ChannelStats{Channel: c.Channel, Stats: c.Stats.Redacted()}
	}
	if m.Channels != nil {
		m.Channels = chans
	}
	return m
}

// CheckRouteID accepts a channel ID that can be a path segment and a file
// name as it is: letters, digits, '.', '_', '-' and '~', at most 128, not
// starting with a dot.
func CheckRouteID(id string) error {
	if id == "" || len(id) > 128 || id[0] == '.' {
		return fmt.Errorf("channel ID %q: use 1-128 letters, digits, '.', '_', '-' or '~', not starting with '.'", id)
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-~", c)
		if !ok {
			return fmt.Errorf("channel ID %q: %q cannot be in a path segment or file name as it is; use letters, digits, '.', '_', '-' or '~'", id, c)
		}
	}
	return nil
}
