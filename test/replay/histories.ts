// The recorded histories the replay suite replays (test/unit/workflows/replay.test.ts): one JSON
// file per run, under histories/<release>/, written by record.ts during a live recording
// (scripts/record-histories.sh) and never edited by hand. Every release keeps its histories: a
// worker of any later release must still replay what a worker of that release left running.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const HISTORIES_DIR = join(__dirname, 'histories');

/** Set by scripts/record-histories.sh: the directory a live run writes its histories to. */
export const RECORD_ENV = 'SUCCESSOVER_RECORD_HISTORIES';

export interface RecordedHistory {
  /** The package version the histories were recorded at. */
  release: string;
  workflowType: string;
  /** How the run went (classify.ts): "completed", "recovered", "failed-Compensated", ... */
  branch: string;
  /** Replay runs the workflow under its own id: child ids are made from it. */
  workflowId: string;
  runId: string;
  /** The test file whose run left it. */
  source: string;
  /** The history as `temporal workflow show --output json` writes it (protoJson.ts). */
  history: unknown;
}

/** Every recorded history, oldest release first. */
export function readRecordedHistories(dir = HISTORIES_DIR): (RecordedHistory & { file: string })[] {
  const releases = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return releases.flatMap((release) =>
    readdirSync(join(dir, release))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => {
        const file = join(dir, release, f);
        return { ...(JSON.parse(readFileSync(file, 'utf8')) as RecordedHistory), file };
      }),
  );
}

/**
 * The branches each release's recording must hold, by workflow type ('*': any one run). Every
 * workflow the worker registers is here: replay.test.ts checks that against workflows/index.ts.
 */
export const REQUIRED_BRANCHES: Record<string, string[]> = {
  plannedSuccessover: ['completed', 'dry-run', 'failed-Compensated', 'failed-Preempted'],
  emergencyRecovery: ['recovered', 'false-alarm', 'failed-Refused', 'recovered-preempting'],
  provisionReplica: ['logical', 'physical'],
  blueGreenUpgrade: ['finalized', 'rolled-back'],
  detector: ['continued-as-new'],
  fenceWatch: ['*'],
  clusterLock: ['*'],
  fleet: ['completed'],
  drainHost: ['*'],
  rejoin: ['*'],
  provisionCatchUp: ['*'],
  blueGreenSoak: ['*'],
  topology: ['*'],
  describeCluster: ['*'],
};
