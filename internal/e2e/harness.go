package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/provider"
)

// Config says what the harness runs and where.
type Config struct {
	// Provider is the provider fake the server calls and that signs the
	// webhooks the harness posts to the server.
	Provider provider.Emulator
	// PlatformAddr is where the fakes listen ("" → 127.0.0.1:0, a free
	// loopback port). The provider fake is served under ProviderPrefix+name
	// there, as `ccx emulate --provider` serves it, so a server set up for
	// one works with the other.
	PlatformAddr string
	// Channel is the emulated channel (the server's channel ID, API token and
	// ID type); an empty ID or token is generated.
	Channel emulator.Channel
}

// ProviderPrefix is where the provider fake's API lives on the harness: the
// base URL a server uses for provider NAME is <platform URL>/_provider/NAME
// (the layout of `ccx emulate --provider`).
const ProviderPrefix = "/_provider/"

// Harness is the platform fake and one provider fake, running, with the
// recording that the checks judge.
type Harness struct {
	emu   *emulator.Emulator
	rec   *recorder
	prov  provider.Emulator
	files map[string]mediaFile
}

// The sample files: what an agent and a customer attach.
const (
	agentFile    = "agent-photo.png"
	customerFile = "customer-photo.png"
)

// Start runs the fakes. Close stops them.
func Start(cfg Config) (*Harness, error) {
	if cfg.Provider == nil {
		return nil, errors.New("e2e: no provider fake")
	}
	ch := cfg.Channel
	gen := emulator.GenerateChannel(ch.IDType, ch.APIBaseURL)
	if ch.ID == "" {
		ch.ID = gen.ID
	}
	if ch.Token == "" {
		ch.Token = gen.Token
	}
	if ch.IDType == "" {
		ch.IDType = channel.IDPhone
	}
	h := &Harness{rec: newRecorder(), prov: cfg.Provider, files: map[string]mediaFile{
		agentFile:    {mime: "image/png", data: samplePNG(color.RGBA{0x1f, 0x6f, 0xeb, 0xff})},
		customerFile: {mime: "image/png", data: samplePNG(color.RGBA{0xeb, 0x6f, 0x1f, 0xff})},
	}}
	h.rec.media = map[string]mediaFile{agentFile: h.files[agentFile]}
	// The provider's own media (what a customer sends) is served on the
	// provider's host, as providers do.
	provFiles := map[string]mediaFile{customerFile: h.files[customerFile]}
	ph := cfg.Provider.Handler()
	h.rec.provider = http.StripPrefix(strings.TrimSuffix(ProviderPrefix+cfg.Provider.Name(), "/"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !serveMedia(provFiles, w, r) {
			ph.ServeHTTP(w, r)
		}
	}))
	h.rec.providerPrefix = ProviderPrefix + cfg.Provider.Name() + "/"

	ln, err := listen(cfg.PlatformAddr, "the platform fake")
	if err != nil {
		return nil, err
	}
	h.emu, err = emulator.New(emulator.Options{Listener: ln, Channels: []emulator.Channel{ch}, Wrap: h.rec.wrap})
	if err != nil {
		ln.Close()
		return nil, err
	}
	return h, nil
}

func listen(addr, what string) (net.Listener, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &ListenError{What: what, Addr: addr, Err: err}
	}
	return ln, nil
}

// ListenError is a fake that could not bind its port.
type ListenError struct {
	What, Addr string
	Err        error
}

func (e *ListenError) Error() string {
	return fmt.Sprintf("cannot start %s on %s: %v", e.What, e.Addr, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

// Close stops both fakes.
func (h *Harness) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.prov.Close()
	return h.emu.Shutdown(ctx)
}

// PlatformURL is the platform fake's base URL.
func (h *Harness) PlatformURL() string { return h.emu.URL() }

// WebhookURL is where the server must post its platform events.
func (h *Harness) WebhookURL() string { return h.emu.WebhookURL() }

// ProviderURL is the provider API base URL the server must call.
func (h *Harness) ProviderURL() string { return h.emu.URL() + ProviderPrefix + h.prov.Name() }

// Channel is the emulated channel, with its token.
func (h *Harness) Channel() emulator.Channel { return h.emu.Channel() }

// Provider is the provider fake.
func (h *Harness) Provider() provider.Emulator { return h.prov }

func (h *Harness) agentMediaURL() string    { return h.emu.URL() + mediaPath + agentFile }
func (h *Harness) customerMediaURL() string { return h.ProviderURL() + mediaPath + customerFile }

// samplePNG is a small image with a recognisable colour, so bytes compare.
func samplePNG(c color.Color) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for x := 0; x < 4; x++ {
		for y := 0; y < 4; y++ {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// Webhooks are where a server takes a provider's webhooks: customer messages
// and, when a send names no callback, status callbacks ("" when the provider
// has none). The defaults are ccx relay's routes under base.
type Webhooks struct {
	Inbound, Status string
}

// DefaultWebhooks are ccx relay's provider routes under base.
func DefaultWebhooks(name, base string, creds map[string]string) Webhooks {
	base = strings.TrimRight(base, "/")
	p := base + "/providers/" + name
	switch name {
	case "telegram":
		return Webhooks{Inbound: p + "/webhook"}
	case "whatsapp":
		return Webhooks{Inbound: p + "/webhook", Status: p + "/webhook"} // one app webhook for both
	case "clicksend":
		// ClickSend signs nothing: the relay's URLs end in a secret.
		secret := credential(creds, "SECRET")
		return Webhooks{Inbound: p + "/inbound/" + secret, Status: p + "/receipt/" + secret}
	case "gupshup":
		// One callback URL for messages and message-events; a path secret.
		hook := p + "/webhook"
		if secret := creds["CCX_GUPSHUP_SECRET"]; secret != "" {
			hook += "/" + secret
		}
		return Webhooks{Inbound: hook, Status: hook}
	case "zalo":
		return Webhooks{Inbound: p + "/webhook", Status: p + "/webhook"}
	}
	return Webhooks{Inbound: p + "/inbound", Status: p + "/status"}
}

// credential finds a credential by the end of its key (CCX_CLICKSEND_SECRET).
func credential(creds map[string]string, suffix string) string {
	for k, v := range creds {
		if strings.HasSuffix(k, suffix) {
			return v
		}
	}
	return ""
}
