package remote

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/emulator"
)

// Waiter bounds the waits for a starting emulator or server.
type Waiter struct {
	Max  time.Duration // how long to wait at most
	Log  io.Writer     // where "waiting…" goes
	Hook func()        // when set (tests), runs after each failed poll
}

// ForLocal waits until the 'local' profile exists in the config file at
// path and its emulator answers /_emulator/health, or Max has passed. It
// says so when it has to wait and reports whether it did (the caller then
// rereads the profile); giving up is not an error.
func (w Waiter) ForLocal(ctx context.Context, path string) (waited bool) {
	deadline := time.Now().Add(w.Max)
	hc := &http.Client{Timeout: 500 * time.Millisecond}
	for {
		ready, why := localReady(ctx, hc, path)
		if ready {
			if waited {
				fmt.Fprintln(w.Log, "ccx emulate is up")
			}
			return waited
		}
		if !waited {
			fmt.Fprintf(w.Log, "waiting up to %v for `ccx emulate` (%s)…\n", w.Max, why)
			waited = true
		}
		if w.Hook != nil {
			w.Hook()
		}
		if time.Now().After(deadline) {
			fmt.Fprintf(w.Log, "gave up waiting after %v: %s; start `ccx emulate` first\n", w.Max, why)
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// localReady reports whether the 'local' profile is there and, when it
// points at an emulator, that the emulator answers; else why not.
func localReady(ctx context.Context, hc *http.Client, path string) (bool, string) {
	file, err := config.Load(path)
	if err != nil {
		return false, err.Error()
	}
	p, ok := file.Profiles[config.LocalProfile]
	if !ok || p.APIToken == "" {
		return false, "no 'local' profile yet in " + path
	}
	u, err := url.Parse(p.WebhookURL)
	if err != nil || u.Host == "" || !strings.HasSuffix(u.Path, strings.TrimSuffix(emulator.WebhookPath, "/")+"/") {
		return true, "" // not an emulator's profile: nothing to wait for
	}
	health := u.Scheme + "://" + u.Host + emulator.APIPrefix + "health"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, health, nil)
	if err != nil {
		return true, ""
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, "no answer from " + health
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Sprintf("%s answered %d", health, resp.StatusCode)
	}
	return true, ""
}

// ForServer waits (up to Max) until something accepts connections at base,
// when base is on this machine: a server started a moment ago with `&` is
// given the time to bind. A server elsewhere is never waited for.
func (w Waiter) ForServer(ctx context.Context, base string) {
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443"}[u.Scheme]
		if port == "" {
			port = "80"
		}
	}
	addr := net.JoinHostPort(host, port)
	deadline := time.Now().Add(w.Max)
	said := false
	for {
		d := net.Dialer{Timeout: 300 * time.Millisecond}
		if c, err := d.DialContext(ctx, "tcp", addr); err == nil {
			c.Close()
			return
		}
		if !said {
			fmt.Fprintf(w.Log, "waiting up to %v for your server at %s…\n", w.Max, base)
			said = true
		}
		if w.Hook != nil {
			w.Hook()
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
	}
}
