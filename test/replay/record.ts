// Writes the histories a live test file left on its Temporal server into the release's directory
// of the replay suite, when scripts/record-histories.sh asked for it (RECORD_ENV). A few runs of
// each branch are kept; runs still open are terminated first, so every history ends as a real
// run's would at some point. A history holding one of the lab's secrets is never written: the
// recording stops instead (secrets never enter a history; this is the last place to notice).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { Client } from '@temporalio/client';
import type { LabInfo } from '../../lab/types';
import { branchOf } from './classify';
import { RECORD_ENV, type RecordedHistory } from './histories';
import { historyToJson } from './protoJson';
import { packageVersion } from '../../worker/version';

/** Runs kept per workflow type and branch in one release: enough variety, a small repository. */
const KEEP_PER_BRANCH = 2;

const secrets = new Set<string>();

/** The secrets of a lab this test file started: their contents must never be recorded. */
export function rememberSecrets(lab: Pick<LabInfo, 'secrets' | 'app'>): void {
  if (!process.env[RECORD_ENV]) return;
  for (const f of [...Object.values(lab.secrets), lab.app.passwordFile])
    if (f && existsSync(f)) {
      const value = readFileSync(f, 'utf8').trim();
      // A private key: its base64 body lines, any of which would give it away.
      for (const line of value.split('\n'))
        if (line.length >= 16 && !line.startsWith('-----')) secrets.add(line);
    }
}

function kept(dir: string, workflowType: string, branch: string): number {
  return readdirSync(dir).filter((f) => f.startsWith(`${workflowType}.${branch}.`)).length;
}

/**
 * Records the runs started on `client`'s namespace since `since` (this test file's). A no-op
 * unless RECORD_ENV names the directory to write to.
 */
export async function recordHistories(client: Client, since: Date, testPath: string): Promise<void> {
  const dir = process.env[RECORD_ENV];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  const source = relative(join(__dirname, '..', '..'), testPath);
  const runs = [];
  for await (const run of client.workflow.list({ query: `StartTime >= "${since.toISOString()}"` }))
    runs.push(run);
  for (const run of runs) {
    const handle = client.workflow.getHandle(run.workflowId, run.runId);
    if (run.status.name === 'RUNNING') await handle.terminate('recording its history').catch(() => undefined);
  }
  for (const run of runs) {
    const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    const branch = branchOf(run.type, history);
    const n = kept(dir, run.type, branch);
    if (n >= KEEP_PER_BRANCH) continue;
    const recorded = historyToJson(history);
    const json = JSON.stringify(recorded);
    const leaked = [...secrets].find((s) => json.includes(s));
    if (leaked)
      throw new Error(
        `${run.workflowId} (${run.type}) holds a secret of the lab: not recorded, fix the leak first`,
      );
    const file: RecordedHistory = {
      release: packageVersion(),
      workflowType: run.type,
      branch,
      workflowId: run.workflowId,
      runId: run.runId,
      source,
      history: recorded,
    };
    writeFileSync(join(dir, `${run.type}.${branch}.${n + 1}.json`), `${JSON.stringify(file)}\n`);
  }
  console.log(`recorded the histories of ${basename(testPath)} into ${dir}`);
}
