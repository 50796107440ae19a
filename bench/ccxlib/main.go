// Command ccxlib runs ccx's validator library (validate.Bytes) over an NDJSON
// corpus in one process, without the CLI's reading, NDJSON splitting and
// report printing. bench/validate.sh shows it next to `ccx validate` so that
// the cost of the command's I/O and output is visible.
//
//	go run ./bench/ccxlib corpus.ndjson
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"github.com/ccx-cli/ccx/internal/validate"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ccxlib CORPUS.ndjson")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	var valid, invalid, findings int
	opts := validate.Options{Kind: validate.KindWebhook}
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		rep := validate.Bytes(line, opts)
		findings += len(rep.Findings)
		if rep.HasErrors() {
			invalid++
		} else {
			valid++
		}
	}
	out, _ := json.Marshal(map[string]int{"valid": valid, "invalid": invalid, "findings": findings})
	fmt.Fprintln(os.Stderr, string(out))
}
