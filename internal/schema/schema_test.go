package schema

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/validate"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// compile builds kind's schema (with idType) as a jsonschema v6 validator.
func compile(t testing.TB, kind validate.Kind, idType channel.IDType) *jsonschema.Schema {
	t.Helper()
	data, err := Get(kind, idType)
	if err != nil {
		t.Fatalf("Get(%s, %q): %v", kind, idType, err)
	}
	return compileBytes(t, ID(kind, idType), data, "")
}

// compileBytes compiles the schema document data under id; fragment (e.g.
// "#/$defs/success") picks a sub-schema.
func compileBytes(t testing.TB, id string, data []byte, fragment string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s is not JSON: %v", id, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(id, doc); err != nil {
		t.Fatalf("add %s: %v", id, err)
	}
	sch, err := c.Compile(id + fragment)
	if err != nil {
		t.Fatalf("compile %s: %v", id, err)
	}
	return sch
}

// check validates one instance; nil means it passed.
func check(t testing.TB, sch *jsonschema.Schema, instance []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(instance))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}

func TestSchemasAreDraft202012WithMetadata(t *testing.T) {
	for _, k := range Kinds {
		data, err := Get(k, "")
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if m["$schema"] != Draft {
			t.Errorf("%s: $schema = %v, want %s", k, m["$schema"], Draft)
		}
		if m["$id"] != ID(k, "") {
			t.Errorf("%s: $id = %v, want %s", k, m["$id"], ID(k, ""))
		}
		for _, key := range []string{"title", "description"} {
			if s, _ := m[key].(string); s == "" {
				t.Errorf("%s: no %s", k, key)
			}
		}
		if bytes.Contains(data, []byte(`"additionalProperties": false`)) {
			t.Errorf("%s: unknown fields are warnings, not schema errors; drop additionalProperties:false", k)
		}
		compile(t, k, "")
	}
}

