package config

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/ccx-cli/ccx/internal/ctxio"
)

// LocalProfile is the profile `ccx emulate` writes and `--local` selects.
const LocalProfile = "local"

// EnvProviderBaseURL is where `ccx relay` (and the env file `ccx emulate
// --provider` writes) takes a provider fake's API base URL from.
const EnvProviderBaseURL = "CCX_PROVIDER_BASE_URL"

// Credentials are provider secrets: env first, then the file.
type Credentials struct {
	File   map[string]string
	Getenv func(string) string
}

// LoadCredentials reads path as KEY=VALUE lines. It may be a pipe
// (--credentials <(pass show relay)): the read gives way to ctx.
func LoadCredentials(ctx context.Context, path string, getenv func(string) string) (*Credentials, error) {
	c := &Credentials{File: map[string]string{}, Getenv: getenv}
	if path == "" {
		return c, nil
	}
	fh, err := ctxio.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	sc := bufio.NewScanner(ctxio.Reader(ctx, io.LimitReader(fh, 1<<20)))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: expected KEY=VALUE", path, n)
		}
		c.File[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	return c, sc.Err()
}

// Get is k from the environment, else from the file.
func (c *Credentials) Get(k string) string {
	if v := strings.TrimSpace(c.Getenv(k)); v != "" { // a pasted secret's newline
		return v
	}
	return c.File[k]
}
