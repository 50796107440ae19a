package emulators

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ccx-cli/ccx/internal/ui"
)

// WriteList prints the providers for a reader (`ccx provider list`).
func WriteList(w io.Writer, st ui.Styles, infos []Info) {
	for _, i := range infos {
		creds := make([]string, len(i.Credentials))
		for n, k := range i.Credentials {
			creds[n] = k
			if i.Secret[k] {
				creds[n] += "*"
			}
		}
		receipts := "none"
		if i.Receipts {
			receipts = "yes"
		}
		fmt.Fprintf(w, "%s\n  credentials  %s\n  receipts     %s\n  webhooks     %s\n", st.Bold.Render(i.Name), strings.Join(creds, " "), receipts, strings.Join(i.Webhooks, " "))
		natives := make([]string, 0, len(i.NativeTypes))
		for _, n := range i.NativeTypes {
			natives = append(natives, n.Name)
		}
		sort.Strings(natives)
		if len(natives) == 0 {
			natives = []string{"none"}
		}
		fmt.Fprintf(w, "  natives      %s\n", strings.Join(natives, " "))
	}
}
