// bench/validate.sh's ajv baseline: ajv's draft 2020-12 build, the schema
// compiled once, ONE Node process looping over the NDJSON corpus lines
// (JSON.parse + validate per line, parsing counts as it does for ccx). The
// file is read whole, then split with indexOf (the faster way; simple.js is
// the straightforward readline one).
//
//   node bench/ajv/validate.js webhook.schema.json corpus.ndjson
//
// WARM=N first validates the corpus's first N lines untimed, so that V8 has
// optimised the hot code before the timed pass. The counts printed on
// stderr carry "ms": the timed pass in-process (reading the file, JSON.parse
// and validation; no start-up, no schema compilation, no warm-up).
"use strict";
const fs = require("fs");
const { compile, warmUp } = require("./common");

const [schemaPath, corpusPath] = process.argv.slice(2);
if (!schemaPath || !corpusPath) {
  console.error("usage: node validate.js SCHEMA CORPUS.ndjson");
  process.exit(2);
}
const validate = compile(schemaPath);
warmUp(validate, corpusPath);

const t0 = process.hrtime.bigint();
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
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
console.error(JSON.stringify({ valid, invalid: invalid + unparsable, unparsable, ms }));
