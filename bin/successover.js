#!/usr/bin/env node
// Runs the compiled CLI (dist/, made by `npm run setup` or `npm run build`) when it matches the
// TypeScript sources; otherwise the sources themselves through tsx, with a note, so an edited
// checkout never runs stale code (it only starts slower until the next build).
const { join } = require('node:path');
const { OUT_DIR, ROOT, staleReason } = require('./compiled.js');

const why = staleReason();
if (why === null) {
  require(join(ROOT, OUT_DIR, 'cli', 'main.js')).main();
} else {
  process.stderr.write(`successover: running the TypeScript sources (${why}; npm run build compiles them)\n`);
  require('tsx/cjs/api').register();
  require('../cli/main.ts').main();
}
