package report

import (
	"fmt"
	"strconv"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/ui"
	"github.com/ccx-cli/ccx/internal/validate"
)

type idVerdict struct {
	Value    string             `json:"value"`
	Type     string             `json:"type"`
	Valid    bool               `json:"valid"`
	Findings []validate.Finding `json:"findings"`
}

// IDs prints a verdict per contact ID (--json: one object each) and says
// how many were invalid; a non-nil error is a failed write.
func IDs(io *ui.IOStreams, values []string, t channel.IDType, asJSON bool) (bad int, err error) {
	st := io.Styles(io.Out)
	typ := string(t)
	if typ == "" {
		typ = "any"
	}
	for _, v := range values {
		fs := validate.ID(v, t)
		if fs == nil {
			fs = []validate.Finding{}
		} else {
			bad++
		}
		if asJSON {
			if err := ui.WriteJSON(io.Out, idVerdict{Value: v, Type: typ, Valid: len(fs) == 0, Findings: fs}); err != nil {
				return bad, err
			}
			continue
		}
		if len(fs) == 0 {
			fmt.Fprintf(io.Out, "%s %s: valid %s contact ID\n", st.OK.Render("✓"), strconv.Quote(v), typ)
			continue
		}
		for _, f := range fs {
			fmt.Fprintf(io.Out, "%s %s: %s [%s] at character %d: %s\n", st.Error.Render("✗"), strconv.Quote(v), st.Error.Render("invalid"), f.Rule, f.Column, f.Message)
		}
	}
	if t == "" && !asJSON {
		fmt.Fprintln(io.ErrOut, "note: no ID type (--type, CCX_ID_TYPE or the profile's id_type): checked against both types (a value must fit one); --type narrows it")
	}
	return bad, nil
}
