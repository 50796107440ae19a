// Package report writes validation results: findings in text, JSON,
// GitHub annotations, and the summary of a run.
package report

import (
	"fmt"
	"io"

	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
)

// Findings writes one line per finding: "error path:line:col message [rule]".
func Findings(w io.Writer, st ui.Styles, fs []validate.Finding) {
	for _, fd := range fs {
		label := st.Warning.Render(string(fd.Severity))
		if fd.Severity == validate.Error {
			label = st.Error.Render(string(fd.Severity))
		}
		path := fd.Path
		if path == "" {
			path = "(payload)"
		}
		fmt.Fprintf(w, "%s %s:%d:%d %s [%s]\n", label, st.Path.Render(path), fd.Line, fd.Column, fd.Message, fd.Rule)
	}
}
