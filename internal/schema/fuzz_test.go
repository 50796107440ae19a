package schema

import (
	"bytes"
	"os"
	"testing"
	"unicode/utf8"

	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// FuzzAgreement: for any input, the schema of its kind fails exactly when
// ccx validate reports an error, apart from the documented inexpressible
// rules (docs/schema.md).
//
//	go test -run '^$' -fuzz FuzzAgreement -fuzztime 60s ./internal/schema/
func FuzzAgreement(f *testing.F) {
	for _, k := range Kinds {
		for _, set := range []string{"valid", "invalid"} {
			for _, path := range corpusFiles(f, set, k) {
				if data, err := os.ReadFile(path); err == nil {
					f.Add(data)
				}
			}
		}
	}
	schemas := map[validate.Kind]*jsonschema.Schema{}
	for _, k := range Kinds {
		schemas[k] = compile(f, k, "")
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) {
			return // encoding/json replaces bad UTF-8; ccx reports json-encoding
		}
		kind := validate.DetectKind(data)
		if kind == validate.KindAuto {
			return // kind-unknown: no schema applies
		}
		rep := validate.Bytes(data, validate.Options{Kind: kind})
		for _, f := range rep.Findings {
			if f.Severity == validate.Error && inexpressible[f.Rule] != "" {
				return
			}
		}
		schemaFails := true
		if inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data)); err == nil {
			schemaFails = schemas[kind].Validate(inst) != nil
		}
		if schemaFails != rep.HasErrors() {
			t.Fatalf("%s: schema fails=%v, ccx errors=%v %+v\n%s", kind, schemaFails, rep.HasErrors(), rep.Findings, data)
		}
	})
}
