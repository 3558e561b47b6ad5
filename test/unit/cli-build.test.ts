// The compiled CLI (scripts/build-cli.js, bin/compiled.js): built only when the sources changed,
// known stale as soon as one changes, and its modules, in dist/ as in the bundle, see their
// source's __dirname.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Compiled {
  BUILD_INPUTS: string[];
  staleReason(root?: string): string | null;
  builtBundle(root?: string): { file: string; sha1: string } | null;
}
interface BuildCli {
  build(o: { root?: string; force?: boolean; log?: (l: string) => void }): Promise<{ built: boolean }>;
}
const ROOT = join(__dirname, '..', '..');
const { BUILD_INPUTS, builtBundle, staleReason } = require(join(ROOT, 'bin', 'compiled.js')) as Compiled;
const { build } = require(join(ROOT, 'scripts', 'build-cli.js')) as BuildCli;

const root = mkdtempSync(join(tmpdir(), 'sobuild-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const write = (rel: string, text: string) => {
  mkdirSync(join(root, rel, '..'), { recursive: true });
  writeFileSync(join(root, rel), text);
};
const quiet = { root, log: () => undefined };

beforeAll(() => {
  for (const f of BUILD_INPUTS) cpSync(join(ROOT, f), join(root, f));
  write(
    'temporal/binary.ts',
    "import { resolve } from 'node:path';\nexport const REPO_ROOT = resolve(__dirname, '..');\n",
  );
  write(
    'cli/main.ts',
    "import { REPO_ROOT } from '../temporal/binary';\nexport const where = { REPO_ROOT, file: __filename };\n",
  );
  write('test/skipped.ts', 'export const no = 1;\n');
  write('node_modules/x/skipped.ts', 'export const no = 1;\n');
});

test('builds, then skips until a source changes; a touched but unchanged file is still built', async () => {
  expect(staleReason(root)).toBe('there is no compiled CLI in dist/');
  expect(await build(quiet)).toEqual({ built: true });
  expect(staleReason(root)).toBeNull();
  expect(await build(quiet)).toEqual({ built: false });

  // A checkout that rewrote the file with the same content.
  utimesSync(join(root, 'cli/main.ts'), new Date(), new Date(Date.now() + 5000));
  expect(staleReason(root)).toBeNull();

  write('cli/main.ts', "export const where = 'edited';\n");
  expect(staleReason(root)).toBe('cli/main.ts changed since the last build');
  expect(await build(quiet)).toEqual({ built: true });
  expect(staleReason(root)).toBeNull();
});

test("a compiled module's __dirname and __filename are its source's; tests and node_modules are left out", async () => {
  write(
    'cli/main.ts',
    "import { REPO_ROOT } from '../temporal/binary';\nexport const where = { REPO_ROOT, file: __filename };\n",
  );
  await build(quiet);
  const { where } = require(join(root, 'dist', 'cli', 'main.js')) as {
    where: { REPO_ROOT: string; file: string };
  };
  expect(where).toEqual({ REPO_ROOT: root, file: join(root, 'cli', 'main.ts') });
  // The bundle too: every module in it has its own source's, not the bundle's.
  const bundled = require(builtBundle(root)!.file) as { where: { REPO_ROOT: string; file: string } };
  expect(bundled.where).toEqual({ REPO_ROOT: root, file: join(root, 'cli', 'main.ts') });
  expect(() => readFileSync(join(root, 'dist', 'test', 'skipped.js'))).toThrow();
  expect(() => readFileSync(join(root, 'dist', 'node_modules', 'x', 'skipped.js'))).toThrow();
});

test('a removed source is stale, and its module goes at the next build', async () => {
  write('lab/gone.ts', 'export const gone = 1;\n');
  await build(quiet);
  expect(readFileSync(join(root, 'dist', 'lab', 'gone.js'), 'utf8')).toContain('gone = 1');
  rmSync(join(root, 'lab/gone.ts'));
  expect(staleReason(root)).toBe('lab/gone.ts was removed since the last build');
  await build(quiet);
  expect(() => readFileSync(join(root, 'dist', 'lab', 'gone.js'))).toThrow();
  expect(staleReason(root)).toBeNull();
});

test('a change to the compiler options or the build itself rebuilds', () => {
  const tsconfig = join(root, 'tsconfig.json');
  writeFileSync(tsconfig, readFileSync(tsconfig, 'utf8').replace('"ES2022"', '"ES2021"'));
  expect(staleReason(root)).toBe('tsconfig.json changed since the last build');
});
