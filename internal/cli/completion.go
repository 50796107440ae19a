package cli

import (
	"errors"
	"fmt"

	"github.com/ccx-cli/ccx/internal/config"
	"strings"

	"github.com/spf13/cobra"
)

// completionHelp replaces cobra's generic install notes with ones that are
// right for ccx: per-user paths that need no root and no Homebrew, the
// system paths package managers use, and the copies shipped in the archives.
var completionHelp = map[string]struct{ long, example string }{
	"": {
		long: `Print a shell completion script for ccx on stdout.

Completions cover commands, flags, flag values that are enums (--kind, --status,
--id-type, check's --only/--skip, ...) and profile names from your config file
(--profile, ccx config use/delete). They call ccx at completion time, so they stay
right when ccx is upgraded. Release archives also ship ready-made scripts in
completions/ (ccx.bash, _ccx, ccx.fish, ccx.ps1).

Run 'ccx completion SHELL --help' for how to install each one.`,
		example: `  source <(ccx completion bash)
  ccx completion zsh > ~/.zsh/completions/_ccx
  ccx completion fish > ~/.config/fish/completions/ccx.fish`,
	},
	"bash": {
		long: `Print the bash completion script. It needs the bash-completion package (version 2),
which most Linux distributions install by default (macOS: brew install bash-completion@2).

Try it in the current shell:

    source <(ccx completion bash)

Install it for your user (no root needed; bash-completion loads it on first use):

    mkdir -p ~/.local/share/bash-completion/completions
    ccx completion bash > ~/.local/share/bash-completion/completions/ccx

Or system-wide on Linux:

    ccx completion bash | sudo tee /usr/share/bash-completion/completions/ccx >/dev/null

With Homebrew on macOS:

    ccx completion bash > "$(brew --prefix)/etc/bash_completion.d/ccx"

Start a new shell afterwards.`,
		example: `  source <(ccx completion bash)
  ccx completion bash > ~/.local/share/bash-completion/completions/ccx`,
	},
	"zsh": {
		long: `Print the zsh completion script.

Try it in the current shell (compinit must have run):

    autoload -U compinit && compinit
    source <(ccx completion zsh)

Install it for your user: put it in a directory on $fpath, before compinit runs:

    mkdir -p ~/.zsh/completions
    ccx completion zsh > ~/.zsh/completions/_ccx
    # in ~/.zshrc, before 'autoload -U compinit && compinit':
    fpath=(~/.zsh/completions $fpath)

System-wide on Linux (Debian/Ubuntu path; others use their site-functions directory):

    ccx completion zsh | sudo tee /usr/local/share/zsh/site-functions/_ccx >/dev/null

With Homebrew on macOS:

    ccx completion zsh > "$(brew --prefix)/share/zsh/site-functions/_ccx"

Start a new shell afterwards (if completions do not appear, rm -f ~/.zcompdump*).`,
		example: `  ccx completion zsh > ~/.zsh/completions/_ccx`,
	},
	"fish": {
		long: `Print the fish completion script.

Try it in the current shell:

    ccx completion fish | source

Install it for your user (fish loads it automatically):

    mkdir -p ~/.config/fish/completions
    ccx completion fish > ~/.config/fish/completions/ccx.fish`,
		example: `  ccx completion fish > ~/.config/fish/completions/ccx.fish`,
	},
	"powershell": {
		long: `Print the PowerShell completion script.

Try it in the current session:

    ccx completion powershell | Out-String | Invoke-Expression

Install it for every session: add that line to your profile (the file $PROFILE
names), or save the script and dot-source it from the profile:

    ccx completion powershell > ccx.ps1
    # in $PROFILE:
    . /path/to/ccx.ps1`,
		example: `  ccx completion powershell | Out-String | Invoke-Expression`,
	},
}

