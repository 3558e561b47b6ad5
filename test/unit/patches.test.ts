// The patch list (workflows/patches.ts) against the workflow sources: every changed('id') names a
// listed patch, every listed patch is still used, and each says when, where and why.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PATCHES, type Patch } from '../../workflows/patches';

const WORKFLOWS_DIR = join(__dirname, '..', '..', 'workflows');

function sources(dir: string): { file: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory()
      ? sources(join(dir, d.name))
      : d.name.endsWith('.ts')
        ? [{ file: join(dir, d.name), text: readFileSync(join(dir, d.name), 'utf8') }]
        : [],
  );
}

/** The ids passed to changed() in the workflow sources. */
function changedIds(files: { text: string }[]): string[] {
  return files.flatMap((f) =>
    [...f.text.matchAll(/\bchanged\(\s*(['"`])([^'"`]+)\1\s*\)/g)].map((m) => m[2]),
  );
}

/** Ids used but not listed, and ids listed but no longer used (the patch is gone: remove it). */
function mismatches(used: string[], listed: string[]): { unlisted: string[]; stale: string[] } {
  return {
    unlisted: used.filter((id) => !listed.includes(id)),
    stale: listed.filter((id) => !used.includes(id)),
  };
}

/** What is wrong with one listed patch, if anything. */
function patchProblems(id: string, p: Patch, workflowNames: string[]): string[] {
  const problems: string[] = [];
  const day = /^\d{4}-\d{2}-\d{2}$/;
  if (!day.test(p.date)) problems.push(`${id}: date "${p.date}" is not YYYY-MM-DD`);
  if (p.reason.trim().length < 20) problems.push(`${id}: give the reason in a sentence`);
  if (p.workflows.length === 0) problems.push(`${id}: name the workflows it changes`);
  for (const w of p.workflows)
    if (!workflowNames.includes(w)) problems.push(`${id}: "${w}" is no workflow the worker registers`);
  if (p.deprecated !== undefined && !(day.test(p.deprecated) && p.deprecated >= p.date))
    problems.push(`${id}: deprecated "${p.deprecated}" is not a date on or after ${p.date}`);
  return problems;
}

const workflowNames = Object.keys(require('../../workflows') as Record<string, unknown>);
const all = sources(WORKFLOWS_DIR).filter((f) => !f.file.endsWith('patches.ts'));

test('every changed() names a listed patch, and every listed patch is used', () => {
  expect(mismatches(changedIds(all), Object.keys(PATCHES))).toEqual({ unlisted: [], stale: [] });
});

test('every listed patch says when, which workflows and why', () => {
  const listed: [string, Patch][] = Object.entries(PATCHES);
  expect(listed.flatMap(([id, p]) => patchProblems(id, p, workflowNames))).toEqual([]);
});

test('the checks catch an unlisted id, a stale patch and a patch without its facts', () => {
  expect(changedIds([{ text: 'if (changed(\'2026-12-06-x\')) {}\nchanged("y")' }])).toEqual([
    '2026-12-06-x',
    'y',
  ]);
  expect(mismatches(['2026-12-06-x', 'y'], ['y', '2026-11-30-gone'])).toEqual({
    unlisted: ['2026-12-06-x'],
    stale: ['2026-11-30-gone'],
  });
  expect(
    patchProblems('p', { date: '6.12.2026', workflows: ['nope'], reason: 'why' }, workflowNames),
  ).toEqual([
    'p: date "6.12.2026" is not YYYY-MM-DD',
    'p: give the reason in a sentence',
    'p: "nope" is no workflow the worker registers',
  ]);
  expect(
    patchProblems(
      'q',
      {
        date: '2026-12-06',
        workflows: ['detector'],
        reason: 'the watch reads the replicas first',
        deprecated: '2026-12-01',
      },
      workflowNames,
    ),
  ).toEqual(['q: deprecated "2026-12-01" is not a date on or after 2026-12-06']);
});
