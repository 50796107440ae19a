package cli

import (
	"fmt"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/spf13/cobra"
)

// MessageCommands returns one subcommand per message type (text, attachment,
// location, quick-reply, custom-payload), all with the same arguments and
// flags wherever they are used (send, trigger, emulate send). Each builds the
// message through the wire model and hands it to run. verb is used in help
// ("Send", "Trigger", ...), example is the parent's command path.
func MessageCommands(verb, example string, run func(cmd *cobra.Command, m channel.Message) error) []*cobra.Command {
	text := &cobra.Command{
		Use:   "text TEXT",
		Short: verb + " a text message",
		Long: `A text message: {"type":"text","text":TEXT}, non-empty UTF-8; quote it for your
shell. The platform's documentation gives no maximum length; known integration
servers cap it at 7,000 characters.`,
		Example: fmt.Sprintf("  %s text \"Hello World\"", example),
		Args:    exactArgs(1, "TEXT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, channel.Text(args[0]))
		},
	}

	var kind, mime, fileName, description string
	attachment := &cobra.Command{
		Use:   "attachment URL",
		Short: verb + " an attachment (image, video, audio or file) by public URL",
		Long: `The attachment is a public http(s) URL that the other side downloads, more
than once, so it must stay reachable and be served with Content-Disposition: inline.
Without --kind the kind is picked from --mime (image/*, video/*, audio/*, else file).`,
		Example: fmt.Sprintf("  %s attachment https://example.com/cat.jpg --kind image --mime image/jpeg\n  %s attachment https://example.com/a.pdf --kind file --file-name a.pdf", example, example),
		Args:    exactArgs(1, "URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			k := channel.AttachmentKind(kind)
			if kind == "" {
				k = channel.KindForMIME(mime)
			} else if !oneOf(k, channel.AttachmentKinds) {
				return UsageErrorf(fmt.Errorf("invalid --kind %q: use image, video, audio or file", kind))
			}
			return run(cmd, channel.NewAttachment(k, args[0], mime, fileName, description))
		},
	}
	af := attachment.Flags()
	af.StringVar(&kind, "kind", "", "attachment kind: image|video|audio|file (default: from --mime)")
	af.StringVar(&mime, "mime", "", "MIME type, e.g. image/jpeg")
	af.StringVar(&fileName, "file-name", "", "file name shown to the reader")
	af.StringVar(&description, "description", "", "caption-like description")
	_ = attachment.RegisterFlagCompletionFunc("kind", fixedCompletion(channel.AttachmentKinds))
	_ = attachment.RegisterFlagCompletionFunc("mime", fixedCompletion(commonMIMETypes))

	var address string
	location := &cobra.Command{
		Use:   "location LAT LNG",
		Short: verb + " a location (WGS-84 degrees)",
		Long: `A location: latitude LAT in [-90, 90] and longitude LNG in [-180, 180], in
decimal WGS-84 degrees, with an optional --address. Negative numbers are read as
coordinates, not flags (location -33.8568 151.2153).`,
		Example: fmt.Sprintf("  %s location 3.139003 101.686855 --address \"Kuala Lumpur, Malaysia\"", example),
		Args:    exactArgs(2, "LAT LNG"),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := channel.ParseLocation(args[0], args[1], address)
			if err != nil {
				return UsageErrorf(err)
			}
			return run(cmd, m)
		},
	}
	location.Flags().StringVar(&address, "address", "", "human-readable address")

	var replies []string
	quick := &cobra.Command{
		Use:   "quick-reply TITLE --reply A --reply B ...",
		Short: verb + " a quick reply: a prompt with reply options",
		Long: `A quick reply: the prompt TITLE and one --reply per option the reader can tap.
Give at least one --reply; each becomes a text reply option.`,
		Example: fmt.Sprintf("  %s quick-reply \"How would you rate us?\" --reply Good --reply Okay --reply Bad", example),
		Args:    exactArgs(1, "TITLE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(replies) == 0 {
				return UsageErrorf(fmt.Errorf("quick-reply needs at least one --reply"))
			}
			return run(cmd, channel.QuickReply(args[0], replies...))
		},
	}
	quick.Flags().StringArrayVar(&replies, "reply", nil, "a reply option (repeat for each)")

	custom := &cobra.Command{
		Use:   "custom-payload JSON",
		Short: verb + " a custom_payload message (unverified for Custom Channels)",
		Long: `custom_payload passes any JSON object through. It exists in the platform's
Developer API, but no Custom Channel documentation mentions it: treat it as unverified.`,
		Example: fmt.Sprintf("  %s custom-payload '{\"card\":{\"title\":\"Hi\"}}'", example),
		Args:    exactArgs(1, "JSON"),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := channel.ParseCustomPayload(args[0])
			if err != nil {
				return UsageErrorf(err)
			}
			return run(cmd, m)
		},
	}
	return []*cobra.Command{text, attachment, location, quick, custom}
}

// exactArgs is cobra.ExactArgs with a usage error (exit 2) naming the arguments.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageHelp(cmd.CommandPath(), fmt.Errorf("%s takes %s: %s (got %d)", cmd.CommandPath(), ui.Plural(n, "argument"), names, len(args)))
		}
		return nil
	}
}

func oneOf[T comparable](v T, set []T) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

// commonMIMETypes are offered for --mime (any type is accepted).
var commonMIMETypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4", "audio/mpeg", "audio/ogg", "application/pdf"}

// fixedCompletion completes a flag from a fixed set of values.
func fixedCompletion[T ~string](values []T) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		out := make([]string, len(values))
		for i, v := range values {
			out[i] = string(v)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
