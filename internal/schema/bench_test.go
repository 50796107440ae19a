package schema

import (
	"bytes"
	"os"
	"testing"

	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

type benchPayload struct {
	kind validate.Kind
	data []byte
}

// benchCorpus is the shared testdata corpus of every kind plus this file's
// cases: the same bytes for both validators.
func benchCorpus(b *testing.B) (payloads []benchPayload, size int64) {
	b.Helper()
	for _, k := range Kinds {
		for _, set := range []string{"valid", "invalid"} {
			for _, path := range corpusFiles(b, set, k) {
				data, err := os.ReadFile(path)
				if err != nil {
					b.Fatal(err)
				}
				payloads = append(payloads, benchPayload{k, data})
			}
		}
	}
	for _, c := range cases {
		if c.idType == "" {
			payloads = append(payloads, benchPayload{c.kind, []byte(c.body)})
		}
	}
	for _, p := range payloads {
		size += int64(len(p.data))
	}
	return payloads, size
}

// BenchmarkValidate runs ccx's validator and jsonschema v6 (with the ccx
// schema, instances decoded by jsonschema.UnmarshalJSON) over the same
// corpus; compare their MB/s:
//
//	go test -run '^$' -bench Validate -benchmem ./internal/schema/
func BenchmarkValidate(b *testing.B) {
	payloads, size := benchCorpus(b)
	b.Logf("%d payloads, %d bytes", len(payloads), size)

	b.Run("ccx", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			for _, p := range payloads {
				validate.Bytes(p.data, validate.Options{Kind: p.kind})
			}
		}
	})

	b.Run("jsonschema", func(b *testing.B) {
		schemas := map[validate.Kind]*jsonschema.Schema{}
		for _, k := range Kinds {
			schemas[k] = compile(b, k, "")
		}
		b.SetBytes(size)
		b.ReportAllocs()
		for b.Loop() {
			for _, p := range payloads {
				v, err := jsonschema.UnmarshalJSON(bytes.NewReader(p.data))
				if err != nil {
					continue // not JSON: the decoder's verdict
				}
				_ = schemas[p.kind].Validate(v)
			}
		}
	})
}
