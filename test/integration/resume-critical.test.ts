// Resumability inside the critical section: a worker process dies (SIGKILL, via the failpoint)
// right after each of its steps in turn; a fresh worker takes over and the run must complete
// with the invariants holding and no acknowledged write lost. The direction alternates
// (db1 → db2, db2 → db1, ...) on one lab, so every case starts from a healthy cluster.
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writer } from '../../bench/writer';
import { plannedSuccessover } from '../../workflows';
import { rootConnection, startLab, type LabFixture } from './labFixture';
import { testClient } from './temporal';
import { expectHealthy } from './clusterSnapshot';
import {
  labWriter,
  releaseDeadWorker,
  startWorkerProcess,
  tearDownAfterTests,
  labWorkerOptions,
  startedAttempt,
} from './workerProcess';
import { CRITICAL_STEPS } from './criticalSteps';

// From 'promote' on, the retry finds the target promoted and only rolls forward.
const PAST_PROMOTION = new Set<string>([
  'promote',
  'traffic off old primary',
  'kill loop stopped',
  'forget old source',
]);

let lab: LabFixture;
let logDir: string;
let writer: Writer | undefined;
let primary = 'db1';

beforeAll(async () => {
  logDir = mkdtempSync(join(tmpdir(), 'successover-resume-'));
  lab = await startLab({ mode: 'netns', hosts: 3 });
  writer = await labWriter(lab);
  await writer.start();
});
tearDownAfterTests(() => ({ writer, lab, logDir }));

const workerOptions = (taskQueue: string, failpoints?: string) =>
  labWorkerOptions(lab, logDir, taskQueue, failpoints);

describe('worker killed inside the critical section', () => {
  test.each(CRITICAL_STEPS)('killed right after "%s": a fresh worker completes the run', async (step) => {
    const t0 = Date.now();
    const target = primary === 'db1' ? 'db2' : 'db1';
    const client = await testClient();
    const taskQueue = `resume-${randomUUID()}`;
    const first = await startWorkerProcess(workerOptions(taskQueue, `critical:${step}`));
    const handle = await client.workflow.start(plannedSuccessover, {
      taskQueue,
      workflowId: `resume-critical/${taskQueue}`,
      args: [{ cluster: 'lab', target }],
      searchAttributes: { Cluster: ['lab'], Runbook: ['planned-successover'] },
      // A client option, not the workflow's: a task the dead worker held times out sooner.
      workflowTaskTimeout: '2 seconds',
    });
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const killedAt = Date.now();
    // The first case shows what a crash costs unaided (heartbeat timeout, then the dead worker's
    // sticky queue times out); the others skip the sticky wait to keep the file short.
    const unaided = step === CRITICAL_STEPS[0];
    if (!unaided) await releaseDeadWorker(client, handle, { failOrphans: false });

    await startWorkerProcess(workerOptions(taskQueue));
    const r = await handle.result();
    const resumedMs = Date.now() - killedAt;
    expect([r.primary, r.target]).toEqual([primary, target]);
    primary = target;
    await expectHealthy(lab, target);

    // The activity ran twice: the second attempt is the one whose steps the timeline shows.
    expect(await startedAttempt(handle, 'runCriticalSection')).toBe(2);
    const steps = r.timeline.map((s) => s.step);
    expect(steps).toEqual(
      expect.arrayContaining(['read-only', 'traffic to target', 'repoint', 'verify invariants']),
    );
    // Past the point of no return the retry rolls forward without promoting again.
    expect(steps.includes('promote')).toBe(!PAST_PROMOTION.has(step));
    console.log(
      `killed after "${step}": resumed and done ${resumedMs} ms after the kill${unaided ? ' (unaided)' : ''} (test ${Date.now() - t0} ms)`,
    );
  });

  test('no acknowledged write was lost across all the kills', async () => {
    const w = writer;
    writer = undefined;
    await w?.stop();
    if (!w) throw new Error('no writer');
    console.log(
      `writer: ${w.acked.length} acknowledged writes, ${w.errors} failed attempts, longest gap ${w.maxGapMs()} ms`,
    );
    expect(w.acked.length).toBeGreaterThan(100);
    const c = await rootConnection(lab.info, primary);
    try {
      expect(await w.lost(c)).toEqual([]);
    } finally {
      c.destroy();
    }
  });
});