// The message object is defined in both the webhook and the /message schema
// (each file stands alone for editors); the copies must not drift.
func TestSharedDefinitionsAreIdentical(t *testing.T) {
	defs := func(k validate.Kind) map[string]json.RawMessage {
		data, _ := Get(k, "")
		var m struct {
			Defs map[string]json.RawMessage `json:"$defs"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		return m.Defs
	}
	w, m := defs(validate.KindWebhook), defs(validate.KindMessage)
	for name, def := range m {
		if !bytes.Equal(def, w[name]) {
			t.Errorf("$defs.%s differs between webhook and message schemas", name)
		}
	}
}

func TestExamplesPassTheirSchema(t *testing.T) {
	for _, k := range Kinds {
		data, _ := Get(k, "")
		var m struct {
			Examples []json.RawMessage `json:"examples"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		if len(m.Examples) == 0 {
			t.Errorf("%s: no examples", k)
		}
		sch := compile(t, k, "")
		for i, ex := range m.Examples {
			if err := check(t, sch, ex); err != nil {
				t.Errorf("%s example %d: %v", k, i, err)
			}
		}
	}
}

// Cases that hold whatever the corpus contains: each names the rule id the
// validator reports for the same payload.
var cases = []struct {
	kind   validate.Kind
	idType channel.IDType
	rule   string // "" = valid
	body   string
}{
	{validate.KindWebhook, "", "", `{"channelId":"c","contactId":"+60177872890","events":[{"type":"message","mId":"m1","timestamp":1732435200000,"message":{"type":"text","text":"hi"}}],"extra":1}`},
	{validate.KindWebhook, "", "", `{"channelId":"c","contactId":"abc","events":[{"type":"message_echo","mId":"m1","timestamp":1732435200000,"message":{"type":"location","latitude":-33.86,"longitude":151.21}}]}`},
	{validate.KindWebhook, "", "", `{"channelId":"c","contactId":"abc","events":[{"type":"message_status","mId":"m1","timestamp":1732435200000,"status":{"value":"failed","message":"x"}}]}`},
	{validate.KindWebhook, "", "", `{"channelId":"c","contactId":"abc","events":[{"type":"message","mId":"m1","timestamp":1732435200000,"message":{"type":"quick_reply","title":"t","replies":["a","b","c","d","e","f","g","h","i","j","k"]}}]}`},
	{validate.KindWebhook, "", "", `{"channelId":"c","contactId":"abc","events":[{"type":"message","mId":"m1","timestamp":1732435200000,"message":{"type":"custom_payload","payload":{"a":1}}}]}`},
	{validate.KindWebhook, "", validate.RuleRequired, `{"contactId":"abc","events":[{"type":"message","mId":"m1","timestamp":1732435200000,"message":{"type":"text","text":"hi"}}]}`},
	{validate.KindWebhook, "", validate.RuleEventsEmpty, `{"channelId":"c","contactId":"abc","events":[]}`},
	{validate.KindWebhook, "", validate.RuleTimestampSeconds, `{"channelId":"c","contactId":"abc","events":[{"type":"message","mId":"m1","timestamp":1732435200,"message":{"type":"text","text":"hi"}}]}`},
	{validate.KindWebhook, "", validate.RuleTimestampRange, `{"channelId":"c","contactId":"abc","events":[{"type":"message","mId":"m1","timestamp":1732435200000.5,"message":{"type":"text","text":"hi"}}]}`},
	{validate.KindWebhook, "", validate.RuleTimestampRange, `{"channelId":"c","contactId":"abc","events":[{"type":"message","mId":"m1","timestamp":100000000000000,"message":{"type":"text","text":"hi"}}]}`},
	{validate.KindWebhook, "", "", `{"channelId":"c","contactId":"abc","events":[{"type":"message","mId":"m1","timestamp":99999999999999,"message":{"type":"text","text":"hi"}}]}`},
	{validate.KindWebhook, "", "", `{"channelId":"c","contactId":"abc","events":[{"type":"message","mId":"m1","timestamp":1732435200000,"message":{"type":"text","text":"hi"},"status":{"value":"read"}}],"contact":{"timezone":"+8","countryCode":"my"}}`},
	{validate.KindWebhook, "", validate.RuleType, `{"channelId":"c","contactId":"abc","events":[{"type":"message","mId":"m1","timestamp":1732435200000,"message":{"type":"text","text":"hi"}}],"contact":{"timezone":true}}`},
	{validate.KindWebhook, "", validate.RuleMIDLength, `{"channelId":"c","contactId":"abc","events":[{"type":"message","mId":"` + strings.Repeat("m", 51) + `","timestamp":1732435200000,"message":{"type":"text","text":"hi"}}]}`},
	{validate.KindWebhook, "", validate.RuleContactIDLength, `{"channelId":"c","contactId":"` + strings.Repeat("é", 51) + `","events":[{"type":"message","mId":"m","timestamp":1732435200000,"message":{"type":"text","text":"hi"}}]}`},
	{validate.KindWebhook, "", validate.RuleEnum, `{"channelId":"c","contactId":"abc","events":[{"type":"message_read","mId":"m1","timestamp":1732435200000}]}`},
	{validate.KindWebhook, "", validate.RuleEnum, `{"channelId":"c","contactId":"abc","events":[{"type":"message_status","mId":"m1","timestamp":1732435200000,"status":{"value":"seen"}}]}`},
	{validate.KindWebhook, "", validate.RuleTextEmpty, `{"channelId":"c","contactId":"abc","events":[{"type":"message","mId":"m1","timestamp":1732435200000,"message":{"type":"text","text":""}}]}`},
	{validate.KindWebhook, "", validate.RuleLatitude, `{"channelId":"c","contactId":"abc","events":[{"type":"message","mId":"m1","timestamp":1732435200000,"message":{"type":"location","latitude":91,"longitude":0}}]}`},
	{validate.KindMessage, "", "", `{"channelId":"c","contactId":"abc","message":{"type":"attachment","attachment":{"type":"image","url":"https://x.example/a.jpg"}}}`},
	{validate.KindMessage, "", "", `{"channelId":"c","contactId":"abc","message":{"type":"attachment","attachment":{"type":"file","url":"HTTP://user@[::1]:8080/a%20b.pdf?x=1#f"}}}`},
	{validate.KindMessage, "", "", `{"channelId":"c","contactId":"abc","message":{"type":"location","latitude":"-90","longitude":"180.0"}}`},
	{validate.KindMessage, "", validate.RuleRequired, `{"channelId":"c","contactId":"abc","message":{"type":"location","location":{"latitude":1,"longitude":2}}}`},
	{validate.KindMessage, "", "", `{"channelId":"c","contactId":"abc","message":{"type":"location","latitude":1,"longitude":2,"location":{"latitude":1,"longitude":2}}}`},
	{validate.KindMessage, "", validate.RuleContactIDFormat, `{"channelId":"c","contactId":"john.doe@example.com","message":{"type":"text","text":"hi"}}`},
	{validate.KindMessage, "", "", `{"channelId":"c","contactId":"abc","message":{"type":"text","text":"hi","latitude":"not checked on text"}}`},
	{validate.KindMessage, "", validate.RuleLatitude, `{"channelId":"c","contactId":"abc","message":{"type":"location","latitude":100,"longitude":2}}`},
	{validate.KindMessage, "", validate.RuleType, `{"channelId":"c","contactId":"abc","message":{"type":"location","latitude":"north","longitude":2}}`},
	{validate.KindMessage, "", validate.RuleTextEmpty, `{"channelId":"c","contactId":"abc","message":{"type":"text","text":" \t\r\n"}}`},
	{validate.KindMessage, "", validate.RuleEmpty, `{"channelId":"c","contactId":"abc","message":{"type":"quick_reply","title":"t","replies":["a"," "]}}`},
	{validate.KindMessage, "", validate.RuleURL, `{"channelId":"c","contactId":"abc","message":{"type":"attachment","attachment":{"type":"image","url":"https://exa mple.com/a.jpg"}}}`},
	{validate.KindMessage, "", validate.RuleURL, `{"channelId":"c","contactId":"abc","message":{"type":"attachment","attachment":{"type":"image","url":"https://host:port/a.jpg"}}}`},
	{validate.KindMessage, "", validate.RuleURL, `{"channelId":"c","contactId":"abc","message":{"type":"attachment","attachment":{"type":"image","url":"ftp://x.example/a.jpg"}}}`},
	{validate.KindMessage, "", validate.RuleLongitude, `{"channelId":"c","contactId":"abc","message":{"type":"location","latitude":0,"longitude":-180.5}}`},
	{validate.KindMessage, "", validate.RuleRepliesEmpty, `{"channelId":"c","contactId":"abc","message":{"type":"quick_reply","title":"t","replies":[]}}`},
	{validate.KindMessage, "", validate.RuleType, `{"channelId":7,"contactId":"abc","message":{"type":"text","text":"hi"}}`},
	{validate.KindMessage, channel.IDPhone, "", `{"channelId":"c","contactId":"+60177872890","message":{"type":"text","text":"hi"}}`},
	{validate.KindMessage, channel.IDPhone, validate.RuleContactIDFormat, `{"channelId":"c","contactId":"60177872890","message":{"type":"text","text":"hi"}}`},
	{validate.KindMessage, channel.IDCustom, "", `{"channelId":"c","contactId":"user_42@shop/a=b+c","message":{"type":"text","text":"hi"}}`},
	{validate.KindMessage, channel.IDCustom, validate.RuleContactIDFormat, `{"channelId":"c","contactId":"john.doe-1","message":{"type":"text","text":"hi"}}`},
	{validate.KindReply, "", "", `{"mId":"abc"}`},
	{validate.KindReply, "", "", `{"error":{"message":"unsupported message type"}}`},
	{validate.KindReply, "", "", `{"mId":"abc","error":{"message":"both: a warning"}}`},
	{validate.KindReply, "", validate.RuleRequired, `{"ok":true}`},
	{validate.KindReply, "", validate.RuleEmpty, `{"error":{"message":""}}`},
	{validate.KindReply, "", validate.RuleMIDLength, `{"mId":"` + strings.Repeat("x", 51) + `"}`},
	{validate.KindReply, "", validate.RuleType, `{"error":"boom"}`},
}

func TestCases(t *testing.T) {
	for i, c := range cases {
		sch := compile(t, c.kind, c.idType)
		err := check(t, sch, []byte(c.body))
		switch {
		case c.rule == "" && err != nil:
			t.Errorf("case %d (%s, valid) failed the schema: %v", i, c.kind, err)
		case c.rule != "" && err == nil:
			t.Errorf("case %d (%s, %s) passed the schema", i, c.kind, c.rule)
		}
		// The validator must agree, or the schema and ccx validate disagree
		// on what an error is.
		rep := validate.Bytes([]byte(c.body), validate.Options{Kind: c.kind, IDType: c.idType})
		switch {
		case c.rule == "" && rep.HasErrors():
			t.Errorf("case %d: validator reports errors on a schema-valid payload: %+v", i, rep.Findings)
		case c.rule != "" && !hasRule(rep, c.rule):
			t.Errorf("case %d: validator does not report %s: %+v", i, c.rule, rep.Findings)
		}
	}
}

func hasRule(r validate.Report, rule string) bool {
	for _, f := range r.Findings {
		if f.Rule == rule && f.Severity == validate.Error {
			return true
		}
	}
	return false
}

func TestBundle(t *testing.T) {
	for _, idType := range []channel.IDType{"", channel.IDPhone} {
		data, err := Bundle(idType)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(`\u003c`)) {
			t.Error("bundle HTML-escapes '<'")
		}
		id := BundleID
		if idType != "" {
			id += "?idType=" + string(idType)
		}
		sch := compileBytes(t, id, data, "")
		for i, c := range cases {
			if c.idType != idType {
				continue
			}
			err := check(t, sch, []byte(c.body))
			if c.rule == "" && err != nil {
				t.Errorf("idType %q case %d: valid %s fails the bundle: %v", idType, i, c.kind, err)
			}
		}
		if err := check(t, sch, []byte(`{"nothing":"here"}`)); err == nil {
			t.Error("bundle accepts a payload of no kind")
		}
		if idType == channel.IDPhone {
			if err := check(t, sch, []byte(`{"channelId":"c","contactId":"abc","message":{"type":"text","text":"hi"}}`)); err == nil {
				t.Error("phone bundle accepts a custom contactId")
			}
		}
	}
}

