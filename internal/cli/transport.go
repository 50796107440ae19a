package cli

import (
	"github.com/ccx-cli/ccx/internal/transport"
	"github.com/spf13/pflag"
)

// transportFlags are --header, --insecure and --cacert, on the commands
// that call the user's server.
type transportFlags struct {
	headers  []string
	insecure bool
	cacert   string
}

func (t *transportFlags) add(fl *pflag.FlagSet, what string) {
	fl.StringArrayVarP(&t.headers, "header", "H", nil, "extra header on "+what+", NAME:VALUE (repeatable)")
	fl.BoolVar(&t.insecure, "insecure", false, "do not verify the TLS certificate of "+what+" (warns)")
	fl.StringVar(&t.cacert, "cacert", "", "PEM file of CA certificates to trust for "+what+", besides the system's")
}

// options are the transport for f's streams and --verbose, secrets redacted.
func (t *transportFlags) options(f *Factory, secrets ...string) transport.Options {
	o := transport.Options{Headers: t.headers, Insecure: t.insecure, CACert: t.cacert, Secrets: secrets, Warn: f.IO.ErrOut}
	if f.Verbose {
		o.Verbose = f.IO.ErrOut
	}
	return o
}
