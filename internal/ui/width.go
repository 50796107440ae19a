package ui

import (
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"golang.org/x/term"
)

// terminalWidth is the width of the terminal on f: its size, else
// $COLUMNS, else 80. Only asked when f is a terminal.
func terminalWidth(f *os.File, getenv func(string) string) int {
	if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
		return w
	}
	if n, err := strconv.Atoi(getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 80
}

// Width is how many columns stdout's lines may take: the terminal's width,
// or 0 (no limit) when stdout is not a terminal, so that piped and --json
// output never depends on the window.
func (s *IOStreams) Width() int {
	if !s.stdoutTTY {
		return 0
	}
	return s.width
}

// SetWidth sets the terminal width (tests, with SetStdoutTTY).
func (s *IOStreams) SetWidth(n int) { s.width = n }

// Wrap folds s (which may hold ANSI styles) onto lines of at most width
// columns, breaking at spaces where it can; every line after the first is
// indented by indent spaces (a hanging indent), and so are the lines of a
// multi-line s. width ≤ 0, or too small to leave 20 columns, leaves s as is.
// A trailing newline is kept.
func Wrap(s string, width, indent int) string {
	if width <= 0 || width-indent < 20 {
		return s
	}
	nl := strings.HasSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\n")
	pad := strings.Repeat(" ", indent)
	var b strings.Builder
	for i, line := range strings.Split(s, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		if ansi.StringWidth(line) <= width {
			b.WriteString(line)
			continue
		}
		// The first piece keeps the line's own start; the rest is wrapped
		// to the width the indent leaves.
		head, _, _ := strings.Cut(ansi.Wrap(line, width, ""), "\n")
		b.WriteString(strings.TrimRight(head, " "))
		rest := restOf(line, head)
		if ansi.Strip(rest) == "" {
			continue
		}
		for _, l := range strings.Split(ansi.Wrap(rest, width-indent, ""), "\n") {
			b.WriteByte('\n')
			b.WriteString(pad)
			b.WriteString(strings.Trim(l, " "))
		}
	}
	if nl {
		b.WriteByte('\n')
	}
	return b.String()
}

// restOf is line after its first wrapped piece head (styles kept: ansi.Cut
// counts cells, not bytes).
func restOf(line, head string) string {
	return strings.TrimLeft(ansi.Cut(line, ansi.StringWidth(head), ansi.StringWidth(line)), " ")
}

// Plural is "1 warning", "2 warnings": n and the noun, plural by adding "s"
// unless a plural form is given ("1 reply", "3 replies").
func Plural(n int, singular string, plural ...string) string {
	word := singular
	if n != 1 {
		if len(plural) > 0 {
			word = plural[0]
		} else {
			word = singular + "s"
		}
	}
	return strconv.Itoa(n) + " " + word
}

// Table is rows of cells (which may hold ANSI styles) printed in aligned
// columns one space apart, each row indented by Indent spaces.
type Table struct {
	Indent int
	// MinWidths are columns' least widths (the rest are as wide as their
	// widest cell); the last column is never padded.
	MinWidths []int
	Rows      [][]string
}

// Row adds a row.
func (t *Table) Row(cells ...string) { t.Rows = append(t.Rows, cells) }

// Render lays the table out: columns padded to their widest cell. When that
// is wider than width (width ≤ 0: not a terminal, no limit) the last column's
// cells are wrapped (x/ansi, styles kept) and go on under their own column, a
// hanging indent. (lipgloss v1.1.0's table drops the last wrapped line of its
// last row, so it is not used here.)
func (t *Table) Render(width int) string {
	widths := t.widths()
	if len(widths) == 0 {
		return ""
	}
	lead := t.Indent
	for _, w := range widths[:len(widths)-1] {
		lead += w + 1
	}
	if width > 0 && width-lead < 20 {
		width = 0 // too narrow to wrap into: leave the lines long
	}
	var b strings.Builder
	pad := strings.Repeat(" ", t.Indent)
	for _, r := range t.Rows {
		b.WriteString(pad)
		for i, c := range r {
			if i > 0 {
				b.WriteByte(' ')
			}
			if i < len(r)-1 {
				b.WriteString(c)
				b.WriteString(strings.Repeat(" ", widths[i]-ansi.StringWidth(c)))
				continue
			}
			if width <= 0 || lead+ansi.StringWidth(c) <= width {
				b.WriteString(c)
				continue
			}
			for j, l := range strings.Split(ansi.Wrap(c, width-lead, ""), "\n") {
				if j > 0 {
					b.WriteByte('\n')
					b.WriteString(strings.Repeat(" ", lead))
				}
				b.WriteString(strings.Trim(l, " "))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func (t *Table) widths() []int {
	var w []int
	for _, r := range t.Rows {
		for i, c := range r {
			if i >= len(w) {
				w = append(w, 0)
			}
			if n := ansi.StringWidth(c); n > w[i] {
				w[i] = n
			}
		}
	}
	for i, m := range t.MinWidths {
		if i < len(w) && m > w[i] {
			w[i] = m
		}
	}
	return w
}

// WrapLines returns a writer that passes each complete line written to it
// through Wrap before w; width ≤ 0 returns w itself (not a terminal). A
// line's end is written when it arrives, so lines are never held back, but
// a line written in pieces is wrapped piece by piece.
func WrapLines(w io.Writer, width, indent int) io.Writer {
	if width <= 0 {
		return w
	}
	return &lineWrapper{w: w, width: width, indent: indent}
}

type lineWrapper struct {
	w             io.Writer
	width, indent int
}

func (l *lineWrapper) Write(p []byte) (int, error) {
	if _, err := io.WriteString(l.w, Wrap(string(p), l.width, l.indent)); err != nil {
		return 0, err
	}
	return len(p), nil
}
