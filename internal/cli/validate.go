package cli

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/ccx-cli/ccx/internal/validate/report"
	"github.com/spf13/cobra"
)

// Output formats of `ccx validate`.
const (
	outputText   = report.Text
	outputJSON   = report.JSON
	outputGitHub = report.GitHub
)

var validateOutputs = []string{outputText, outputJSON, outputGitHub}

// ValidateOptions are the flags and arguments of `ccx validate`.
type ValidateOptions = report.Options

func newValidateCmd(f *Factory, runF func(context.Context, *ValidateOptions) error) *cobra.Command {
	opts := &ValidateOptions{IO: f.IO}
	var kind, idType, output string
	var ignore []string
	cmd := &cobra.Command{
		Use:   "validate [FILE|DIR|-]...",
		Short: "Check webhook bodies, /message bodies and /message replies against the Custom Channel spec",
		Long: `Validate Custom Channel payloads: the webhook bodies your integration server POSTs to
IS-Messenger, the /message bodies the platform sends you, and your /message replies.

Inputs are files, directories (searched for *.json, *.ndjson and *.jsonl, in name
order, skipping hidden directories and, with a note, anything that is not a
regular file, such as a FIFO) or - for stdin (the default). Each input may hold one JSON document, a JSON
array of payloads, or NDJSON (one payload per line); the layout is detected.
The payload kind is detected from its keys unless --kind is given.

Every finding has a severity, a JSON path, the line:column in the input, a stable
rule id and a message (see docs/validate.md for the rule list). Warnings do not
fail the run unless --strict is given.

The ID type (--id-type) and the expected channel (--channel-id) fall back to
CCX_ID_TYPE / CCX_CHANNEL_ID and the active profile's id_type / channel_id.

--fetch-media also fetches each attachment URL's headers (HEAD, else a one-byte
GET; 5 s each; http(s) only) and warns (media-unreachable, media-status,
media-disposition, media-content-type) where the platform could not show it.
It is off by default: it needs the network.

--ignore RULE leaves a rule's findings out (they neither print nor count);
--ignore mid-duplicate also skips the index of mIds that check keeps (about
20 MB a million mIds). Rules that stop a payload from being read (json-syntax,
json-encoding, json-depth, json-too-large, kind-unknown) cannot be ignored.

Exit status: 0 all payloads valid; 1 a payload has an error (or a warning with
--strict); 2 usage error; 3 an input could not be read (the other inputs are
still validated, and 3 wins over 1).`,
		Example: `  # Validate the sample webhook bodies
  ccx validate testdata/valid/webhook/

  # Phone-number contact IDs, warnings fail too
  ccx validate --id-type phone --strict testdata/valid/webhook/message--text.json

  # NDJSON from stdin, one JSON result per payload
  cat testdata/ndjson/valid.ndjson | ccx validate - --output json

  # A reply your /message handler returned with HTTP 400
  ccx validate --kind reply --status 400 testdata/valid/reply/400--error.json

  # GitHub Actions annotations
  ccx validate --output github testdata/valid/

  # A million-line export: skip the repeated-mId check and its memory
  ccx validate --ignore mid-duplicate --jobs 1 testdata/ndjson/valid.ndjson`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Inputs = args
			if len(args) == 0 && f.IO.IsStdinTTY() {
				return usageHelp(cmd.CommandPath(), errors.New("nothing to validate: give FILE, DIR or - (stdin is a terminal)"))
			}
			switch kind {
			case "", "auto":
			default:
				if !oneOf(validate.Kind(kind), validate.Kinds) {
					return UsageErrorf(fmt.Errorf("unknown --kind %q: use webhook, message or reply", kind))
				}
				opts.Kind = validate.Kind(kind)
			}
			switch {
			case output == "" && f.JSON:
				opts.Output = outputJSON
			case output == "":
				opts.Output = outputText
			case !oneOf(output, validateOutputs):
				return UsageErrorf(fmt.Errorf("unknown --output %q: use text, json or github", output))
			case f.JSON && output != outputJSON:
				return UsageErrorf(fmt.Errorf("--json conflicts with --output %s", output))
			default:
				opts.Output = output
			}
			if opts.Status != 0 && opts.Status < 100 {
				return UsageErrorf(fmt.Errorf("invalid --status %d: use an HTTP status, 100-599 (0 infers it from the body)", opts.Status))
			}
			if opts.Jobs == 0 {
				opts.Jobs = runtime.GOMAXPROCS(0)
			}
			ig, err := validate.ParseIgnore(ignore)
			if err != nil {
				return UsageErrorf(fmt.Errorf("--ignore: %w", err))
			}
			opts.Ignore = ig
			settings, err := f.Settings(config.Profile{IDType: idType, ChannelID: opts.Channel})
			if err != nil {
				return err
			}
			if settings.IDType != "" {
				t, err := channel.ParseIDType(settings.IDType)
				if err != nil {
					where := "--id-type"
					if idType == "" {
						where = "id_type (from CCX_ID_TYPE or the profile)"
					}
					return UsageErrorf(fmt.Errorf("%s: %w", where, err))
				}
				opts.IDType = t
			}
			opts.Channel = settings.ChannelID
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runValidate(cmd.Context(), opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&kind, "kind", "", "payload kind: webhook, message or reply (default: detect)")
	fl.StringVar(&idType, "id-type", "", "contact ID type: phone or custom (default: the profile's id_type)")
	fl.StringVar(&opts.Channel, "channel-id", "", "expected channelId (default: the profile's channel_id)")
	fl.IntVar(&opts.Status, "status", 0, "HTTP status the reply payloads came with (default: inferred from the body)")
	fl.IntVar(&opts.Limit, "text-limit", channel.TextWarnLen, "warn when a text is longer than this many characters")
	fl.BoolVar(&opts.Strict, "strict", false, "treat warnings as failures (exit 1)")
	fl.StringVarP(&output, "output", "o", "", "output format: text, json (NDJSON, one line per payload) or github")
	fl.BoolVarP(&opts.Quiet, "quiet", "q", false, "print only failing findings and no summary")
	fl.BoolVar(&opts.FetchMedia, "fetch-media", false, "fetch each attachment URL's headers and warn when the platform could not show it (needs the network)")
	fl.StringSliceVar(&ignore, "ignore", nil, "leave out the findings of these rule ids (repeatable or comma-separated); --ignore mid-duplicate also saves its memory")
	_ = cmd.RegisterFlagCompletionFunc("ignore", fixedCompletion(validate.RuleIDs()))
	fl.IntVarP(&opts.Jobs, "jobs", "j", 0, "validate NDJSON lines and array elements on N workers (0: one per CPU; 1: sequential)")
	_ = cmd.RegisterFlagCompletionFunc("kind", fixedCompletion(validate.Kinds))
	_ = cmd.RegisterFlagCompletionFunc("id-type", fixedCompletion(channel.IDTypes))
	_ = cmd.RegisterFlagCompletionFunc("output", fixedCompletion(validateOutputs))
	_ = cmd.RegisterFlagCompletionFunc("status", fixedCompletion(replyStatuses))
	limitFlag(fl, "status", 0, 599, "an HTTP status, 100-599 (0 infers it from the body)")
	limitFlag(fl, "text-limit", 0, noMax, "0 or a positive number of characters")
	limitFlag(fl, "jobs", 0, 1024, "0 (one per CPU) to 1024")
	cmd.AddCommand(newValidateIDCmd(f))
	return cmd
}

// ---- validate id -----------------------------------------------------------

// ValidateIDOptions are the flags and arguments of `ccx validate id`.
type ValidateIDOptions struct {
	IO     *ui.IOStreams
	Values []string
	IDType channel.IDType
	JSON   bool
}

func newValidateIDCmd(f *Factory) *cobra.Command {
	opts := &ValidateIDOptions{IO: f.IO}
	var idType string
	cmd := &cobra.Command{
		Use:   "id VALUE...",
		Short: "Check contact IDs against the channel's ID type",
		Long: `Check one or more contact IDs against the Custom Channel ID rules:

  phone   E.164 with a leading +: + then 7 to 15 digits, no leading 0
  custom  1 to 50 characters from A-Z a-z 0-9 _ = + / @

Without --type (and without CCX_ID_TYPE or a profile id_type) a value must fit
one of the two (in effect the custom alphabet, which holds every E.164 number).
One verdict per value; exit 1 if any value is invalid. To validate a file that
is literally named "id", write ./id.`,
		Example: `  ccx validate id +60177872890 --type phone
  ccx validate id user_123 alice@example --type custom --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageHelp(cmd.CommandPath(), fmt.Errorf("%s needs at least one VALUE", cmd.CommandPath()))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Values, opts.JSON = args, f.JSON
			settings, err := f.Settings(config.Profile{IDType: idType})
			if err != nil {
				return err
			}
			if settings.IDType != "" {
				t, err := channel.ParseIDType(settings.IDType)
				if err != nil {
					return UsageErrorf(fmt.Errorf("--type: %w", err))
				}
				opts.IDType = t
			}
			return runValidateID(opts)
		},
	}
	cmd.Flags().StringVar(&idType, "type", "", "ID type: phone or custom (default: the profile's id_type)")
	_ = cmd.RegisterFlagCompletionFunc("type", fixedCompletion(channel.IDTypes))
	return cmd
}

// runValidate maps the outcome to the exit code (3 unreadable > 1 invalid > 0).
func runValidate(ctx context.Context, opts *ValidateOptions) error {
	t, err := report.Run(ctx, opts)
	switch {
	case err != nil:
		return err
	case t.Unreadable > 0:
		return Silent(ExitIO)
	case t.Invalid > 0:
		return Silent(ExitFailure)
	}
	return nil
}

func runValidateID(opts *ValidateIDOptions) error {
	bad, err := report.IDs(opts.IO, opts.Values, opts.IDType, opts.JSON)
	switch {
	case err != nil:
		return Exit(ExitIO, err)
	case bad > 0:
		return Silent(ExitFailure)
	}
	return nil
}
