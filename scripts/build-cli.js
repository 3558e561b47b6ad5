#!/usr/bin/env node
// `npm run build` (and `npm run setup`): compiles the TypeScript sources to CommonJS in dist/
// (git-ignored) for bin/successover.js, which runs them when they still match the sources and
// falls back to tsx otherwise. Idempotent: skips the work when dist/manifest.json matches the
// sources (bin/compiled.js); --force rebuilds anyway.
//
// Each file is compiled on its own with the project's compiler options (tsconfig.json has
// isolatedModules, so this is what tsc emits; type errors are `npm run check`'s business). Two
// things differ from a plain tsc --outDir:
// - a module's __dirname/__filename are those of its source, so paths the code builds from them
//   (the repository root, .lab/, deploy/, bin/, workflows/index.ts that the worker bundles from
//   source) are the same compiled or not;
// - the manifest, written last, records each source's size, mtime and hash.
//
// It also bundles the command line into one file, dist/cli.bundle.js (esbuild), for
// bin/successover.js: one file read and one V8 code cache instead of resolving and compiling a few
// hundred modules at every start (see bin/bundled.js). Only the packages in BUNDLED_PACKAGES go in,
// with what they import; every other package a source imports (the worker's native core, ssh2,
// mysql2, pino's worker threads, ...) stays a require() of node_modules, as in dist/.
'use strict';
const { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join, relative, sep } = require('node:path');
const { BUILD_INPUTS, MANIFEST, OUT_DIR, ROOT, hash, staleReason } = require('../bin/compiled.js');

/** The packages `run planned` and the other client commands load: the Temporal client and the input checks. */
const BUNDLED_PACKAGES = new Set([
  '@temporalio/client',
  '@temporalio/common',
  '@temporalio/envconfig',
  '@temporalio/proto',
  '@temporalio/workflow',
  'commander',
  'zod',
]);
const BUNDLE = 'cli.bundle.js';

/** Top-level entries that hold no source of the CLI. */
const SKIP = new Set(['node_modules', OUT_DIR, 'test', 'coverage']);

/** Every .ts file of the project but tests and declarations, relative to root, '/'-separated. */
function sources(root) {
  const out = [];
  const walk = (rel) => {
    for (const e of readdirSync(join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.name.startsWith('.') || (!rel && SKIP.has(e.name))) continue;
      if (e.isDirectory()) walk(r);
      else if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(r);
    }
  };
  walk('');
  return out.sort();
}

