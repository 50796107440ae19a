package transport

import (
	"bytes"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/fault"
)

const token = "tok-0123456789abcdef-secret"

// tlsServer answers 200 and echoes the X-Env header it got.
func tlsServer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Got-Env", r.Header.Get("X-Env"))
		w.WriteHeader(200)
	}))
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return srv, ca
}

func get(t *testing.T, o Options, url string) (*http.Response, error) {
	t.Helper()
	c, err := o.Client()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return resp, err
}

func TestCACertAccepted(t *testing.T) {
	srv, ca := tlsServer(t)
	resp, err := get(t, Options{CACert: ca, Headers: []string{"X-Env: staging"}}, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Header.Get("X-Got-Env") != "staging" {
		t.Errorf("--header not sent: %q", resp.Header.Get("X-Got-Env"))
	}
}

func TestUnknownCARefusedWithRemedy(t *testing.T) {
	srv, _ := tlsServer(t)
	_, err := get(t, Options{}, srv.URL)
	if err == nil || !strings.Contains(err.Error(), "not trusted") || !strings.Contains(err.Error(), "--cacert") {
		t.Fatalf("err = %v, want an untrusted-certificate error naming --cacert", err)
	}
}

func TestInsecureWarnsAndConnects(t *testing.T) {
	srv, _ := tlsServer(t)
	var warn bytes.Buffer
	if _, err := get(t, Options{Insecure: true, Warn: &warn}, srv.URL); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(warn.String(), "warning: --insecure") {
		t.Errorf("no warning: %q", warn.String())
	}
}

func TestVerboseShowsHeadsRedacted(t *testing.T) {
	srv, ca := tlsServer(t)
	var v bytes.Buffer
	if _, err := get(t, Options{CACert: ca, Verbose: &v, Secrets: []string{token}, Headers: []string{"X-Api-Key: k-0123456789abcdef0123"}}, srv.URL+"/x?token="+token); err != nil {
		t.Fatal(err)
	}
	s := v.String()
	for _, want := range []string{"> #1 GET https://127.0.0.1", "> Authorization: Bearer tok-…cret", "< #1 HTTP/1.1 200 OK in "} {
		if !strings.Contains(s, want) {
			t.Errorf("verbose lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, token) || strings.Contains(s, "k-0123456789abcdef0123") {
		t.Errorf("a secret in verbose output:\n%s", s)
	}
}

func TestBadFlags(t *testing.T) {
	if _, err := (Options{Headers: []string{"no colon"}}).Client(); kindOf(err) != fault.Usage {
		t.Errorf("bad --header: %v (kind %v), want a usage error", err, kindOf(err))
	}
	if _, err := (Options{CACert: filepath.Join(t.TempDir(), "missing.pem")}).Client(); kindOf(err) != fault.IO {
		t.Errorf("missing --cacert: %v, want an I/O error", err)
	}
	notPEM := filepath.Join(t.TempDir(), "x.pem")
	_ = os.WriteFile(notPEM, []byte("hello"), 0o600)
	if _, err := (Options{CACert: notPEM}).Client(); kindOf(err) != fault.Usage {
		t.Errorf("--cacert without PEM: %v, want a usage error", err)
	}
}

func kindOf(err error) fault.Kind { k, _ := fault.KindOf(err); return k }
