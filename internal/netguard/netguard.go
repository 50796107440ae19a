// Package netguard is the one HTTP client for every URL ccx fetches on
// someone else's say-so (an attachment URL in a /message call, a provider's
// media URL): http and https only, the resolved address checked when the
// connection is made (no loopback, private, link-local or metadata address
// unless AllowPrivate), every redirect checked again, size and time bounded,
// and a single error text for every failure, so that whoever named the URL
// learns nothing about the network behind the relay (no port-scan oracle).
package netguard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrFetch is the only error a caller sees: the detail goes to the debug log.
var ErrFetch = errors.New("media could not be fetched")

// Defaults of Options.
const (
	DefaultMaxBytes     = 50 << 20
	DefaultTimeout      = 60 * time.Second
	DefaultMaxRedirects = 5
)

// Options configure a Client.
type Options struct {
	// AllowPrivate lifts the address rule (`ccx relay --allow-private-media`:
	// tests, and deployments whose media lives on a private network).
	AllowPrivate bool
	// Trusted are host:port pairs the operator configured (a provider's API
	// base URL, often a loopback fake in tests): exempt from the address rule,
	// because nobody but the operator chose them.
	Trusted []string
	// MaxBytes bounds a body (0 → 50 MiB); reading past it fails.
	MaxBytes int64
	// Timeout bounds a whole fetch, body included (0 → 60 s).
	Timeout time.Duration
	// MaxRedirects bounds the redirects followed (0 → 5; each is checked).
	MaxRedirects int
	// Logger gets the reason of each refused or failed fetch at debug level.
	Logger *slog.Logger

	// Test hooks: resolve a name, and connect to an address already checked.
	lookup  func(ctx context.Context, host string) ([]netip.Addr, error)
	connect func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Client fetches untrusted URLs.
type Client struct {
	o       Options
	trusted map[string]bool
	hc      *http.Client
}

// New builds a Client.
func New(o Options) *Client {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxRedirects <= 0 {
		o.MaxRedirects = DefaultMaxRedirects
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	c := &Client{o: o, trusted: map[string]bool{}}
	for _, t := range o.Trusted {
		if t != "" {
			c.trusted[strings.ToLower(t)] = true
		}
	}
	if c.o.lookup == nil {
		c.o.lookup = lookup
	}
	if c.o.connect == nil {
		d := &net.Dialer{Timeout: 10 * time.Second, Control: c.control}
		c.o.connect = d.DialContext
	}
	plain := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{
		// No proxy: a proxy would connect on our behalf, out of the
		// address rule's reach.
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if c.trusted[strings.ToLower(addr)] {
				return plain.DialContext(ctx, network, addr)
			}
			return c.dial(ctx, network, addr)
		},
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
	}
	c.hc = &http.Client{Transport: tr, Timeout: o.Timeout, CheckRedirect: c.checkRedirect}
	return c
}

// HostPort is the host:port a URL connects to (the form Trusted takes);
// "" for a URL that does not parse.
func HostPort(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// Get fetches u with GET.
func (c *Client) Get(ctx context.Context, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, c.fail(u, err)
	}
	return c.Do(req)
}

// Do runs req. Only a 2xx answer is returned; its body is bounded by
// MaxBytes. Every failure is ErrFetch.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	if err := checkURL(req.URL); err != nil {
		return nil, c.fail(req.URL.Redacted(), err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may hold a credential (a bot token)
		}
		return nil, c.fail(req.URL.Redacted(), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		resp.Body.Close()
		return nil, c.fail(req.URL.Redacted(), fmt.Errorf("answered %d", resp.StatusCode))
	}
	if resp.ContentLength > c.o.MaxBytes {
		resp.Body.Close()
		return nil, c.fail(req.URL.Redacted(), fmt.Errorf("%d bytes, more than %d", resp.ContentLength, c.o.MaxBytes))
	}
	resp.Body = &bounded{r: resp.Body, left: c.o.MaxBytes}
	return resp, nil
}

func (c *Client) fail(u string, err error) error {
	c.o.Logger.Debug("media fetch refused or failed", "url", redactPath(u), "reason", err.Error())
	return ErrFetch
}

// redactPath keeps scheme and host: paths can hold credentials.
func redactPath(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "(unparsable URL)"
	}
	return p.Scheme + "://" + p.Host + "/…"
}

func checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q: only http and https", u.Scheme)
	}
	if u.Hostname() == "" {
		return errors.New("no host")
	}
	return nil
}

func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > c.o.MaxRedirects {
		return fmt.Errorf("more than %d redirects", c.o.MaxRedirects)
	}
	return checkURL(req.URL)
}

// dial resolves the host and connects to the first address the rule allows.
func (c *Client) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	pn, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("bad port %q", port)
	}
	ips, err := c.o.lookup(ctx, host)
	if err != nil {
		return nil, err
	}
	last := fmt.Errorf("%s has no address", host)
	for _, ip := range ips {
		if err := c.allowed(ip); err != nil {
			last = err
			continue
		}
		conn, err := c.o.connect(ctx, network, netip.AddrPortFrom(ip, uint16(pn)).String())
		if err == nil {
			return conn, nil
		}
		last = err
	}
	return nil, last
}

// control checks the address actually connected to (after any resolution).
func (c *Client) control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("address %q: %w", address, err)
	}
	return c.allowed(ap.Addr())
}

func (c *Client) allowed(ip netip.Addr) error {
	if !c.o.AllowPrivate && Blocked(ip) {
		return fmt.Errorf("address %s is not public (loopback, private, link-local or reserved)", ip)
	}
	return nil
}

func lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{ip}, nil
	}
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// blockedPrefixes are the ranges the netip predicates do not cover.
var blockedPrefixes = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"100.64.0.0/10",   // carrier-grade NAT (RFC 6598)
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation
		"203.0.113.0/24",  // documentation
		"240.0.0.0/4",     // reserved, and the broadcast address
		"::/96",           // IPv4-compatible (deprecated)
		"100::/64",        // discard
		"2001:db8::/32",   // documentation
		"fec0::/10",       // site-local (deprecated)
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// Blocked reports whether ip is not a public unicast address: loopback,
// RFC 1918 and IPv6 ULA, link-local (169.254.169.254, the cloud metadata
// address, among them), CGNAT, unspecified, multicast, reserved and
// documentation ranges, in any IPv4-mapped or IPv4-embedding (NAT64, 6to4)
// form.
func Blocked(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return true
		}
	}
	if ip.Is6() {
		b := ip.As16()
		// NAT64 (64:ff9b::/96) and 6to4 (2002::/16) reach an IPv4 address:
		// judge that one.
		if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b {
			return Blocked(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		}
		if b[0] == 0x20 && b[1] == 0x02 {
			return Blocked(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
		}
	}
	return false
}

// bounded fails a read past the limit instead of truncating silently.
type bounded struct {
	r    io.ReadCloser
	left int64
}

func (b *bounded) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		n, err := b.r.Read(one[:])
		if n > 0 {
			return 0, ErrFetch
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *bounded) Close() error { return b.r.Close() }