func TestGetRejectsUnknownKindAndIDType(t *testing.T) {
	if _, err := Get("bogus", ""); err == nil {
		t.Error("Get(bogus) succeeded")
	}
	if _, err := Get(validate.KindWebhook, "email"); err == nil {
		t.Error("Get(webhook, email) succeeded")
	}
	if _, err := ParseKind("webhook"); err != nil {
		t.Error(err)
	}
}

// Rule ids whose corpus files must FAIL the schema: every one is an error
// JSON Schema can express. contact-id-format needs the ID type; see below.
var expressible = map[string]bool{
	validate.RuleRequired:         true,
	validate.RuleType:             true,
	validate.RuleEnum:             true,
	validate.RuleEmpty:            true,
	validate.RuleEventsEmpty:      true,
	validate.RuleContactIDLength:  true,
	validate.RuleMIDLength:        true,
	validate.RuleTimestampSeconds: true,
	validate.RuleTimestampRange:   true,
	validate.RuleTextEmpty:        true,
	validate.RuleURL:              true,
	validate.RuleLatitude:         true,
	validate.RuleLongitude:        true,
	validate.RuleRepliesEmpty:     true,
	validate.RuleContactIDFormat:  true,
	validate.RuleArrayEmpty:       true, // an array is not the object every schema wants
}

