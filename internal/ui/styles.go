package ui

import (
	"io"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Styles are the few lipgloss styles ccx uses. With colour off every style
// renders plain text, so callers never branch on colour themselves.
type Styles struct {
	Error, Warning, OK, Info, Dim, Bold, Path lipgloss.Style
}

// Styles returns styles bound to w (normally s.Out or s.ErrOut).
func (s *IOStreams) Styles(w io.Writer) Styles {
	r := lipgloss.NewRenderer(w)
	if s.colorEnabled {
		r.SetColorProfile(termenv.ANSI256)
	} else {
		r.SetColorProfile(termenv.Ascii)
	}
	return Styles{
		Error:   r.NewStyle().Foreground(lipgloss.Color("9")).Bold(true),
		Warning: r.NewStyle().Foreground(lipgloss.Color("11")),
		OK:      r.NewStyle().Foreground(lipgloss.Color("10")),
		Info:    r.NewStyle().Foreground(lipgloss.Color("12")),
		Dim:     r.NewStyle().Foreground(lipgloss.Color("8")),
		Bold:    r.NewStyle().Bold(true),
		Path:    r.NewStyle().Foreground(lipgloss.Color("14")),
	}
}
