package cli

import (
	"fmt"
	"path"
	"runtime"
	"strings"

	"github.com/ccx-cli/ccx/internal/config"
	"github.com/ccx-cli/ccx/internal/ui"
)

// PanicEnv, when set, names an environment variable that makes Run panic on
// purpose. Only cmd/ccx's tests set it, so the crash path is tested in a
// real process while release binaries never read such a variable.
var PanicEnv string

// maxPanicFrames bounds the stack in the report: enough to locate the bug.
const maxPanicFrames = 12

// reportPanic prints a short crash report on stderr and returns ExitInternal.
// It shows the panic value (with known secrets redacted) and function names
// with file:line, never argument values, flags or the environment.
func reportPanic(f *Factory, args []string, v any) int {
	msg := fmt.Sprint(v)
	for _, s := range panicSecrets(f, args) {
		msg = ui.RedactIn(msg, s)
	}
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "ccx: internal error: %s\n", msg)
	fmt.Fprintf(&b, "This is a bug in ccx %s; please report it at https://github.com/ccx-cli/ccx/issues with this report.\n", versionString())
	pcs := make([]uintptr, 64)
	n := runtime.Callers(3, pcs) // skip Callers, reportPanic and the deferred func
	frames := runtime.CallersFrames(pcs[:n])
	shown := 0
	for shown < maxPanicFrames {
		fr, more := frames.Next()
		if !strings.HasPrefix(fr.Function, "runtime.") && fr.Function != "" {
			fmt.Fprintf(&b, "  %s (%s:%d)\n", trimModule(fr.Function), path.Base(path.Dir(fr.File))+"/"+path.Base(fr.File), fr.Line)
			shown++
		}
		if !more {
			break
		}
	}
	fmt.Fprint(f.IO.ErrOut, b.String())
	return ExitInternal
}

func trimModule(fn string) string {
	return strings.TrimPrefix(fn, "github.com/ccx-cli/ccx/")
}

// panicSecrets are the values a panic message might quote: the token from
// the environment, every profile's token, and the values of --token flags.
func panicSecrets(f *Factory, args []string) []string {
	var out []string
	if f.IO != nil {
		out = append(out, f.IO.Getenv(config.EnvVars["api_token"]))
	}
	if f.configFile != nil {
		for _, p := range f.configFile.Profiles {
			out = append(out, p.APIToken)
		}
	}
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--token="); ok {
			out = append(out, v)
		} else if a == "--token" && i+1 < len(args) {
			out = append(out, args[i+1])
		}
	}
	return ui.Redactable(out)
}
