// Package manage carries out `ccx config`: list, get, set, unset, use
// and delete profiles of the config file, and print the outcome.
package manage

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/ctxio"
	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/ui"
)

// Manager acts on the config file Load returns.
type Manager struct {
	IO        *ui.IOStreams
	JSON      bool
	ShowToken bool   // print secrets in full
	Profile   string // --profile: the profile acted on instead of the active one
	Load      func() (*config.File, error)
}

func (o *Manager) load() (*config.File, error) {
	file, err := o.Load()
	if err != nil {
		return nil, fault.New(fault.IO, err)
	}
	return file, nil
}

func (o *Manager) save(file *config.File) error {
	if err := file.Save(); err != nil {
		return fault.New(fault.IO, fmt.Errorf("cannot write %s: %w", file.Path(), err))
	}
	return nil
}

func (o *Manager) show(key, value string) string {
	if config.SecretKeys[key] && !o.ShowToken {
		return ui.Redact(value)
	}
	return value
}

func (o *Manager) selected(file *config.File) string {
	return file.ActiveName(o.Profile, o.IO.Getenv)
}

func (o *Manager) status(format string, args ...any) {
	st := o.IO.Styles(o.IO.ErrOut)
	fmt.Fprintf(o.IO.ErrOut, "%s %s\n", st.OK.Render("✓"), fmt.Sprintf(format, args...))
}

func (o *Manager) List() error {
	file, err := o.load()
	if err != nil {
		return err
	}
	profiles := map[string]map[string]string{}
	for _, name := range file.Names() {
		p := file.Profiles[name]
		m := map[string]string{}
		for _, k := range config.Keys {
			if v, _ := p.Get(k); v != "" {
				m[k] = o.show(k, v)
			}
		}
		profiles[name] = m
	}
	if o.JSON {
		return ui.WriteJSON(o.IO.Out, map[string]any{"path": file.Path(), "active": file.Active, "profiles": profiles})
	}
	if len(profiles) == 0 {
		fmt.Fprintf(o.IO.ErrOut, "no profiles in %s; run `ccx init` or `ccx config set KEY VALUE`\n", file.Path())
		return nil
	}
	w := o.IO.Out
	st := o.IO.Styles(w)
	for i, name := range file.Names() {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if name == file.Active {
			fmt.Fprintf(w, "%s %s\n", st.Bold.Render(name), st.OK.Render("(active)"))
		} else {
			fmt.Fprintln(w, st.Bold.Render(name))
		}
		tb := ui.Table{Indent: 2, MinWidths: []int{13}}
		for _, k := range config.Keys {
			if v, ok := profiles[name][k]; ok {
				tb.Row(k, v)
			}
		}
		_, _ = io.WriteString(w, tb.Render(o.IO.Width()))
	}
	return nil
}

func checkKey(key string) error {
	var p config.Profile
	if _, err := p.Get(key); err != nil {
		return fault.New(fault.Usage, err)
	}
	return nil
}

func (o *Manager) Get(key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	file, err := o.load()
	if err != nil {
		return err
	}
	name := o.selected(file)
	p := file.Profiles[name]
	v, _ := p.Get(key)
	if env := config.EnvVars[key]; o.IO.Getenv(env) != "" {
		fmt.Fprintf(o.IO.ErrOut, "note: %s is set and overrides this value\n", env)
	}
	if o.JSON {
		return ui.WriteJSON(o.IO.Out, map[string]any{"profile": name, "key": key, "value": o.show(key, v), "set": v != ""})
	}
	if v == "" {
		return fault.New(fault.Failure, fmt.Errorf("%s is not set in profile %q", key, name))
	}
	fmt.Fprintln(o.IO.Out, o.show(key, v))
	return nil
}

func (o *Manager) Set(ctx context.Context, key, value string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if value == "-" {
		line, err := bufio.NewReader(io.LimitReader(ctxio.Reader(ctx, o.IO.In), 64<<10)).ReadString('\n')
		if err != nil && err != io.EOF {
			if ctx.Err() != nil {
				return fault.New(fault.Interrupted, errors.New("interrupted"))
			}
			return fault.New(fault.IO, fmt.Errorf("cannot read the value from stdin: %w", err))
		}
		value = strings.TrimSpace(line)
	}
	file, err := o.load()
	if err != nil {
		return err
	}
	name := o.selected(file)
	v, err := file.SetValue(name, key, value)
	if err != nil {
		if config.SecretKeys[key] { // only a secret is hidden: other values are what the user must see to fix
			err = errors.New(ui.RedactIn(err.Error(), value))
		}
		return fault.New(fault.Usage, err)
	}
	if err := o.save(file); err != nil {
		return err
	}
	if w := channel.WebhookURLWarning(v); key == "webhook_url" && w != "" {
		fmt.Fprintln(o.IO.ErrOut, "warning: "+w) // saved anyway: self-hosted platforms exist
	}
	if o.JSON {
		return ui.WriteJSON(o.IO.Out, map[string]any{"profile": name, "key": key, "value": o.show(key, v), "active": file.Active == name})
	}
	o.status("set %s = %s in profile %q (%s)", key, o.show(key, v), name, file.Path())
	return nil
}

func (o *Manager) Unset(key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	file, err := o.load()
	if err != nil {
		return err
	}
	name := o.selected(file)
	if err := file.Unset(name, key); err != nil {
		return fault.New(fault.Failure, err)
	}
	if err := o.save(file); err != nil {
		return err
	}
	if o.JSON {
		return ui.WriteJSON(o.IO.Out, map[string]any{"profile": name, "key": key, "unset": true})
	}
	o.status("unset %s in profile %q", key, name)
	return nil
}

func (o *Manager) Use(name string) error {
	file, err := o.load()
	if err != nil {
		return err
	}
	if err := file.Use(name); err != nil {
		return fault.New(fault.Failure, err)
	}
	if err := o.save(file); err != nil {
		return err
	}
	if o.JSON {
		return ui.WriteJSON(o.IO.Out, map[string]any{"active": name})
	}
	o.status("active profile is now %q", name)
	return nil
}

func (o *Manager) Remove(name string) error {
	file, err := o.load()
	if err != nil {
		return err
	}
	if err := file.Delete(name); err != nil {
		return fault.New(fault.Failure, err)
	}
	if err := o.save(file); err != nil {
		return err
	}
	if o.JSON {
		return ui.WriteJSON(o.IO.Out, map[string]any{"deleted": name, "active": file.Active})
	}
	o.status("deleted profile %q", name)
	if file.Active == "" && len(file.Profiles) > 0 {
		fmt.Fprintf(o.IO.ErrOut, "no active profile now; pick one with `ccx config use NAME`\n")
	}
	return nil
}

func (o *Manager) Path() error {
	path, err := config.DefaultPath(o.IO.Getenv)
	if err != nil {
		return fault.New(fault.IO, err)
	}
	if o.JSON {
		return ui.WriteJSON(o.IO.Out, map[string]string{"path": path})
	}
	fmt.Fprintln(o.IO.Out, path)
	return nil
}
