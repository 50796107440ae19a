package emulators

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
)

func TestRegistry(t *testing.T) {
	for _, n := range Names() {
		e, err := New(n, Options{})
		if err != nil || e.Name() != n {
			t.Fatalf("%s: %v", n, err)
		}
		e.Close()
		info, _ := Lookup(n)
		creds := e.Credentials()
		for k, v := range creds {
			if !contains(info.Credentials, k) || v == "" {
				t.Errorf("%s: credential %s=%q is not listed in Info.Credentials", n, k, v)
			}
		}
	}
	_, err := New("twillio", Options{})
	var ue *UnknownError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `"twillio"`) || !strings.Contains(err.Error(), strings.Join(Names(), ", ")) {
		t.Fatalf("unknown provider: %v", err)
	}
	if _, err := Lookup(""); err == nil || !strings.Contains(err.Error(), "no provider") {
		t.Fatalf("empty name: %v", err)
	}
}

func TestGivenCredentialsWin(t *testing.T) {
	e, _ := New("twilio", Options{Credentials: map[string]string{"CCX_TWILIO_ACCOUNT_SID": "ACmine", "CCX_TWILIO_AUTH_TOKEN": "tok", "CCX_TWILIO_FROM": "+15550001111"}})
	c := e.Credentials()
	if c["CCX_TWILIO_ACCOUNT_SID"] != "ACmine" || c["CCX_TWILIO_AUTH_TOKEN"] != "tok" || c["CCX_TWILIO_FROM"] != "+15550001111" {
		t.Fatalf("%v", c)
	}
	e, _ = New("twilio", Options{BusinessNumber: "whatsapp:+14155238886", Credentials: map[string]string{"CCX_TWILIO_FROM": "+15550001111"}})
	if e.Credentials()["CCX_TWILIO_FROM"] != "whatsapp:+14155238886" {
		t.Fatal("--business-number must win over the credentials' FROM")
	}
}

func TestAlternativeCredentials(t *testing.T) {
	i, _ := Lookup("vonage")
	basic := map[string]string{"CCX_VONAGE_API_KEY": "k", "CCX_VONAGE_API_SECRET": "s"}
	if !i.Unneeded("CCX_VONAGE_PRIVATE_KEY", basic) || !i.Unneeded("CCX_VONAGE_APPLICATION_ID", basic) {
		t.Fatal("with Basic credentials the application key is not needed")
	}
	if i.Unneeded("CCX_VONAGE_SIGNATURE_SECRET", basic) || i.Unneeded("CCX_VONAGE_PRIVATE_KEY", map[string]string{"CCX_VONAGE_API_KEY": "k"}) {
		t.Fatal("the signature secret is always needed, and half a set is no set")
	}
	if tw, _ := Lookup("twilio"); tw.Unneeded("CCX_TWILIO_AUTH_TOKEN", basic) {
		t.Fatal("providers without alternatives need everything")
	}
}

// Every emulator has the relay adapter that speaks to it (the demo and the
// e2e tests build it from the emulator's credentials).
func TestEveryEmulatorHasItsAdapter(t *testing.T) {
	for _, n := range Names() {
		e, err := New(n, Options{NoReceipts: true})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(e.Handler())
		info, _ := Lookup(n)
		ad, err := Adapter(n, AdapterConfig{BaseURL: srv.URL, PublicURL: "http://127.0.0.1:9", Credentials: e.Credentials()})
		if err != nil || ad.Name() != n {
			t.Fatalf("%s: %v", n, err)
		}
		id, err := ad.Send(t.Context(), channel.OutgoingRequest{ChannelID: "c", ContactID: info.DefaultCustomer, Message: channel.Text("hi")})
		if err != nil || id == "" {
			t.Errorf("%s: send through the adapter: %q %v", n, id, err)
		}
		if ss := e.Sends(); len(ss) != 1 || ss[0].ID == "" {
			t.Errorf("%s: the emulator recorded %+v", n, ss)
		}
		srv.Close()
		e.Close()
	}
	if _, err := Adapter("nope", AdapterConfig{}); err == nil {
		t.Fatal("unknown provider: want an error")
	}
}
