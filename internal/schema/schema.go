// Package schema holds ccx's JSON Schemas (draft 2020-12) for the three
// Custom Channel payload kinds: the webhook body, the /message request body
// and the /message reply. They are embedded files so that editors and other
// languages can use exactly what ccx prints.
//
// The schemas encode the validator's ERROR rules as far as JSON Schema can
// say them. Warnings (long text, many quick replies, unknown fields, ...)
// are not schema errors, so the schemas never use additionalProperties:false.
package schema

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"

	"github.com/ccx-cli/ccx/internal/channel"
	"github.com/ccx-cli/ccx/internal/validate"
)

//go:embed webhook.schema.json message.schema.json reply.schema.json
var files embed.FS

// Draft is the JSON Schema dialect of every schema.
const Draft = "https://json-schema.org/draft/2020-12/schema"

// BaseURL is where the schema files are published (their $id prefix).
const BaseURL = "https://raw.githubusercontent.com/ccx-cli/ccx/main/internal/schema/"

// BundleID is the $id of the all-kinds document.
const BundleID = BaseURL + "ccx.schema.json"

// Kinds are the kinds with a schema, in documentation order.
var Kinds = []validate.Kind{validate.KindWebhook, validate.KindMessage, validate.KindReply}

// FileName is the schema's file name for kind, e.g. webhook.schema.json.
func FileName(kind validate.Kind) string { return string(kind) + ".schema.json" }

// ID is the $id of kind's schema; an ID type makes it distinct
// (…/webhook.schema.json?idType=phone) because the content differs.
func ID(kind validate.Kind, idType channel.IDType) string {
	id := BaseURL + FileName(kind)
	if idType != "" {
		id += "?idType=" + string(idType)
	}
	return id
}

// UnknownKindError is returned for a kind without a schema.
type UnknownKindError struct{ Kind string }

func (e *UnknownKindError) Error() string {
	return fmt.Sprintf("unknown kind %q: use webhook, message or reply", e.Kind)
}

// ParseKind accepts webhook, message or reply.
func ParseKind(s string) (validate.Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", &UnknownKindError{Kind: s}
}

// Get returns kind's schema. With an ID type, contactId must also fit that
// type's format (§5): the property points at contactIdPhone or
// contactIdCustom instead of the generic contactId definition.
func Get(kind validate.Kind, idType channel.IDType) ([]byte, error) {
	if _, err := ParseKind(string(kind)); err != nil {
		return nil, err
	}
	data, err := files.ReadFile(FileName(kind))
	if err != nil {
		return nil, err
	}
	if idType == "" {
		return data, nil
	}
	var def string
	switch idType {
	case channel.IDPhone:
		def = "contactIdPhone"
	case channel.IDCustom:
		def = "contactIdCustom"
	default:
		return nil, fmt.Errorf("unknown ID type %q: use phone or custom", idType)
	}
	if kind == validate.KindReply { // no contactId in a reply
		return replaceOnce(data, `"$id": "`+ID(kind, "")+`"`, `"$id": "`+ID(kind, idType)+`"`)
	}
	// The property reference is the only one followed by a newline: the
	// variant definitions' own "$ref" to contactId is followed by a comma.
	data, err = replaceOnce(data, `"$ref": "#/$defs/contactId"`+"\n", `"$ref": "#/$defs/`+def+`"`+"\n")
	if err != nil {
		return nil, err
	}
	return replaceOnce(data, `"$id": "`+ID(kind, "")+`"`, `"$id": "`+ID(kind, idType)+`"`)
}

func replaceOnce(data []byte, old, repl string) ([]byte, error) {
	if n := bytes.Count(data, []byte(old)); n != 1 {
		return nil, fmt.Errorf("schema: expected one %q, found %d", old, n)
	}
	return bytes.Replace(data, []byte(old), []byte(repl), 1), nil
}

// Bundle returns one compound schema document holding every kind under
// $defs (each keeping its own $id, so `jq '."$defs".webhook'` extracts a
// standalone schema) and accepting any of them at the root.
func Bundle(idType channel.IDType) ([]byte, error) {
	type ref struct {
		Ref string `json:"$ref"`
	}
	doc := struct {
		Schema      string                     `json:"$schema"`
		ID          string                     `json:"$id"`
		Title       string                     `json:"title"`
		Description string                     `json:"description"`
		AnyOf       []ref                      `json:"anyOf"`
		Defs        map[string]json.RawMessage `json:"$defs"`
	}{
		Schema: Draft,
		ID:     BundleID,
		Title:  "IS-Messenger Custom Channel payloads",
		Description: "Every Custom Channel payload kind in one document: $defs.webhook (body POSTed to the platform webhook), " +
			"$defs.message (body the platform POSTs to /message) and $defs.reply (the /message reply). " +
			"The root accepts any of them; validate against one kind for precise errors (ccx schema --kind KIND).",
		Defs: map[string]json.RawMessage{},
	}
	if idType != "" {
		doc.ID += "?idType=" + string(idType)
	}
	for _, k := range Kinds {
		data, err := Get(k, idType)
		if err != nil {
			return nil, err
		}
		doc.Defs[string(k)] = data
		doc.AnyOf = append(doc.AnyOf, ref{ID(k, idType)})
	}
	// An Encoder so that "<API token>" in descriptions is not HTML-escaped.
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
