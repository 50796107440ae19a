// Command jsonschema is bench/validate.sh's baseline: it validates an NDJSON
// corpus against a ccx schema (`ccx schema --kind webhook`) with
// github.com/santhosh-tekuri/jsonschema/v6, decoding each line with the
// library's own decoder (jsonschema.UnmarshalJSON, json.Number for numbers),
// as ccx validate starts from the same bytes. It lives under bench/ so that
// the library never reaches the ccx binary.
//
//	go run ./bench/jsonschema -schema webhook.schema.json corpus.ndjson
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func main() {
	schemaPath := flag.String("schema", "", "schema file (from ccx schema --kind webhook)")
	flag.Parse()
	if *schemaPath == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: jsonschema -schema FILE CORPUS.ndjson")
		os.Exit(2)
	}
	sch, err := compile(*schemaPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	data, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	var valid, invalid, unparsable int
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
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
		if err != nil {
			unparsable++
			continue
		}
		if err := sch.Validate(inst); err != nil {
			invalid++
		} else {
			valid++
		}
	}
	out, _ := json.Marshal(map[string]int{"valid": valid, "invalid": invalid + unparsable, "unparsable": unparsable})
	fmt.Fprintln(os.Stderr, string(out))
}

func compile(path string) (*jsonschema.Schema, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("file:///ccx/schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("file:///ccx/schema.json")
}
