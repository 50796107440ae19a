package cli

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/spf13/cobra"
)

// LocalWait bounds how long a command given --local waits for `ccx emulate`
// (started a moment ago with `&`) to write the 'local' profile and answer
// its health check: long enough for a pasted block, short enough never to
// look like a hang.
var LocalWait = 5 * time.Second

// waitHook, when set (tests), runs after each failed poll of a wait.
var waitHook func()

// waitForLocal waits, once, until the 'local' profile exists and its
// emulator answers /_emulator/health, or LocalWait has passed. It says so on
// stderr when it has to wait; giving up is not an error: the command then
// fails the way it would have (no profile, connection refused).
func (f *Factory) waitForLocal(ctx context.Context) {
	f.localOnce.Do(func() {
		path, err := config.DefaultPath(f.IO.Getenv)
		if err != nil {
			return
		}
		deadline := time.Now().Add(LocalWait)
		hc := &http.Client{Timeout: 500 * time.Millisecond}
		said := false
		for {
			ready, why := localReady(ctx, hc, path)
			if ready {
				if said {
					fmt.Fprintln(f.IO.ErrOut, "ccx emulate is up")
					f.resetConfig() // read the profile it wrote
				}
				return
			}
			if !said {
				fmt.Fprintf(f.IO.ErrOut, "waiting up to %v for `ccx emulate` (%s)…\n", LocalWait, why)
				said = true
			}
			if waitHook != nil {
				waitHook()
			}
			if time.Now().After(deadline) {
				fmt.Fprintf(f.IO.ErrOut, "gave up waiting after %v: %s; start `ccx emulate` first\n", LocalWait, why)
				f.resetConfig()
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

// localReady reports whether the 'local' profile is there and, when it
// points at an emulator, that the emulator answers; else why not.
func localReady(ctx context.Context, hc *http.Client, path string) (bool, string) {
	file, err := config.Load(path)
	if err != nil {
		return false, err.Error()
	}
	p, ok := file.Profiles[LocalProfile]
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

// waitForServer waits (up to LocalWait) until something accepts
// connections at base, when base is on this machine: a server started a
// moment ago with `&` is given the time to bind. It says so on stderr when
// it has to wait; a server elsewhere is never waited for.
func (f *Factory) waitForServer(ctx context.Context, base string) {
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
	deadline := time.Now().Add(LocalWait)
	said := false
	for {
		d := net.Dialer{Timeout: 300 * time.Millisecond}
		if c, err := d.DialContext(ctx, "tcp", addr); err == nil {
			c.Close()
			return
		}
		if !said {
			fmt.Fprintf(f.IO.ErrOut, "waiting up to %v for your server at %s…\n", LocalWait, base)
			said = true
		}
		if waitHook != nil {
			waitHook()
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

// localWaitAnnotation marks the commands that talk to (or through) the
// emulator, so that --local makes them wait for it.
const localWaitAnnotation = "ccx/local-wait"

// waitsForLocal reports whether cmd or a parent is marked.
func waitsForLocal(cmd *cobra.Command) bool {
	for c := cmd; c != nil; c = c.Parent() {
		if c.Annotations[localWaitAnnotation] == "true" {
			return true
		}
	}
	return false
}

func markWaitsForLocal(cmds ...*cobra.Command) {
	for _, c := range cmds {
		if c.Annotations == nil {
			c.Annotations = map[string]string{}
		}
		c.Annotations[localWaitAnnotation] = "true"
	}
}

// resetConfig forgets a config file loaded before the emulator wrote it.
func (f *Factory) resetConfig() {
	f.configOnce = sync.Once{}
	f.configFile, f.configErr = nil, nil
}
