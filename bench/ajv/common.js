// Shared by validate.js and simple.js: the schema compiled once with the
// options both use, and the optional untimed warm-up pass.
"use strict";
const fs = require("fs");
const Ajv2020 = require("ajv/dist/2020");

// allErrors: ccx and jsonschema report every problem, not the first one.
// validateFormats: false: "format" is an annotation in 2020-12 (jsonschema's
// default too); the URL rule is a "pattern".
// ajv's default strict mode, with its warnings made fatal: the schemas must
// stay strict-clean.
function compile(schemaPath) {
  const logger = { log: console.log, warn: (msg) => { throw new Error(msg); }, error: console.error };
  const ajv = new Ajv2020({ allErrors: true, validateFormats: false, logger });
  return ajv.compile(JSON.parse(fs.readFileSync(schemaPath, "utf8")));
}

// warmUp validates the first $WARM lines of the corpus, untimed (read in
// 1 MiB chunks until that many lines are in).
function warmUp(validate, corpusPath) {
  const want = Number(process.env.WARM || 0);
  if (!(want > 0)) return;
  const fd = fs.openSync(corpusPath, "r");
  const buf = Buffer.alloc(1 << 20);
  const lines = [];
  let rest = "";
  while (lines.length < want) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    const parts = (rest + buf.toString("utf8", 0, n)).split("\n");
    rest = parts.pop();
    lines.push(...parts);
  }
  fs.closeSync(fd);
  for (const line of lines.slice(0, want)) {
    try {
      validate(JSON.parse(line));
    } catch (e) {
      // truncated payloads: JSON.parse throws, as in the timed pass
    }
  }
}

module.exports = { compile, warmUp };
