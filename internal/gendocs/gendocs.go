// Package gendocs writes the files generated from the command tree: shell
// completions, man pages and the Markdown command reference. `go generate
// ./...` runs it; a test (and `go run ./tools/gen -check`) fails when the
// committed copies are stale.
package gendocs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// manDate is fixed so generated pages do not change from run to run.
var manDate = time.Date(2026, time.November, 24, 0, 0, 0, 0, time.UTC)

// Dirs are the generated directories, relative to the repository root.
var Dirs = []string{"completions", "man/man1", "man/man7", "docs/reference"}

// Generate writes completions/, man/man1/, man/man7/ and docs/reference/ under dir.
func Generate(root *cobra.Command, dir string) error {
	disableAutoGenTag(root)
	for _, sub := range Dirs {
		p := filepath.Join(dir, sub)
		if err := os.RemoveAll(p); err != nil {
			return err
		}
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
	}
	if err := completions(root, filepath.Join(dir, "completions")); err != nil {
		return err
	}
	header := &doc.GenManHeader{Title: "CCX", Section: "1", Date: &manDate, Source: "ccx", Manual: "ccx manual"}
	if err := doc.GenManTree(root, header, filepath.Join(dir, "man/man1")); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	if err := doc.GenMarkdownTree(root, filepath.Join(dir, "docs/reference")); err != nil {
		return fmt.Errorf("markdown reference: %w", err)
	}
	// cobra skips help topics (not runnable, no subcommands) in both trees.
	topics := Topics(root)
	if err := topicPages(root, topics, dir); err != nil {
		return err
	}
	return nil
}

// Check regenerates into a temporary directory and lists the files under dir
// that differ from it, are missing, or are no longer generated.
func Check(root *cobra.Command, dir string) ([]string, error) {
	tmp, err := os.MkdirTemp("", "ccx-gendocs-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if err := Generate(root, tmp); err != nil {
		return nil, err
	}
	var stale []string
	for _, sub := range Dirs {
		want, err := readTree(filepath.Join(tmp, sub))
		if err != nil {
			return nil, err
		}
		got, err := readTree(filepath.Join(dir, sub))
		if err != nil {
			return nil, err
		}
		for name, w := range want {
			if g, ok := got[name]; !ok {
				stale = append(stale, sub+"/"+name+" (missing)")
			} else if g != w {
				stale = append(stale, sub+"/"+name+" (stale)")
			}
		}
		for name := range got {
			if _, ok := want[name]; !ok {
				stale = append(stale, sub+"/"+name+" (no longer generated)")
			}
		}
	}
	sort.Strings(stale)
	return stale, nil
}

func readTree(dir string) (map[string]string, error) {
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if os.IsNotExist(err) {
			return out, nil
		}
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out[e.Name()] = string(b)
	}
	return out, nil
}

// Topics returns the root's help topics (`ccx help NAME` pages that are not
// commands), sorted by name.
func Topics(root *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	for _, c := range root.Commands() {
		if c.IsAdditionalHelpTopicCommand() {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

func completions(root *cobra.Command, dir string) error {
	gens := map[string]func(*bytes.Buffer) error{
		"ccx.bash": func(b *bytes.Buffer) error { return root.GenBashCompletionV2(b, true) },
		"_ccx":     func(b *bytes.Buffer) error { return root.GenZshCompletion(b) },
		"ccx.fish": func(b *bytes.Buffer) error { return root.GenFishCompletion(b, true) },
		"ccx.ps1":  func(b *bytes.Buffer) error { return root.GenPowerShellCompletionWithDesc(b) },
	}
	for name, gen := range gens {
		var b bytes.Buffer
		if err := gen(&b); err != nil {
			return fmt.Errorf("completion %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func disableAutoGenTag(c *cobra.Command) {
	c.DisableAutoGenTag = true
	for _, sub := range c.Commands() {
		disableAutoGenTag(sub)
	}
}