// Rule ids that are warnings: their corpus files must PASS the schema,
// because warnings are deliberately not schema errors.
var warningRules = map[string]bool{
	validate.RuleEventsMultiple: true,
	validate.RuleTextLength:     true,
	validate.RuleLocationNested: true,
	validate.RuleRepliesCount:   true,
	validate.RuleStatusReason:   true,
	validate.RuleCustomPayload:  true,
	validate.RuleUnknownField:   true,
	// Added by the validate branch.
	validate.RuleUnexpectedField:   true,
	validate.RuleDuplicateKey:      true,
	validate.RuleCoordinateString:  true,
	validate.RuleContactField:      true,
	validate.RuleAttachmentMIME:    true,
	validate.RuleReplyStatusNot200: true,
	validate.RuleMIDDuplicate:      true,
	validate.RuleMediaUnreachable:  true,
	validate.RuleMediaStatus:       true,
	validate.RuleMediaDisposition:  true,
	validate.RuleMediaContentType:  true,
}

// Rule ids JSON Schema cannot express, and why.
var inexpressible = map[string]string{
	validate.RuleSyntax:            "not JSON: the decoder fails before any schema runs",
	validate.RuleEncoding:          "invalid UTF-8 or NUL: a decoder matter, not a schema one",
	validate.RuleDepth:             "nesting depth is not a JSON Schema keyword",
	validate.RuleKind:              "kind detection happens before a schema is chosen",
	validate.RuleChannelIDMismatch: "needs the configured channel ID",
	validate.RuleReplyStatus:       "needs the HTTP status, which is not in the body",
	validate.RuleTooLarge:          "a size cap on the document is not a JSON Schema keyword",
	validate.RuleStringNUL:         "a NUL character is a valid JSON string; a pattern on every string would be needed",
	validate.RuleStringSurrogate:   "a lone surrogate is a decoder matter: decoders replace or reject it before any schema runs",
}

