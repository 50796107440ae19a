package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestScriptsUseFreePorts: a server a script starts in the background binds
// only ports the script chose with freeport. testscript runs scripts in
// parallel and the machine is shared, so a default port (listen/relay 3030,
// emulate 4747, provider serve 3040, the relay's admin 3031) makes a run
// fail when another process holds it.
func TestScriptsUseFreePorts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot(), "testdata", "script", "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	server := regexp.MustCompile(`^exec ccx (listen|emulate|relay|provider serve)\b.*&\w*&\s*$`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			m := server.FindStringSubmatch(strings.TrimSpace(line))
			if m == nil {
				continue
			}
			where := filepath.Base(f) + ":" + strconv.Itoa(i+1)
			if !strings.Contains(line, "--port $") {
				t.Errorf("%s: %s runs on its default port; give it --port $VAR from freeport", where, m[1])
			}
			if m[1] == "relay" && !strings.Contains(line, "--admin-addr") {
				t.Errorf("%s: ccx relay binds the admin address 127.0.0.1:3031 by default; add --admin-addr off (or 127.0.0.1:$VAR)", where)
			}
		}
	}
}
