package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/schema"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/spf13/cobra"
)

// SchemaOptions are the flags of `ccx schema`.
type SchemaOptions struct {
	Kind   string // "" prints the all-kinds bundle
	IDType string // "" keeps the generic contactId rule
	Output string // write to this file instead of stdout
	Dir    string // write one KIND.schema.json per kind into this directory
}

func newSchemaCmd(f *Factory) *cobra.Command {
	opts := &SchemaOptions{}
	cmd := &cobra.Command{
		Use:   "schema [--kind webhook|message|reply]",
		Short: "Print JSON Schemas (draft 2020-12) for Custom Channel payloads",
		Long: `Print the JSON Schema (draft 2020-12) of a Custom Channel payload kind:

  webhook   the body your server POSTs to the IS-Messenger webhook
  message   the body IS-Messenger POSTs to <API base URL>/message
  reply     your /message answer: 200 {"mId": ...} or 4xx {"error": {"message": ...}}

Without --kind, one compound document holds all three under "$defs" (each with
its own "$id") and its root accepts any of them.

The schemas encode ccx validate's ERROR rules where JSON Schema can express
them (required fields, types, enums, mId/contactId length, millisecond
timestamps, coordinates, http(s) URLs, non-empty text and replies). Warnings
such as text over 7,000 characters, more than 10 quick replies or unknown
fields are not schema errors: the schemas allow additional properties. Checks
that need context (channel ID, HTTP status, JSON depth) stay in ccx validate.

--id-type phone|custom also checks contactId against that ID type's format. It
is not taken from the profile or CCX_ID_TYPE: a schema is a file you share, so
what it checks is spelled out on the command line.

A reply body's HTTP status is not in the body: the reply schema accepts either
shape, and "#/$defs/success" (2xx) and "#/$defs/failure" (4xx) check one.`,
		Example: `  # the webhook schema, for your editor or another language's validator
  ccx schema --kind webhook > webhook.schema.json

  # contactId must be E.164
  ccx schema --kind message --id-type phone

  # all kinds in one document; extract one with jq
  ccx schema | jq '."$defs".reply'

  # one KIND.schema.json per kind
  ccx schema --dir schemas/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSchema(f, opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Kind, "kind", "", "payload kind: webhook, message or reply (default: all in one document)")
	fl.StringVar(&opts.IDType, "id-type", "", "also check contactId against this ID type: phone or custom")
	fl.StringVarP(&opts.Output, "output", "o", "", "write the schema to `FILE` instead of stdout")
	fl.StringVar(&opts.Dir, "dir", "", "write KIND.schema.json files into `DIR` (created if missing)")
	_ = cmd.RegisterFlagCompletionFunc("kind", fixedCompletion(schema.Kinds))
	_ = cmd.RegisterFlagCompletionFunc("id-type", fixedCompletion(channel.IDTypes))
	return cmd
}

func runSchema(f *Factory, opts *SchemaOptions) error {
	if opts.Output != "" && opts.Dir != "" {
		return UsageErrorf(errors.New("--output and --dir cannot be used together"))
	}
	var idType channel.IDType
	if opts.IDType != "" {
		t, err := channel.ParseIDType(opts.IDType)
		if err != nil {
			return UsageErrorf(fmt.Errorf("--id-type: %w", err))
		}
		idType = t
	}
	kinds := schema.Kinds
	var kind validate.Kind
	if opts.Kind != "" {
		k, err := schema.ParseKind(opts.Kind)
		if err != nil {
			return UsageErrorf(fmt.Errorf("--kind: %w", err))
		}
		kind, kinds = k, []validate.Kind{k}
	}
	if opts.Dir != "" {
		var pe *fs.PathError
		if err := schema.WriteDir(opts.Dir, kinds, idType, f.IO.ErrOut); errors.As(err, &pe) {
			return Exit(ExitIO, err)
		} else if err != nil {
			return err
		}
		return nil
	}
	data, err := schema.Document(kind, idType)
	if err != nil {
		return err
	}
	if opts.Output != "" {
		if err := os.WriteFile(opts.Output, data, 0o644); err != nil {
			return Exit(ExitIO, err)
		}
		fmt.Fprintf(f.IO.ErrOut, "wrote %s\n", opts.Output)
		return nil
	}
	if _, err := f.IO.Out.Write(data); err != nil && !errors.Is(err, os.ErrClosed) {
		return Exit(ExitIO, err)
	}
	return nil
}