func corpusFiles(t testing.TB, set string, kind validate.Kind) []string {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", set, string(kind), "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestRuleClassification keeps the three lists above in step with the
// validator's rule table: a warning is never a schema error, every error is
// either expressible or has a reason why not.
func TestRuleClassification(t *testing.T) {
	for _, r := range validate.Rules {
		n := 0
		for _, in := range []bool{expressible[r.ID], warningRules[r.ID], inexpressible[r.ID] != ""} {
			if in {
				n++
			}
		}
		switch {
		case n != 1:
			t.Errorf("rule %q is in %d of the lists expressible/warningRules/inexpressible; want exactly 1", r.ID, n)
		case r.Severity == validate.Warning && !warningRules[r.ID]:
			t.Errorf("rule %q is a warning but is not in warningRules", r.ID)
		case r.Severity == validate.Error && warningRules[r.ID]:
			t.Errorf("rule %q is an error but is in warningRules", r.ID)
		}
	}
}

// corpusName reads the corpus file-name conventions (docs/validate.md):
// "<rule>--<segments>--<desc>.json" where a 3-digit segment is a reply's HTTP
// status and id-phone / id-custom the channel's ID type.
func corpusName(path string) (rule string, status int, idType channel.IDType) {
	segs := strings.Split(strings.TrimSuffix(filepath.Base(path), ".json"), "--")
	for _, s := range segs[1:] {
		switch {
		case len(s) == 3 && s[0] >= '1' && s[0] <= '5' && strings.Trim(s, "0123456789") == "":
			status = int(s[0]-'0')*100 + int(s[1]-'0')*10 + int(s[2]-'0')
		case s == "id-phone":
			idType = channel.IDPhone
		case s == "id-custom":
			idType = channel.IDCustom
		}
	}
	return segs[0], status, idType
}

// TestCorpus runs the shared payload corpus through the schemas: every valid
// file passes its kind's schema (and its ID type's, if named); every invalid
// file whose rule is expressible fails it; every warning-only file passes it.
// A reply file named with its HTTP status is checked against the matching
// branch: $defs/success for 2xx, $defs/failure for 4xx.
func TestCorpus(t *testing.T) {
	total, checked := 0, 0
	for _, k := range Kinds {
		schemas := map[channel.IDType]*jsonschema.Schema{
			"":               compile(t, k, ""),
			channel.IDPhone:  compile(t, k, channel.IDPhone),
			channel.IDCustom: compile(t, k, channel.IDCustom),
		}
		pick := func(status int, idType channel.IDType) *jsonschema.Schema {
			if k == validate.KindReply && status != 0 {
				data, _ := Get(k, "")
				frag := "#/$defs/failure"
				if status < 300 {
					frag = "#/$defs/success"
				}
				return compileBytes(t, ID(k, ""), data, frag)
			}
			return schemas[idType]
		}
		for _, path := range corpusFiles(t, "valid", k) {
			total++
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, status, idType := corpusName("x--" + filepath.Base(path))
			for _, sch := range []*jsonschema.Schema{schemas[""], pick(status, idType)} {
				if err := check(t, sch, data); err != nil {
					t.Errorf("%s: valid payload fails the %s schema: %v", path, k, err)
				}
			}
			checked++
		}
		for _, path := range corpusFiles(t, "invalid", k) {
			total++
			rule, status, idType := corpusName(path)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			sch := pick(status, idType)
			switch {
			case status != 0 && (status < 200 || status >= 300 && status < 400 || status >= 500):
				t.Logf("skip %s: HTTP status %d is judged by ccx validate only", path, status)
			case expressible[rule]:
				if err := check(t, sch, data); err == nil {
					t.Errorf("%s: invalid (%s) payload passes the %s schema", path, rule, k)
				}
				checked++
			case warningRules[rule]:
				if err := check(t, sch, data); err != nil {
					t.Errorf("%s: warning-only payload (%s) fails the %s schema: %v", path, rule, k, err)
				}
				checked++
			case inexpressible[rule] != "":
				t.Logf("skip %s: %s", path, inexpressible[rule])
			default:
				t.Logf("skip %s: rule %q is not classified in schema_test.go", path, rule)
			}
		}
	}
	if total == 0 {
		t.Skip("no corpus under testdata/valid or testdata/invalid yet")
	}
	t.Logf("%d corpus files, %d checked against a schema", total, checked)
}
