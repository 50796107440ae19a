package netguard

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestBlocked(t *testing.T) {
	for _, s := range []string{
		"127.0.0.1", "127.8.9.10", "::1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
		"169.254.169.254", "169.254.0.1", "100.64.0.1", "100.127.255.254", "0.0.0.0", "0.1.2.3", "::",
		"224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1", "192.0.0.192", "198.18.0.1",
		"fc00::1", "fd00:ec2::254", "fe80::1", "fe80::1%eth0", "ff02::1", "ff05::2", "fec0::1",
		"::ffff:127.0.0.1", "::ffff:169.254.169.254", "::ffff:10.0.0.1", "::127.0.0.1",
		"64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", "2002:7f00:1::", "2002:a9fe:a9fe::1", "2001:db8::1",
	} {
		if !Blocked(netip.MustParseAddr(s)) {
			t.Errorf("%s is not blocked", s)
		}
	}
	for _, s := range []string{"93.184.216.34", "8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700::1111",
		"::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1"} {
		if Blocked(netip.MustParseAddr(s)) {
			t.Errorf("%s is blocked", s)
		}
	}
	if !Blocked(netip.Addr{}) {
		t.Error("the zero address is not blocked")
	}
}

// counting is a loopback server that counts the requests it saw.
func counting(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func ok(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, body) }
}

func mustFail(t *testing.T, what string, resp *http.Response, err error) {
	t.Helper()
	if err == nil {
		resp.Body.Close()
		t.Fatalf("%s: fetched", what)
	}
	if !errors.Is(err, ErrFetch) || err.Error() != "media could not be fetched" {
		t.Fatalf("%s: error %q, want the generic text", what, err)
	}
}

func read(t *testing.T, resp *http.Response, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLoopbackRefusedUnlessAllowed(t *testing.T) {
	srv, hits := counting(t, ok("internal"))
	resp, err := New(Options{}).Get(t.Context(), srv.URL+"/metrics")
	mustFail(t, "loopback", resp, err)
	// localhost resolves to loopback: refused too.
	resp, err = New(Options{}).Get(t.Context(), strings.Replace(srv.URL, "127.0.0.1", "localhost", 1))
	mustFail(t, "localhost", resp, err)
	if hits.Load() != 0 {
		t.Fatalf("the loopback server saw %d requests", hits.Load())
	}
	if got := get(t, New(Options{AllowPrivate: true}), srv.URL); got != "internal" {
		t.Fatalf("AllowPrivate: %q", got)
	}
}

// get fetches u with c and returns the body.
func get(t *testing.T, c *Client, u string) string {
	t.Helper()
	resp, err := c.Get(t.Context(), u)
	return read(t, resp, err)
}

func TestTrustedHostExempt(t *testing.T) {
	api, _ := counting(t, ok("api"))
	other, otherHits := counting(t, ok("other"))
	c := New(Options{Trusted: []string{HostPort(api.URL)}})
	resp, err := c.Get(t.Context(), api.URL+"/file")
	if got := read(t, resp, err); got != "api" {
		t.Fatalf("trusted: %q", got)
	}
	resp, err = c.Get(t.Context(), other.URL)
	mustFail(t, "another loopback port", resp, err)
	if otherHits.Load() != 0 {
		t.Fatal("the untrusted server was reached")
	}
}

// fakeNet resolves names to the given addresses and connects any public
// address to target (the test's loopback server), recording what it dialled:
// the test never leaves 127.0.0.1.
func fakeNet(t *testing.T, names map[string]string, target string, dialled *[]string) Options {
	return Options{
		lookup: func(_ context.Context, host string) ([]netip.Addr, error) {
			if ip, err := netip.ParseAddr(host); err == nil {
				return []netip.Addr{ip}, nil
			}
			a, ok := names[host]
			if !ok {
				return nil, errors.New("no such host")
			}
			return []netip.Addr{netip.MustParseAddr(a)}, nil
		},
		connect: func(ctx context.Context, network, addr string) (net.Conn, error) {
			*dialled = append(*dialled, addr)
			var d net.Dialer
			return d.DialContext(ctx, network, strings.TrimPrefix(target, "http://"))
		},
	}
}

func TestResolvedAddressChecked(t *testing.T) {
	srv, _ := counting(t, ok("public"))
	var dialled []string
	o := fakeNet(t, map[string]string{"cdn.test": "93.184.216.34", "metadata.test": "169.254.169.254", "rebind.test": "10.0.0.7"}, srv.URL, &dialled)
	c := New(o)
	if got := get(t, c, "http://cdn.test/a.pdf"); got != "public" {
		t.Fatalf("public name: %q", got)
	}
	for _, u := range []string{"http://metadata.test/latest/meta-data/", "http://rebind.test:8080/", "http://169.254.169.254/", "http://[::ffff:127.0.0.1]:9/"} {
		resp, err := c.Get(t.Context(), u)
		mustFail(t, u, resp, err)
	}
	if len(dialled) != 1 || dialled[0] != "93.184.216.34:80" {
		t.Fatalf("dialled %q, want only the public address", dialled)
	}
}

func TestRedirectsRechecked(t *testing.T) {
	internal, internalHits := counting(t, ok("secret"))
	hops := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-internal":
			http.Redirect(w, r, internal.URL+"/admin/status", http.StatusFound)
		case "/to-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		case "/loop":
			hops++
			http.Redirect(w, r, "http://cdn.test/loop", http.StatusFound)
		case "/once":
			http.Redirect(w, r, "http://cdn.test/final", http.StatusMovedPermanently)
		default:
			_, _ = io.WriteString(w, "final")
		}
	}))
	defer srv.Close()
	var dialled []string
	c := New(fakeNet(t, map[string]string{"cdn.test": "93.184.216.34"}, srv.URL, &dialled))
	if got := get(t, c, "http://cdn.test/once"); got != "final" {
		t.Fatalf("a public redirect: %q", got)
	}
	for _, p := range []string{"/to-internal", "/to-file", "/loop"} {
		resp, err := c.Get(t.Context(), "http://cdn.test"+p)
		mustFail(t, p, resp, err)
	}
	if internalHits.Load() != 0 {
		t.Fatal("a redirect reached the loopback server")
	}
	if hops != DefaultMaxRedirects+1 {
		t.Fatalf("%d hops of the redirect loop, want %d", hops, DefaultMaxRedirects+1)
	}
}

