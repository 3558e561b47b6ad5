// The compiled CLI in dist/ and whether it still matches the TypeScript sources.
// scripts/build-cli.js writes dist/ and its manifest (every source's size, mtime and hash);
// bin/successover.js asks staleReason() at every start, so this file stays small, plain
// JavaScript and free of dependencies: a few hundred stat calls, and a hash only for a file
// whose mtime moved (a checkout that rewrote it unchanged still counts as built).
'use strict';
const { readFileSync, statSync } = require('node:fs');
const { join, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..');
const OUT_DIR = 'dist';
const MANIFEST = 'manifest.json';
/** Files that change the build without being sources: the compiler options and the build itself. */
const BUILD_INPUTS = [
  'tsconfig.json',
  'package-lock.json',
  'scripts/build-cli.js',
  'bin/compiled.js',
  'bin/bundled.js',
];

/** @param {Buffer} data (node:crypto is loaded only when a file needs hashing) */
const hash = (data) => require('node:crypto').createHash('sha1').update(data).digest('hex');

/**
 * null when <root>/dist matches the sources it was built from, else why not, as a phrase
 * ("cli/main.ts changed since the last build").
 * @param {string} [root]
 * @returns {string | null}
 */
function staleReason(root = ROOT) {
  /** @type {{ files: Record<string, [number, number, string]> }} */
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(root, OUT_DIR, MANIFEST), 'utf8'));
  } catch {
    return `there is no compiled CLI in ${OUT_DIR}/`;
  }
  for (const [rel, [size, mtimeMs, sha1]] of Object.entries(manifest.files)) {
    let st;
    try {
      st = statSync(join(root, rel));
    } catch {
      return `${rel} was removed since the last build`;
    }
    if (st.size !== size || (st.mtimeMs !== mtimeMs && hash(readFileSync(join(root, rel))) !== sha1))
      return `${rel} changed since the last build`;
  }
  return null;
}

/**
 * The bundled CLI the last build wrote (absolute path and hash), or null when there is none (a
 * dist/ built before bundles were).
 * @param {string} [root]
 * @returns {{ file: string, sha1: string } | null}
 */
function builtBundle(root = ROOT) {
  try {
    const { bundle } = JSON.parse(readFileSync(join(root, OUT_DIR, MANIFEST), 'utf8'));
    return bundle ? { file: join(root, OUT_DIR, bundle.file), sha1: bundle.sha1 } : null;
  } catch {
    return null;
  }
}

module.exports = { ROOT, OUT_DIR, MANIFEST, BUILD_INPUTS, hash, staleReason, builtBundle };
