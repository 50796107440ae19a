package gendocs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// topicPages gives each help topic a man page in section 7 (ccx-NAME.7) and
// a Markdown page (docs/reference/ccx_NAME.md), and folds the exit-codes and
// environment topics into ccx.1 as its EXIT STATUS and ENVIRONMENT sections,
// where man readers look for them.
func topicPages(root *cobra.Command, topics []*cobra.Command, dir string) error {
	var seeAlso []string
	var extra strings.Builder
	// man-pages(7) order: EXIT STATUS before ENVIRONMENT.
	for _, s := range []struct{ topic, section string }{{"exit-codes", "EXIT STATUS"}, {"environment", "ENVIRONMENT"}} {
		for _, t := range topics {
			if t.Name() == s.topic {
				fmt.Fprintf(&extra, ".SH %s\n%s\n\n", s.section, roffBlock(t.Long))
			}
		}
	}
	for _, t := range topics {
		page := "ccx-" + t.Name()
		seeAlso = append(seeAlso, `\fB`+page+`(7)\fP`)
		if err := os.WriteFile(filepath.Join(dir, "man/man7", page+".7"), []byte(manTopic(t)), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "docs/reference", "ccx_"+t.Name()+".md"), []byte(mdTopic(t)), 0o644); err != nil {
			return err
		}
	}
	if len(topics) == 0 {
		return nil
	}
	// ccx.1: add the sections before SEE ALSO and point at the topic pages.
	p := filepath.Join(dir, "man/man1", root.Name()+".1")
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	page := string(b)
	const marker = ".SH SEE ALSO\n"
	i := strings.Index(page, marker)
	if i < 0 {
		return fmt.Errorf("%s has no SEE ALSO section", p)
	}
	rest := strings.TrimRight(page[i+len(marker):], "\n")
	page = page[:i] + extra.String() + marker + rest + ", " + strings.Join(seeAlso, ", ") + "\n"
	return os.WriteFile(p, []byte(page), 0o644)
}

func manTopic(t *cobra.Command) string {
	name := "ccx-" + t.Name()
	return fmt.Sprintf(`.nh
.TH "CCX-%s" "7" "%s" "ccx" "ccx manual"

.SH NAME
%s \- %s

.SH DESCRIPTION
%s

.PP
Also shown by \fBccx help %s\fP.

.SH SEE ALSO
\fBccx(1)\fP
`, strings.ToUpper(t.Name()), manDate.Format("Jan 2006"), name, roffEscape(t.Short), roffBlock(t.Long), t.Name())
}

func mdTopic(t *cobra.Command) string {
	return fmt.Sprintf("## ccx %s\n\n%s\n\n```\n%s\n```\n\nAlso shown by `ccx help %s`.\n\n### SEE ALSO\n\n* [ccx](ccx.md)\t - %s\n",
		t.Name(), t.Short, t.Long, t.Name(), t.Root().Short)
}

// roffBlock renders text verbatim (no filling), so aligned tables survive.
func roffBlock(s string) string {
	var b strings.Builder
	b.WriteString(".nf\n")
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(roffEscape(line))
		b.WriteByte('\n')
	}
	b.WriteString(".fi")
	return b.String()
}

// roffEscape keeps backslashes, hyphens and leading dots/quotes literal.
func roffEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