function compilerOptions(ts, root) {
  const file = join(root, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(file, ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root);
  return { ...options, noEmit: false, declaration: false, sourceMap: false, inlineSourceMap: false };
}

/** A compiled module's own __dirname and __filename are its source's (see the header). */
function sourcePaths(root, rel) {
  const toSrcDir = relative(dirname(join(root, OUT_DIR, rel)), dirname(join(root, rel)))
    .split(sep)
    .join('/');
  const base = rel.slice(rel.lastIndexOf('/') + 1);
  return (
    `__dirname = require("node:path").join(__dirname, ${JSON.stringify(toSrcDir)}); ` +
    `__filename = require("node:path").join(__dirname, ${JSON.stringify(base)});`
  );
}

/** A source the last build did not see (the CLI's own check leaves new files out: cheaper). */
function newSource(root) {
  let built;
  try {
    built = JSON.parse(readFileSync(join(root, OUT_DIR, MANIFEST), 'utf8')).files;
  } catch {
    return null;
  }
  const rel = sources(root).find((f) => !(f in built));
  return rel ? `${rel} is new since the last build` : null;
}

async function build({ root = ROOT, force = false, log = console.log } = {}) {
  const t0 = Date.now();
  const why = staleReason(root) ?? newSource(root) ?? (force ? 'asked to (--force)' : null);
  if (!why) {
    log(`[build] ${OUT_DIR}/ matches the sources, skipped`);
    return { built: false };
  }
  const ts = require('typescript');
  const options = compilerOptions(ts, root);
  const out = join(root, OUT_DIR);
  mkdirSync(out, { recursive: true });
  // A CLI started meanwhile sees no manifest and runs the sources.
  rmSync(join(out, MANIFEST), { force: true });
  const files = {};
  const record = (rel) => {
    // stat before reading: a file written during the build then shows as changed next time.
    const st = statSync(join(root, rel));
    const data = readFileSync(join(root, rel));
    files[rel] = [st.size, st.mtimeMs, hash(data)];
    return data;
  };
  for (const rel of BUILD_INPUTS) record(rel);
  const written = new Set();
  const failed = [];
  for (const rel of sources(root)) {
    const src = record(rel).toString('utf8');
    const r = ts.transpileModule(src, { compilerOptions: options, fileName: rel, reportDiagnostics: true });
    for (const d of r.diagnostics ?? [])
      failed.push(`${rel}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    let js = r.outputText;
    if (/\b__(dirname|filename)\b/.test(src)) {
      // After the "use strict" directive, on its line: line numbers stay tsc's.
      const m = /^"use strict";/.exec(js);
      js = m
        ? `${m[0]} ${sourcePaths(root, rel)}${js.slice(m[0].length)}`
        : `${sourcePaths(root, rel)}\n${js}`;
    }
    const target = join(out, rel.replace(/\.ts$/, '.js'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, js);
    written.add(target);
  }
  if (failed.length) throw new Error(`cannot compile:\n  ${failed.join('\n  ')}`);
  const modules = written.size;
  const bundle = await bundleCli(root, out);
  written.add(join(out, BUNDLE));
  // Modules of removed sources go too: nothing may load them by accident.
  const prune = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        prune(p);
        if (readdirSync(p).length === 0) rmSync(p, { recursive: true });
      } else if (p !== join(out, MANIFEST) && !written.has(p)) rmSync(p);
    }
  };
  prune(out);
  writeFileSync(
    join(out, MANIFEST),
    JSON.stringify({ builtAt: new Date().toISOString(), files, bundle }) + '\n',
  );
  log(
    `[build] compiled ${modules} modules and ${OUT_DIR}/${BUNDLE} (${(bundle.bytes / 1e6).toFixed(1)} MB) in ${((Date.now() - t0) / 1000).toFixed(1)}s (${why})`,
  );
  return { built: true };
}

/** The package a bare import names: '@scope/name' or 'name'. */
const packageOf = (spec) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

/**
 * dist/cli.bundle.js from cli/main.ts, CommonJS for this Node:
 * - its code is ASCII (esbuild escapes every other character in strings, regular expressions and
 *   names; only comments keep theirs), so bin/bundled.js can read it as Latin-1, a one-byte string
 *   V8 takes faster than UTF-8;
 * - each source module has its own __dirname and __filename, its source's as in dist/, computed
 *   from where the bundle is, so a moved checkout still works.
 */
async function bundleCli(root, out) {
  const esbuild = require('esbuild');
  const target = join(out, BUNDLE);
  const sourceDirOf = (file) => relative(root, dirname(file)).split(sep).join('/');
  const options = {
    entryPoints: [join(root, 'cli', 'main.ts')],
    outfile: target,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    charset: 'ascii',
    logLevel: 'silent',
    banner: {
      js: `const __successoverSource = (dir) => require("node:path").join(__dirname, ${JSON.stringify(relative(out, root).split(sep).join('/'))}, dir);`,
    },
    plugins: [
      {
        name: 'successover',
        setup(b) {
          // Only a source's imports choose: a bundled package's own imports go in with it.
          b.onResolve({ filter: /^[^./]/ }, (a) => {
            if (a.importer.includes(`${sep}node_modules${sep}`) || a.path.startsWith('node:'))
              return undefined;
            return BUNDLED_PACKAGES.has(packageOf(a.path)) ? undefined : { path: a.path, external: true };
          });
          b.onLoad({ filter: /\.ts$/ }, (a) => {
            if (a.path.includes(`${sep}node_modules${sep}`)) return undefined;
            const src = readFileSync(a.path, 'utf8');
            if (!/\b__(dirname|filename)\b/.test(src)) return { contents: src, loader: 'ts' };
            const dir = JSON.stringify(sourceDirOf(a.path));
            const base = JSON.stringify(a.path.slice(a.path.lastIndexOf(sep) + 1));
            return {
              contents: `const __dirname = __successoverSource(${dir}); const __filename = require("node:path").join(__dirname, ${base});\n${src}`,
              loader: 'ts',
            };
          });
        },
      },
    ],
  };
  try {
    await esbuild.build(options);
  } catch (e) {
    const why = (e.errors ?? []).map((x) => x.text).join('\n  ') || e.message;
    throw new Error(`cannot bundle ${BUNDLE}:\n  ${why}`);
  }
  const data = readFileSync(target);
  return { file: BUNDLE, bytes: data.length, sha1: hash(data) };
}

if (require.main === module) {
  build({ force: process.argv.includes('--force') }).catch((e) => {
    console.error(`[build] ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}

module.exports = { build, sources };
