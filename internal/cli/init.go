package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/prompt"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/spf13/cobra"
)

type initOptions struct {
	f        *Factory
	prompter prompt.Prompter
	name     string
	values   config.Profile // from flags
}

// ID type choices as the platform's set-up dialog names them.
const (
	idChoicePhone  = "Phone Number"
	idChoiceCustom = "Custom ID"
)

// newInitCmd builds `ccx init`; p is the prompter (nil: survey on the terminal).
func newInitCmd(f *Factory, p prompt.Prompter) *cobra.Command {
	o := &initOptions{f: f, prompter: p}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Set up a profile: ID type, channel ID, API token, webhook URL",
		Long: `init asks for the values the platform shows when you create a Custom Channel
(Settings → Channels → Add Channel → Custom Channel): the ID type you chose,
the generated Channel ID and API Token, the Webhook URL to post events to, and
your server's API Base URL (the "destination Webhook URL"; the platform calls
<it>/message). A default contact ID for 'ccx send' is optional. Each answer is
checked as you type it. The profile is written to the config file (mode 0600)
and made active.

Flags given on the command line are not asked for. Without a terminal (piped,
or CI set) init never prompts: it takes every value from flags or CCX_*
variables and fails, naming what is missing.`,
		Example: `  ccx init
  ccx init --name staging
  ccx init --id-type phone --channel-id gfd8g7fd89dgfd --token "$CCX_API_TOKEN" \
    --webhook-url https://webhook.respond.io/custom/channel/webhook/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			err := o.run(cmd)
			return redactErr(err, o.values.APIToken)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.name, "name", "", "profile name (default: the selected profile, else \"default\")")
	fl.StringVar(&o.values.IDType, "id-type", "", "contact ID type: phone|custom (env CCX_ID_TYPE)")
	fl.StringVar(&o.values.ChannelID, "channel-id", "", "Channel ID (env CCX_CHANNEL_ID)")
	fl.StringVar(&o.values.APIToken, "token", "", "API Token (env CCX_API_TOKEN)")
	fl.StringVar(&o.values.WebhookURL, "webhook-url", "", "IS-Messenger webhook URL (env CCX_WEBHOOK_URL)")
	fl.StringVar(&o.values.APIBaseURL, "api-base-url", "", "your server's API Base URL (env CCX_API_BASE_URL)")
	fl.StringVar(&o.values.ContactID, "contact-id", "", "default contact ID for ccx send (env CCX_CONTACT_ID)")
	_ = cmd.RegisterFlagCompletionFunc("id-type", fixedCompletion(channel.IDTypes))
	return cmd
}

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

func (o *initOptions) run(cmd *cobra.Command) error {
	file, err := o.f.Config()
	if err != nil {
		return Exit(ExitIO, err)
	}
	// Flags, then CCX_* env: what the user already said is not asked again.
	given := config.FromEnv(o.f.IO.Getenv).Overlay(o.values)
	o.values.APIToken = given.APIToken // for redaction of errors

	interactive := o.f.IO.CanPrompt()
	name := o.name
	if name == "" && !interactive {
		name = file.ActiveName(o.f.Profile, o.f.IO.Getenv)
	}

	var p config.Profile
	if interactive {
		pr := o.prompter
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
			return UsageErrorf(fmt.Errorf("--name: %v", err))
		}
		p, err = o.fromFlags(given)
		if err != nil {
			return err
		}
	}

	existed := file.Profiles[name] != (config.Profile{})
	makeActive := true
	if interactive && file.Active != "" && file.Active != name {
		pr := o.prompter
		if pr == nil {
			pr = prompt.NewSurvey()
		}
		makeActive, err = pr.Confirm(fmt.Sprintf("Make %q the active profile (now %q)?", name, file.Active), true)
		if err != nil {
			return promptErr(err)
		}
	}
	if w := channel.WebhookURLWarning(p.WebhookURL); w != "" {
		fmt.Fprintln(o.f.IO.ErrOut, "warning: "+w)
	}
	file.Put(name, p)
	if makeActive {
		file.Active = name
	}
	if err := file.Save(); err != nil {
		return Exit(ExitIO, fmt.Errorf("cannot write %s: %w", file.Path(), err))
	}
	if o.f.JSON {
		return ui.WriteJSON(o.f.IO.Out, map[string]any{"profile": name, "path": file.Path(), "active": file.Active == name, "replaced": existed})
	}
	st := o.f.IO.Styles(o.f.IO.ErrOut)
	state := ""
	if file.Active == name {
		state = ", active"
	}
	fmt.Fprintf(o.f.IO.ErrOut, "%s saved profile %q to %s (mode 0600%s)\n", st.OK.Render("✓"), name, file.Path(), state)
	fmt.Fprintf(o.f.IO.ErrOut, "  try: ccx send text \"Hello\" --dry-run\n")
	return nil
}

// fromFlags is the headless path: every required value must be given.
func (o *initOptions) fromFlags(given config.Profile) (config.Profile, error) {
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
		return p, UsageErrorf(errors.New(strings.Join(bad, "\n")))
	}
	return p, nil
}

func promptErr(err error) error {
	if errors.Is(err, prompt.ErrInterrupted) {
		return Exit(ExitInterrupted, errors.New("interrupted"))
	}
	return Exit(ExitFailure, fmt.Errorf("prompt: %w", err))
}

// ask collects the profile interactively. A zero profile means the user
// declined to overwrite an existing one.
func (o *initOptions) ask(pr prompt.Prompter, file *config.File, name string, given config.Profile) (string, config.Profile, error) {
	var err error
	if name == "" {
		def := file.ActiveName(o.f.Profile, o.f.IO.Getenv)
		name, err = pr.Input("Profile name", def, func(s string) error { return config.CheckProfileName(s) })
		if err != nil {
			return "", config.Profile{}, promptErr(err)
		}
	} else if err := config.CheckProfileName(name); err != nil {
		return "", config.Profile{}, UsageErrorf(fmt.Errorf("--name: %v", err))
	}
	old, exists := file.Profiles[name]
	if exists {
		ok, err := pr.Confirm(fmt.Sprintf("Profile %q exists. Replace its values?", name), false)
		if err != nil {
			return "", config.Profile{}, promptErr(err)
		}
		if !ok {
			fmt.Fprintf(o.f.IO.ErrOut, "kept profile %q unchanged\n", name)
			return name, config.Profile{}, nil
		}
	}

	var p config.Profile
	for _, fd := range initFields {
		if v, _ := given.Get(fd.key); v != "" {
			nv, err := config.Normalize(fd.key, v, p.IDType)
			if err != nil {
				return "", config.Profile{}, UsageErrorf(fmt.Errorf("--%s: %v", fd.flag, err))
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
			return "", config.Profile{}, UsageErrorf(err)
		}
		_ = p.Set(fd.key, nv)
	}
	return name, p, nil
}