func TestSchemesAndOneErrorText(t *testing.T) {
	c := New(Options{AllowPrivate: true})
	for _, u := range []string{"file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1:70/", "http:///nohost", "::not a url"} {
		resp, err := c.Get(t.Context(), u)
		mustFail(t, u, resp, err)
	}
	// A closed port and a 404 look the same to the caller: no port scan.
	srv, _ := counting(t, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	_, e404 := c.Get(t.Context(), srv.URL)
	_, eClosed := c.Get(t.Context(), closed)
	_, eBlocked := New(Options{}).Get(t.Context(), srv.URL)
	if e404 == nil || eClosed == nil || eBlocked == nil || e404.Error() != eClosed.Error() || e404.Error() != eBlocked.Error() {
		t.Fatalf("errors differ: %v / %v / %v", e404, eClosed, eBlocked)
	}
}

func TestSizeAndTimeBounded(t *testing.T) {
	big := strings.Repeat("x", 1000)
	srv, _ := counting(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/chunked" {
			w.(http.Flusher).Flush() // no Content-Length
		}
		_, _ = io.WriteString(w, big)
	})
	c := New(Options{AllowPrivate: true, MaxBytes: 999})
	resp, err := c.Get(t.Context(), srv.URL+"/sized")
	mustFail(t, "Content-Length over the bound", resp, err)
	resp, err = c.Get(t.Context(), srv.URL+"/chunked")
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, ErrFetch) {
		t.Fatalf("a body over the bound read with %v", err)
	}
	if got := get(t, New(Options{AllowPrivate: true, MaxBytes: 1000}), srv.URL+"/chunked"); got != big {
		t.Fatal("a body of exactly the bound was refused")
	}

	release := make(chan struct{})
	slow, _ := counting(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	resp, err = New(Options{AllowPrivate: true, Timeout: 50 * time.Millisecond}).Get(context.Background(), slow.URL)
	mustFail(t, "a server that never answers", resp, err)
}

func TestHostPort(t *testing.T) {
	for in, want := range map[string]string{"https://api.telegram.org": "api.telegram.org:443", "http://127.0.0.1:8080/x": "127.0.0.1:8080",
		"http://Example.com/": "Example.com:80", "http://[::1]:9/": "[::1]:9", "nonsense": ""} {
		if got := HostPort(in); got != want {
			t.Errorf("HostPort(%q) = %q, want %q", in, got, want)
		}
	}
}
