// The replay suite: every history recorded from live runs (test/replay/histories/<release>/, by
// scripts/record-histories.sh) replays on this checkout's workflow code. A change to a workflow's
// commands that would break runs already under way on a worker upgrade fails here, before it
// ships: wrap it in changed() (workflows/patches.ts) or record the histories again at a release.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { runMetricsSinks } from '../../../metrics/runSink';
import * as workflows from '../../../workflows';
import {
  WORKFLOW_INTERCEPTOR_MODULES,
  WORKFLOW_PRELOAD_MODULES,
  WORKFLOWS_PATH,
} from '../../../worker/index';
import { historyFromJson } from '../../replay/protoJson';
import { readRecordedHistories, REQUIRED_BRANCHES, type RecordedHistory } from '../../replay/histories';
import { workflowTestEnv } from './sharedServer';

const recorded = readRecordedHistories();
const latest = recorded.at(-1)?.release;

/** The replay errors of these histories on a bundle, as "file: message". */
async function replayErrors(
  codePath: string,
  histories: (RecordedHistory & { file: string })[],
): Promise<string[]> {
  const byRun = new Map(histories.map((h) => [h.runId, h.file]));
  const errors: string[] = [];
  const results = Worker.runReplayHistories(
    // The worker's own sinks: never called while replaying, but a workflow looks them up.
    { workflowBundle: { codePath }, sinks: runMetricsSinks() },
    histories.map((h) => ({ workflowId: h.workflowId, history: historyFromJson(h.history) })),
  );
  for await (const r of results)
    if (r.error) errors.push(`${byRun.get(r.runId) ?? r.workflowId}: ${r.error.name}: ${r.error.message}`);
  return errors;
}

describe('recorded histories', () => {
  test('the latest release holds every workflow type the worker registers, in each required branch', () => {
    expect(Object.keys(REQUIRED_BRANCHES).sort()).toEqual(Object.keys(workflows).sort());
    const atLatest = recorded.filter((h) => h.release === latest);
    const missing = Object.entries(REQUIRED_BRANCHES).flatMap(([type, branches]) =>
      branches
        .filter((b) => !atLatest.some((h) => h.workflowType === type && (b === '*' || h.branch === b)))
        .map((b) => `${type} ${b}`),
    );
    expect(missing).toEqual([]);
  });

  test('every one replays on this code without a non-determinism error', async () => {
    expect(recorded.length).toBeGreaterThan(0);
    expect(await replayErrors(workflowTestEnv('bundle'), recorded)).toEqual([]);
  });
});

// A change a careless edit would make to the planned successover: its phase is announced (a
// search-attribute upsert, a command) after the discovery's activities instead of before.
const ANNOUNCED_FIRST =
  "run.enterPhase('preflight');\n      const { spec, before } = await loadAndDiscover(run);";
const DISCOVERED_FIRST =
  "const { spec, before } = await loadAndDiscover(run);\n      run.enterPhase('preflight');";

/** The workflows bundled with plannedSuccessover.ts changed by test/replay/mutateLoader.js. */
async function bundleChanged(replace: string, prepend = ''): Promise<string> {
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    preloadModules: WORKFLOW_PRELOAD_MODULES,
    logger: quiet,
    webpackConfigHook: (config) => {
      config.module?.rules?.push({
        test: /plannedSuccessover\.ts$/,
        enforce: 'pre',
        use: [
          {
            loader: require.resolve('../../replay/mutateLoader.js'),
            options: { find: ANNOUNCED_FIRST, replace, prepend },
          },
        ],
      });
      return config;
    },
  });
  const path = join(workflowTestEnv('dir'), `changed-${Date.now()}.js`);
  writeFileSync(path, code);
  return path;
}

describe('a change to a workflow', () => {
  const planned = () =>
    recorded.filter((h) => h.workflowType === 'plannedSuccessover' && h.branch === 'completed');

  test('made without a patch fails the replay of the runs it would meet', async () => {
    expect(planned().length).toBeGreaterThan(0);
    const errors = await replayErrors(await bundleChanged(DISCOVERED_FIRST), planned());
    expect(errors).toHaveLength(planned().length);
    for (const e of errors) expect(e).toMatch(/DeterminismViolationError|[Nn]ondeterminis/);
  });

  test('made behind patched() replays: recorded runs keep the old order, new runs take the new', async () => {
    expect(planned().length).toBeGreaterThan(0);
    // Both orders in one expression, so the names it declares stay those of the original.
    const replace = `const { spec, before } = await (async () => { if (__patched('replay-suite-check')) { const r = await loadAndDiscover(run); run.enterPhase('preflight'); return r; } run.enterPhase('preflight'); return loadAndDiscover(run); })();`;
    const code = await bundleChanged(
      replace,
      "import { patched as __patched } from '@temporalio/workflow';\n",
    );
    expect(await replayErrors(code, planned())).toEqual([]);
  });
});
