#!/usr/bin/env node
// Runs the compiled CLI (dist/, made by `npm run setup` or `npm run build`) when it matches the
// TypeScript sources; otherwise the sources themselves through tsx, with a note, so an edited
// checkout never runs stale code (it only starts slower until the next build).
//
// Compiled, a command runs from the one-file bundle of the CLI with V8's code cache (bin/bundled.js),
// except a command that runs a Temporal worker in its process, which runs from dist/'s modules.
const { join } = require('node:path');
const { OUT_DIR, ROOT, builtBundle, staleReason } = require('./compiled.js');
const { cacheFileFor, loadBundle, runsAWorker, saveCacheAtSuccessfulExit } = require('./bundled.js');

const why = staleReason();
const bundle = why === null ? builtBundle() : null;
const args = process.argv.slice(2);
if (bundle && !runsAWorker(args)) {
  const cli = loadBundle(bundle.file, cacheFileFor(join(ROOT, OUT_DIR, 'v8-cache'), bundle.sha1, args));
  saveCacheAtSuccessfulExit(cli.saveCache);
  cli.exports.main();
} else if (why === null) {
  require(join(ROOT, OUT_DIR, 'cli', 'main.js')).main();
} else {
  process.stderr.write(`successover: running the TypeScript sources (${why}; npm run build compiles them)\n`);
  require('tsx/cjs/api').register();
  require('../cli/main.ts').main();
}
