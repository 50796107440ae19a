// Package setup carries out `ccx init`: it collects a profile, asking on
// a terminal (each answer checked as it is typed) or taking every value
// from flags and CCX_* env, and saves it.
package setup

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/fault"
	"github.com/ccx-cli/ccx/internal/prompt"
	"github.com/ccx-cli/ccx/internal/ui"
)

// Options are what `ccx init` was given.
type Options struct {
	IO       *ui.IOStreams
	JSON     bool
	Prompter prompt.Prompter // nil: survey on the terminal
	Profile  string          // --profile
	Name     string          // --name
	Values   config.Profile  // from flags; Run sets APIToken to the one given anywhere
}

// ID type choices as the platform's set-up dialog names them.
const (
	idChoicePhone  = "Phone Number"
	idChoiceCustom = "Custom ID"
)

// initField is one value init collects, in the set-up dialog's order.
type initField struct {
	key, flag, question string
	required            bool
}

var initFields = []initField{
	{"id_type", "id-type", "ID type", true},
	{"channel_id", "channel-id", "Channel ID", true},
	{"api_token", "token", "API Token", true},
	{"webhook_url", "webhook-url", "Webhook URL (where ccx send posts events)", true},
	{"api_base_url", "api-base-url", "API Base URL of your server, optional (the platform calls <it>/message)", false},
	{"contact_id", "contact-id", "Default contact ID for ccx send, optional", false},
}

// Run collects a profile (by prompts on a terminal, else from the flags
// and CCX_* env) and saves it to file, made active unless declined.
func Run(file *config.File, o *Options) error {
	var err error
	// Flags, then CCX_* env: what the user already said is not asked again.
	given := config.FromEnv(o.IO.Getenv).Overlay(o.Values)
	o.Values.APIToken = given.APIToken // for redaction of errors

	interactive := o.IO.CanPrompt()
	name := o.Name
	if name == "" && !interactive {
		name = file.ActiveName(o.Profile, o.IO.Getenv)
	}

	var p config.Profile
	if interactive {
		pr := o.Prompter
		if pr == nil {
			pr = prompt.NewSurvey()
		}
		name, p, err = o.ask(pr, file, name, given)
		if err != nil {
			return err
		}
		if p == (config.Profile{}) { // declined to overwrite: a choice, not a failure
			return nil
		}
	} else {
		if err := config.CheckProfileName(name); err != nil {
			return fault.Usagef("--name: %v", err)
		}
		p, err = o.fromFlags(given)
		if err != nil {
			return err
		}
	}

	existed := file.Profiles[name] != (config.Profile{})
	makeActive := true
	if interactive && file.Active != "" && file.Active != name {
		pr := o.Prompter
		if pr == nil {
			pr = prompt.NewSurvey()
		}
		makeActive, err = pr.Confirm(fmt.Sprintf("Make %q the active profile (now %q)?", name, file.Active), true)
		if err != nil {
			return promptErr(err)
		}
	}
	if w := channel.WebhookURLWarning(p.WebhookURL); w != "" {
		fmt.Fprintln(o.IO.ErrOut, "warning: "+w) // saved anyway: self-hosted platforms exist
	}
	file.Put(name, p)
	if makeActive {
		file.Active = name
	}
	if err := file.Save(); err != nil {
		return fault.New(fault.IO, fmt.Errorf("cannot write %s: %w", file.Path(), err))
	}
	if o.JSON {
		return ui.WriteJSON(o.IO.Out, map[string]any{"profile": name, "path": file.Path(), "active": file.Active == name, "replaced": existed})
	}
	st := o.IO.Styles(o.IO.ErrOut)
	state := ""
	if file.Active == name {
		state = ", active"
	}
	fmt.Fprintf(o.IO.ErrOut, "%s saved profile %q to %s (mode 0600%s)\n", st.OK.Render("✓"), name, file.Path(), state)
	fmt.Fprintf(o.IO.ErrOut, "  try: ccx send text \"Hello\" --dry-run\n")
	return nil
}

