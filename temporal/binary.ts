// Finds the Temporal CLI that runs the dev server: the project's own build in .tools/bin (made by
// `npm run setup`), else one on PATH.
import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..');
export const PROJECT_TEMPORAL = join(REPO_ROOT, '.tools', 'bin', 'temporal');

/** The file exists and this process may run it. */
export function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of the temporal CLI; throws with the fix when there is none. */
export function findTemporalBinary(env: NodeJS.ProcessEnv = process.env): string {
  if (executable(PROJECT_TEMPORAL)) return PROJECT_TEMPORAL;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'temporal'))) return join(dir, 'temporal');
  }
  throw new Error(`no Temporal CLI: neither ${PROJECT_TEMPORAL} nor temporal on PATH; run npm run setup`);
}
