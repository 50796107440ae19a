package zalo

import (
	"net/http/httptest"
)

// Fake is an Emulator on an httptest server for tests: one server for the
// Open API and the OAuth paths; with no webhook URL it posts no receipts.
type Fake struct {
	*Emulator
	Server *httptest.Server
}

// NewFake starts a fake on 127.0.0.1.
func NewFake() *Fake {
	e := NewEmulator(EmulatorOptions{AppID: "1234567890123456789", AppSecret: "app-secret-0123", OASecretKey: "oa-secret-key",
		AccessToken: "access-token-0", RefreshToken: "refresh-token-0"})
	return &Fake{Emulator: e, Server: httptest.NewServer(e.Handler())}
}

// URL is the fake's base URL (Open API and OAuth).
func (f *Fake) URL() string { return f.Server.URL }

// Close stops the fake.
func (f *Fake) Close() { f.Emulator.Close(); f.Server.Close() }

// Options are adapter options that talk to this fake.
func (f *Fake) Options() Options {
	c := f.Credentials()
	return Options{BaseURL: f.URL(), AppID: c["CCX_ZALO_APP_ID"], AppSecret: c["CCX_ZALO_APP_SECRET"], OASecretKey: c["CCX_ZALO_OA_SECRET_KEY"],
		AccessToken: c["CCX_ZALO_ACCESS_TOKEN"], RefreshToken: c["CCX_ZALO_REFRESH_TOKEN"]}
}
