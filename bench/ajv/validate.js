// bench/validate.sh's second baseline: ajv's draft 2020-12 build, the schema
// compiled once, ONE Node process looping over the NDJSON corpus lines
// (JSON.parse + validate per line, parsing counts as it does for ccx).
//
//   node bench/ajv/validate.js webhook.schema.json corpus.ndjson
"use strict";
const fs = require("fs");
const Ajv2020 = require("ajv/dist/2020");

const [schemaPath, corpusPath] = process.argv.slice(2);
if (!schemaPath || !corpusPath) {
  console.error("usage: node validate.js SCHEMA CORPUS.ndjson");
  process.exit(2);
}
// allErrors: ccx and jsonschema report every problem, not the first one.
// validateFormats: false: "format" is an annotation in 2020-12 (jsonschema's
// default too); the URL rule is a "pattern".
// ajv's default strict mode, with its warnings made fatal: the schemas must
// stay strict-clean.
const logger = { log: console.log, warn: (msg) => { throw new Error(msg); }, error: console.error };
const ajv = new Ajv2020({ allErrors: true, validateFormats: false, logger });
const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, "utf8")));

const text = fs.readFileSync(corpusPath, "utf8");
let valid = 0, invalid = 0, unparsable = 0;
let start = 0;
while (start < text.length) {
  let end = text.indexOf("\n", start);
  if (end < 0) end = text.length;
  const line = text.slice(start, end);
  start = end + 1;
  if (line.trim() === "") continue;
  let inst;
  try {
    inst = JSON.parse(line);
  } catch (e) {
    unparsable++;
    continue;
  }
  if (validate(inst)) valid++;
  else invalid++;
}
console.error(JSON.stringify({ valid, invalid: invalid + unparsable, unparsable }));
