// bench/validate.sh's second ajv baseline, written the straightforward way:
// readline over a file stream, JSON.parse + validate per line, ONE Node
// process, the same compiled schema and options as validate.js. The script
// times whichever of the two is faster in each round.
//
//   node bench/ajv/simple.js webhook.schema.json corpus.ndjson
//
// WARM and the "ms" field as in validate.js.
"use strict";
const fs = require("fs");
const readline = require("readline");
const { compile, warmUp } = require("./common");

const [schemaPath, corpusPath] = process.argv.slice(2);
if (!schemaPath || !corpusPath) {
  console.error("usage: node simple.js SCHEMA CORPUS.ndjson");
  process.exit(2);
}
const validate = compile(schemaPath);
warmUp(validate, corpusPath);

(async () => {
  const t0 = process.hrtime.bigint();
  let valid = 0, invalid = 0, unparsable = 0;
  const lines = readline.createInterface({ input: fs.createReadStream(corpusPath), crlfDelay: Infinity });
  for await (const line of lines) {
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
})();
