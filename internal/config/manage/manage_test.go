package manage

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/ui"
)

func newManager(t *testing.T) (*Manager, *ui.IOStreams, func() string) {
	t.Helper()
	io, _, out, _ := ui.Test()
	path := filepath.Join(t.TempDir(), "config.toml")
	m := &Manager{IO: io, Load: func() (*config.File, error) { return config.Load(path) }}
	return m, io, out.String
}

// config list's key/value rows wrap under the value column on a narrow
// terminal and stay one line each on a pipe.
func TestListFitsWidth(t *testing.T) {
	m, _, out := newManager(t)
	long := "https://example.test/a/very/long/webhook/path/that/goes/on/and/on/" + strings.Repeat("x", 30)
	f, err := m.Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.SetValue("default", "webhook_url", long); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	if err := m.List(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out(), "  webhook_url   "+long+"\n") {
		t.Fatalf("piped list changed:\n%s", out())
	}
	m2, io2, out2 := newManager(t)
	m2.Load = m.Load
	io2.SetStdoutTTY(true)
	io2.SetWidth(60)
	if err := m2.List(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out2(), "\n"), "\n")
	if len(lines) < 3 {
		t.Fatalf("not wrapped:\n%s", out2())
	}
	for _, l := range lines[2:] {
		if !strings.HasPrefix(l, strings.Repeat(" ", 16)) {
			t.Errorf("continuation %q not under the value column", l)
		}
	}
	if strings.Join(strings.Fields(strings.Join(lines[1:], "")), "") != "webhook_url"+long {
		t.Errorf("value changed:\n%s", out2())
	}
}

// config set hides only secrets in its messages: a bad id_type is shown
// as typed (it was "********"), a bad token is not shown.
func TestSetRedactsOnlySecrets(t *testing.T) {
	m, _, _ := newManager(t)
	err := m.Set(context.Background(), "id_type", "phonenumber")
	if err == nil || !strings.Contains(err.Error(), "phonenumber") {
		t.Errorf("id_type error hides the value: %v", err)
	}
	secret := "tok secret-0123456789abcdef"
	err = m.Set(context.Background(), "api_token", secret)
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("api_token error shows the token: %v", err)
	}
}
