package cli

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/emulator"
	"github.com/ccx-cli/ccx/internal/emulator/launch"
)

// A command given --local while `ccx emulate` is still starting waits for
// it: the emulator here starts only once the command has begun to wait.
func TestLocalWaitsForTheEmulator(t *testing.T) {
	f, out, errOut := emuFactory(t, nil)
	var e *emulator.Emulator
	var once sync.Once
	defer func() {
		waitHook = nil
		if e != nil {
			e.Close()
		}
	}()
	waitHook = func() {
		once.Do(func() {
			file, err := config.Load(f.IO.Getenv(config.EnvConfig))
			if err != nil {
				t.Error(err)
				return
			}
			e, err = emulator.New(emulator.Options{BeforeServe: func(em *emulator.Emulator) error { return launch.SaveLocalProfile(file, em) }})
			if err != nil {
				t.Error(err)
			}
		})
	}
	code := Run(context.Background(), f, []string{"send", "text", "hi", "--local"})
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if !strings.Contains(errOut.String(), "waiting up to 5s for `ccx emulate` (no 'local' profile yet") || !strings.Contains(errOut.String(), "ccx emulate is up") {
		t.Errorf("stderr:\n%s", errOut)
	}
	if !strings.Contains(out.String(), "sent message text") {
		t.Errorf("stdout:\n%s", out)
	}
}

func TestLocalWaitIsBounded(t *testing.T) {
	old := LocalWait
	defer func() { LocalWait = old }()
	LocalWait = 50 * time.Millisecond
	f, _, errOut := emuFactory(t, nil)
	code := Run(context.Background(), f, []string{"send", "text", "hi", "--local"})
	if code != ExitUsage || !strings.Contains(errOut.String(), "gave up waiting after 50ms") || !strings.Contains(errOut.String(), `no profile "local"`) {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	// Commands that do not reach the emulator never wait.
	f, _, errOut = emuFactory(t, nil)
	Run(context.Background(), f, []string{"config", "list", "--local"})
	if strings.Contains(errOut.String(), "waiting") {
		t.Fatalf("config waited:\n%s", errOut)
	}
}

// emulate send gives a local server started a moment ago the time to bind.
func TestEmulateSendWaitsForALocalServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there until the wait has begun
	srv := &httptest.Server{Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"mId":"late-1"}`))
	})}}
	var once sync.Once
	defer func() {
		waitHook = nil
		if srv.Listener != nil {
			srv.Close()
		}
	}()
	waitHook = func() {
		once.Do(func() {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			srv.Listener = ln
			srv.Start()
		})
	}
	e, err := emulator.New(emulator.Options{Channels: []emulator.Channel{{ID: "chan123", Token: cliToken, IDType: "phone", APIBaseURL: "http://" + addr}}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	f, out, errOut := emuFactory(t, nil)
	code := Run(context.Background(), f, []string{"emulate", "send", "text", "hi", "--to", "+60177872890", "--emulator", e.URL()})
	if code != ExitOK || strings.TrimSpace(out.String()) != "late-1" || !strings.Contains(errOut.String(), "waiting up to 5s for your server at http://"+addr) {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}
}
