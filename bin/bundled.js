// The bundled command line (dist/cli.bundle.js, scripts/build-cli.js), loaded with a V8 code cache.
// Most of a command's start is Node resolving and compiling modules: one file saves the resolving,
// and the code cache saves the compiling (V8 deserializes the bytecode the last run of the same
// command compiled). Node 20 has no compile cache of its own (module.enableCompileCache is 22+).
//
// V8 checks a cache against its source only by length, so a cache file is named after the
// bundle's hash (from the build's manifest): a rebuilt bundle never meets an old cache. The cache
// is written once per command, Node version and bundle, when the command exits successfully: the
// functions it compiled are then in it. A refused command stops early, so its cache would lack
// most of what the command runs, and every later start would compile that part. A cache V8
// rejects (another V8 build, flags) is rewritten the same way.
'use strict';
const { mkdirSync, readFileSync, renameSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');

/** The commands that run a Temporal worker in their own process. */
const RUN_A_WORKER = new Set(['worker', 'bench']);

/**
 * Whether a command line may run a Temporal worker in its process: its SDK loads its packages from
 * node_modules, and the bundle holds copies of some of them, so such a command runs from dist/'s
 * modules, which share node_modules with it. Either word anywhere counts: an option's value that
 * happens to be `worker` only costs the bundle's speed.
 * @param {string[]} args
 */
const runsAWorker = (args) => args.some((a) => RUN_A_WORKER.has(a));

/**
 * The cache file for a command line of a bundle: one per command (`run`, `topology`...; each
 * compiles other functions), Node version and architecture.
 * @param {string} cacheDir
 * @param {string} bundleSha1
 * @param {string[]} args the command line's arguments (argv without node and the script)
 */
function cacheFileFor(cacheDir, bundleSha1, args) {
  const word = args.find((a) => !a.startsWith('-')) ?? 'help';
  const command = /^[a-z][a-z-]{0,30}$/.test(word) ? word : 'other';
  const node = `${process.version}-${process.arch}`;
  return join(cacheDir, `${command}-${node}-${bundleSha1.slice(0, 12)}.v8cache`);
}

/**
 * Loads a CommonJS bundle as require() would, with V8's code cache from cacheFile when there is
 * one. `saveCache()` writes the cache when none was used (call it when the work is done: the cache
 * holds what was compiled by then); it never throws: a read-only checkout only starts slower.
 * @param {string} file
 * @param {string} cacheFile
 * @returns {{ exports: any, cache: 'used' | 'none' | 'rejected', saveCache: () => boolean }}
 */
function loadBundle(file, cacheFile) {
  // Latin-1: the bundle's code is ASCII; only its comments may hold other bytes (scripts/build-cli.js).
  const source = readFileSync(file, 'latin1');
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const script = new Script(Module.wrap(source), { filename: file, cachedData });
  const cache = cachedData === undefined ? 'none' : script.cachedDataRejected ? 'rejected' : 'used';
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(dirname(file));
  script.runInThisContext().call(m.exports, m.exports, Module.createRequire(file), m, file, dirname(file));
  m.loaded = true;
  const saveCache = () => {
    if (cache === 'used') return false;
    try {
      mkdirSync(dirname(cacheFile), { recursive: true });
      // Renamed into place: a command starting meanwhile reads the whole cache or none.
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
      return true;
    } catch {
      return false;
    }
  };
  return { exports: m.exports, cache, saveCache };
}

/**
 * Saves the cache when the process exits with status 0 (see the header).
 * @param {() => boolean} saveCache
 */
function saveCacheAtSuccessfulExit(saveCache) {
  process.once('exit', (code) => {
    if (code === 0) saveCache();
  });
}

module.exports = { cacheFileFor, loadBundle, runsAWorker, saveCacheAtSuccessfulExit };