// tuneCompletionCmd applies completionHelp to the command cobra created with
// InitDefaultCompletionCmd.
func tuneCompletionCmd(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		apply := func(c *cobra.Command, key string) {
			if h, ok := completionHelp[key]; ok {
				c.Long, c.Example = h.long, h.example
			}
		}
		apply(c, "")
		// Runnable, so a missing or mistyped shell is a usage error (exit 2,
		// with a suggestion) rather than the help page and exit 0.
		c.RunE = func(cmd *cobra.Command, args []string) error {
			return usageHelp("ccx completion", errors.New("completion needs a shell: bash, zsh, fish or powershell"))
		}
		for _, sub := range c.Commands() {
			apply(sub, sub.Name())
		}
	}
}

// unknownCommandPrefix is how cobra reports an unknown subcommand:
// `unknown command "txt" for "ccx send"`.
const unknownCommandPrefix = "unknown command "

// withSuggestions adds "Did you mean this?" to an unknown-subcommand error.
// cobra suggests only where a command has no Args validator of its own; ccx's
// parent commands (send, config, ...) are runnable with cobra.NoArgs, whose
// error carries no suggestion, so it is added here for every level.
func withSuggestions(root *cobra.Command, err error) error {
	msg := err.Error()
	if !strings.HasPrefix(msg, unknownCommandPrefix) || strings.Contains(msg, "Did you mean") {
		return err
	}
	var typo, path string
	if _, e := fmtSscanQuoted(msg[len(unknownCommandPrefix):], &typo, &path); e != nil {
		return err
	}
	parent, _, ferr := root.Find(strings.Fields(path)[1:])
	if ferr != nil || parent == nil {
		parent = root
	}
	if parent.SuggestionsMinimumDistance <= 0 {
		parent.SuggestionsMinimumDistance = 2 // cobra's default, set only on its own path
	}
	var hint strings.Builder
	hint.WriteString(msg)
	if s := parent.SuggestionsFor(typo); len(s) > 0 {
		hint.WriteString("\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t") + "\n")
	}
	hint.WriteString("\nRun '" + parent.CommandPath() + " --help' for usage.")
	return UsageErrorf(errorString(hint.String()))
}

type errorString string

func (e errorString) Error() string { return string(e) }

// fmtSscanQuoted reads `"a" for "b"`.
func fmtSscanQuoted(s string, a, b *string) (int, error) {
	parts := strings.SplitN(s, `" for "`, 2)
	if len(parts) != 2 || !strings.HasPrefix(parts[0], `"`) || !strings.HasSuffix(parts[1], `"`) {
		return 0, errorString("not an unknown-command error")
	}
	*a = strings.TrimPrefix(parts[0], `"`)
	*b = strings.TrimSuffix(parts[1], `"`)
	return 2, nil
}

// authHint tells the user how to fix a 401/403: which token ccx used and
// where it comes from. Printed on stderr, after the command's own report.
func authHint(f *Factory, what string) {
	fmt.Fprintf(f.IO.ErrOut, "hint: %s (401/403). Check that it matches the token your server expects: --token, %s, or the profile (`ccx config get api_token --show-token`, `ccx config set api_token -`; see `ccx config`).\n", what, config.EnvVars["api_token"])
}

// replyStatuses are the statuses worth scripting a /message reply with.
var replyStatuses = []string{"200", "400", "401", "403", "404", "413", "429", "500", "502", "503"}

// noColorArg reports whether --no-color was given, for errors raised before
// cobra parsed the flags.
func noColorArg(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--no-color" || a == "--no-color=true" {
			return true
		}
	}
	return false
}

// listCompletion completes a comma-separated list flag (--only a,b): the
// values not yet given, each prefixed with what is already typed.
func listCompletion(values []string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		prefix := ""
		if i := strings.LastIndex(toComplete, ","); i >= 0 {
			prefix = toComplete[:i+1]
		}
		given := map[string]bool{}
		for _, v := range strings.Split(prefix, ",") {
			given[v] = true
		}
		var out []string
		for _, v := range values {
			if !given[v] {
				out = append(out, prefix+v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
}