// fromFlags is the headless path: every required value must be given.
func (o *Options) fromFlags(given config.Profile) (config.Profile, error) {
	var missing, bad []string
	var p config.Profile
	for _, fd := range initFields {
		v, _ := given.Get(fd.key)
		if v == "" {
			if fd.required {
				missing = append(missing, fmt.Sprintf("--%s (or %s)", fd.flag, config.EnvVars[fd.key]))
			}
			continue
		}
		nv, err := config.Normalize(fd.key, v, p.IDType)
		if err != nil {
			bad = append(bad, fmt.Sprintf("--%s: %v", fd.flag, err))
			continue
		}
		_ = p.Set(fd.key, nv)
	}
	if len(missing) > 0 {
		bad = append([]string{"cannot prompt here (no terminal, or CI is set); pass " + strings.Join(missing, ", ")}, bad...)
	}
	if len(bad) > 0 {
		return p, fault.New(fault.Usage, errors.New(strings.Join(bad, "\n")))
	}
	return p, nil
}

func promptErr(err error) error {
	if errors.Is(err, prompt.ErrInterrupted) {
		return fault.New(fault.Interrupted, errors.New("interrupted"))
	}
	return fault.New(fault.Failure, fmt.Errorf("prompt: %w", err))
}

// ask collects the profile interactively. A zero profile means the user
// declined to overwrite an existing one.
func (o *Options) ask(pr prompt.Prompter, file *config.File, name string, given config.Profile) (string, config.Profile, error) {
	var err error
	if name == "" {
		def := file.ActiveName(o.Profile, o.IO.Getenv)
		name, err = pr.Input("Profile name", def, func(s string) error { return config.CheckProfileName(s) })
		if err != nil {
			return "", config.Profile{}, promptErr(err)
		}
	} else if err := config.CheckProfileName(name); err != nil {
		return "", config.Profile{}, fault.Usagef("--name: %v", err)
	}
	old, exists := file.Profiles[name]
	if exists {
		ok, err := pr.Confirm(fmt.Sprintf("Profile %q exists. Replace its values?", name), false)
		if err != nil {
			return "", config.Profile{}, promptErr(err)
		}
		if !ok {
			fmt.Fprintf(o.IO.ErrOut, "kept profile %q unchanged\n", name)
			return name, config.Profile{}, nil
		}
	}

	var p config.Profile
	for _, fd := range initFields {
		if v, _ := given.Get(fd.key); v != "" {
			nv, err := config.Normalize(fd.key, v, p.IDType)
			if err != nil {
				return "", config.Profile{}, fault.Usagef("--%s: %v", fd.flag, err)
			}
			_ = p.Set(fd.key, nv)
			continue
		}
		prev, _ := old.Get(fd.key)
		check := func(s string) error {
			if s == "" {
				if fd.required {
					return fmt.Errorf("%s is required", fd.question)
				}
				return nil
			}
			_, err := config.Normalize(fd.key, s, p.IDType)
			return err
		}
		var answer string
		switch fd.key {
		case "id_type":
			def := idChoicePhone
			if prev == string(channel.IDCustom) {
				def = idChoiceCustom
			}
			answer, err = pr.Select("ID type (Phone Number lets you start conversations)", []string{idChoicePhone, idChoiceCustom}, def)
		case "api_token":
			q := fd.question + " (shown once when the channel is created)"
			tokenCheck := check
			if prev != "" {
				q += "; leave empty to keep " + ui.Redact(prev)
				tokenCheck = func(s string) error {
					if s == "" {
						return nil
					}
					return check(s)
				}
			}
			answer, err = pr.Password(q, tokenCheck)
			if answer == "" {
				answer = prev
			}
		case "webhook_url":
			def := prev
			if def == "" {
				def = channel.DefaultWebhookURL
			}
			answer, err = pr.Input(fd.question, def, check)
		default:
			answer, err = pr.Input(fd.question, prev, check)
		}
		if err != nil {
			return "", config.Profile{}, promptErr(err)
		}
		if answer == "" {
			continue
		}
		nv, err := config.Normalize(fd.key, answer, p.IDType)
		if err != nil { // the prompt validated; this guards a prompter that did not
			return "", config.Profile{}, fault.New(fault.Usage, err)
		}
		_ = p.Set(fd.key, nv)
	}
	return name, p, nil
}
