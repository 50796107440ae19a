package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/schema"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

func TestGenerateIsDeterministic(t *testing.T) {
	var a, b, c bytes.Buffer
	if _, _, err := generate(&a, 500, 7, 20); err != nil {
		t.Fatal(err)
	}
	generate(&b, 500, 7, 20)
	generate(&c, 500, 8, 20)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("same seed, different corpus")
	}
	if bytes.Equal(a.Bytes(), c.Bytes()) {
		t.Error("different seeds, same corpus")
	}
}

// Every label means what it says: valid and warning payloads have no
// validator error, invalid ones have one of the labelled rule (json-syntax
// lines are not JSON at all).
func TestLabelsMatchTheValidator(t *testing.T) {
	g := newGen(1)
	seen := map[string]int{}
	for i := 0; i < 6000; i++ {
		line, label := g.payload(i%4 == 0)
		seen[label]++
		if bytes.IndexByte(line, '\n') >= 0 {
			t.Fatalf("%s: payload spans lines", label)
		}
		rep := validate.Bytes(line, validate.Options{Kind: validate.KindWebhook})
		kind, rule, _ := strings.Cut(label, ":")
		switch kind {
		case "valid", "warn":
			if rep.HasErrors() {
				t.Fatalf("%s payload has errors: %+v\n%s", label, rep.Findings, line)
			}
			if kind == "warn" && !has(rep, rule, validate.Warning) {
				t.Errorf("%s payload lacks the warning: %+v", label, rep.Findings)
			}
		case "invalid":
			want := map[string]string{"status-enum": validate.RuleEnum, "message-type": validate.RuleEnum}[rule]
			if want == "" {
				want = rule
			}
			if !has(rep, want, validate.Error) {
				t.Fatalf("%s payload lacks a %s error: %+v\n%s", label, want, rep.Findings, line)
			}
			if rule != "json-syntax" && !json.Valid(line) {
				t.Errorf("%s payload is not JSON", label)
			}
		default:
			t.Fatalf("unknown label %q", label)
		}
	}
	for _, l := range []string{"valid", "invalid:required", "invalid:json-syntax", "invalid:url-invalid", "warn:text-length", "warn:coordinate-string"} {
		if seen[l] == 0 {
			t.Errorf("no %s payload in 6000", l)
		}
	}
	if len(seen) < 20 {
		t.Errorf("only %d labels: %v", len(seen), seen)
	}
}

func has(r validate.Report, rule string, sev validate.Severity) bool {
	for _, f := range r.Findings {
		if f.Rule == rule && f.Severity == sev {
			return true
		}
	}
	return false
}

// The benchmark compares tools that must agree: per payload, the webhook
// schema (jsonschema v6) fails exactly when ccx validate reports an error.
func TestSchemaAgreesWithValidator(t *testing.T) {
	data, err := schema.Get(validate.KindWebhook, "")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("webhook.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("webhook.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	g := newGen(3)
	for i := 0; i < 3000; i++ {
		line, label := g.payload(i%3 == 0)
		schemaFails := true
		if inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(line)); err == nil {
			schemaFails = sch.Validate(inst) != nil
		}
		rep := validate.Bytes(line, validate.Options{Kind: validate.KindWebhook})
		if schemaFails != rep.HasErrors() {
			t.Fatalf("%s: schema fails=%v, validator errors=%v %+v\n%s", label, schemaFails, rep.HasErrors(), rep.Findings, line)
		}
	}
}
