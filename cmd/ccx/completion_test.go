package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBashCompletionScript loads the committed completions/ccx.bash into a
// real bash with bash-completion and asks it what Tab offers. Skipped where
// bash-completion is not installed, and failed then when CI is set
// (.ci/run installs it with .ci/install-bash-completion.sh).
func TestBashCompletionScript(t *testing.T) {
	const bc = "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(bc); err != nil {
		msg := "bash-completion not installed: run .ci/install-bash-completion.sh (apt-get install bash-completion)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte("active = \"prod\"\n[profiles.prod]\nchannel_id = \"p\"\n[profiles.staging]\nchannel_id = \"s\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	script := `source ` + bc + `
source "$CCX_REPO/completions/ccx.bash"
comp() {
  COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
  read -ra COMP_WORDS <<<"$1"; [[ "$1" == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]}-1)); COMPREPLY=()
  __start_ccx ccx "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}" 2>/dev/null
  echo "$1=> ${COMPREPLY[*]}"
}
comp "ccx send attachment u --kind "
comp "ccx config use "
comp "ccx --profile "
comp "ccx send receipt m --status "
comp "ccx emul"
`
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append(os.Environ(), "CCX_CONFIG="+cfg, "CCX_REPO="+repoRoot(), "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	for _, want := range []string{
		"ccx send attachment u --kind => image video audio file",
		"ccx config use => prod staging",
		"ccx --profile => prod staging",
		"ccx send receipt m --status => sent delivered read failed",
		"ccx emul=> emulate",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("want %q in\n%s", want, out)
		}
	}
}
