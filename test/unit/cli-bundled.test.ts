// bin/bundled.js: the bundled CLI loads as require() would, and a second process of the same
// command takes the bytecode the first one left, never one of another bundle or a broken file.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Bundled {
  cacheFileFor(cacheDir: string, bundleSha1: string, args: string[]): string;
  runsAWorker(args: string[]): boolean;
}
const ROOT = join(__dirname, '..', '..');
const BUNDLED = join(ROOT, 'bin', 'bundled.js');
const { cacheFileFor, runsAWorker } = require(BUNDLED) as Bundled;

const dir = mkdtempSync(join(tmpdir(), 'sobundled-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bundle = join(dir, 'cli.bundle.js');
const cacheFile = join(dir, 'cache', 'run.v8cache');
writeFileSync(
  bundle,
  // A module that needs what require() gives a module: its own require, module and __dirname.
  `const { basename } = require('node:path');
   function sum(xs) { return xs.reduce((a, b) => a + b, 0); }
   module.exports = { dir: basename(__dirname), sum: sum([1, 2, 3]), exportsIsModuleExports: exports === module.exports };`,
);

/** Loads the bundle in a process of its own, as bin/successover.js does, and saves the cache. */
function load(): { cache: string; saved: boolean; exports: unknown } {
  const script = `
    const { loadBundle } = require(${JSON.stringify(BUNDLED)});
    const b = loadBundle(${JSON.stringify(bundle)}, ${JSON.stringify(cacheFile)});
    console.log(JSON.stringify({ cache: b.cache, saved: b.saveCache(), exports: b.exports }));`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as { cache: string; saved: boolean; exports: unknown };
}

test('the first process writes the code cache, the next uses it; a broken cache is replaced', () => {
  const exports = { dir: dir.split('/').pop(), sum: 6, exportsIsModuleExports: true };
  expect(load()).toEqual({ cache: 'none', saved: true, exports });
  expect(load()).toEqual({ cache: 'used', saved: false, exports });

  writeFileSync(cacheFile, 'not a code cache');
  expect(load()).toEqual({ cache: 'rejected', saved: true, exports });
  expect(load()).toEqual({ cache: 'used', saved: false, exports });
  // Written through a temporary file renamed into place: nothing else is left behind.
  expect(readdirSync(join(dir, 'cache'))).toEqual(['run.v8cache']);
});

test('a command that exits with a failure leaves no cache: it stopped before most of its work', () => {
  const cache = join(dir, 'exit', 'run.v8cache');
  const exitWith = (code: number) => {
    const script = `
      const { loadBundle, saveCacheAtSuccessfulExit } = require(${JSON.stringify(BUNDLED)});
      saveCacheAtSuccessfulExit(loadBundle(${JSON.stringify(bundle)}, ${JSON.stringify(cache)}).saveCache);
      process.exitCode = ${code};`;
    expect(spawnSync(process.execPath, ['-e', script]).status).toBe(code);
  };
  exitWith(1);
  expect(() => readdirSync(join(dir, 'exit'))).toThrow();
  exitWith(0);
  expect(readdirSync(join(dir, 'exit'))).toEqual(['run.v8cache']);
});

test('a cache file per command, Node version and bundle', () => {
  const of = (sha1: string, ...args: string[]) => cacheFileFor('/c', sha1, args);
  const node = `${process.version}-${process.arch}`;
  expect(of('0123456789abcdef', 'run', 'planned', '--cluster', 'lab')).toBe(
    `/c/run-${node}-0123456789ab.v8cache`,
  );
  // A rebuilt bundle has another hash: V8 checks a cache against its source by length only.
  expect(of('fedcba9876543210', 'run')).not.toBe(of('0123456789abcdef', 'run'));
  expect(of('0123456789abcdef', '--address', 'h:1', 'topology')).toBe(of('0123456789abcdef', 'h:1'));
  expect(of('0123456789abcdef', '--address', 'h:1', 'topology')).toContain('/other-');
  expect(of('0123456789abcdef')).toContain('/help-');
  expect(of('0123456789abcdef', '../../etc')).toContain('/other-');
});

test('the commands that run a Temporal worker in their process are told apart', () => {
  expect(runsAWorker(['worker', '--inventory', 'x.yaml'])).toBe(true);
  expect(runsAWorker(['bench', 'planned', '--runs', '20'])).toBe(true);
  expect(runsAWorker(['--address', 'h:1', 'worker'])).toBe(true);
  expect(runsAWorker(['run', 'planned', '--cluster', 'lab'])).toBe(false);
  expect(runsAWorker(['lab', 'up'])).toBe(false);
  expect(runsAWorker([])).toBe(false);
});
