package cli

import (
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

var negativeNumber = regexp.MustCompile(`^-[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$`)

// protectNegativeNumbers lets positional arguments be negative numbers
// (`ccx send location -33.86 151.21`), which pflag would take for shorthand
// flags. It rewrites args to: command path, flags (with their values), "--",
// positionals in their original order. Flag arity comes from the command's
// own flag set, so a negative flag value (`--rate -1`) stays a value.
func protectNegativeNumbers(root *cobra.Command, args []string) []string {
	hasNeg := false
	for _, a := range args {
		if a == "--" {
			break
		}
		if negativeNumber.MatchString(a) {
			hasNeg = true
		}
	}
	if !hasNeg {
		return args
	}
	cmd, _, err := root.Find(args)
	if err != nil || cmd == root {
		return args
	}
	depth := strings.Count(cmd.CommandPath(), " ")
	flags := cmd.Flags()
	flags.AddFlagSet(cmd.InheritedFlags())

	var path, opts, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case negativeNumber.MatchString(a) || !strings.HasPrefix(a, "-") || a == "-":
			if len(path) < depth && !negativeNumber.MatchString(a) {
				path = append(path, a)
			} else {
				pos = append(pos, a)
			}
		default:
			opts = append(opts, a)
			if takesValue(flags, a) && i+1 < len(args) {
				i++
				opts = append(opts, args[i])
			}
		}
	}
	out := append(append(path, opts...), "--")
	return append(out, pos...)
}

// takesValue reports whether flag token a ("--name" or "-n") consumes the next arg.
func takesValue(fs *pflag.FlagSet, a string) bool {
	if strings.Contains(a, "=") {
		return false
	}
	var f *pflag.Flag
	if strings.HasPrefix(a, "--") {
		f = fs.Lookup(a[2:])
	} else if len(a) == 2 {
		f = fs.ShorthandLookup(a[1:])
	}
	return f != nil && f.NoOptDefVal == ""
}
