// Resumability outside the critical section: the worker process is SIGKILLed as soon as the
// run's `progress` query shows the step (running or just done), a fresh worker takes over, and
// the run must complete with the invariants holding, the cluster lock released and no
// acknowledged write lost. No production code is involved in choosing the moment: the kill lands
// wherever the query finds the run, so it may hit the step's activity or the workflow task after.
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Writer } from '../../bench/writer';
import { lockWorkflowId } from '../../workflows/api';
import { plannedSuccessover } from '../../workflows';
import { DEFAULT_SHUTDOWN_GRACE_SECONDS } from '../../worker/main';
import { query, rootConnection, startLab, type LabFixture } from './labFixture';
import { testClient } from './temporal';
import { expectHealthy } from './clusterSnapshot';
import {
  labWriter,
  releaseDeadWorker,
  startWorkerProcess,
  tearDownAfterTests,
  waitForStep,
  labWorkerOptions,
  startedAttempt,
} from './workerProcess';

const STEPS = ['lock', 'discover', 'catch up', 'repoint', 'verify invariants'] as const;

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

const workerOptions = (taskQueue: string) => labWorkerOptions(lab, logDir, taskQueue);

describe('worker killed outside the critical section', () => {
  test.each(STEPS)('killed at "%s": a fresh worker completes the run', async (step) => {
    const t0 = Date.now();
    const target = primary === 'db1' ? 'db2' : 'db1';
    const client = await testClient();
    const taskQueue = `resume-${randomUUID()}`;
    const first = await startWorkerProcess(workerOptions(taskQueue));
    const handle = await client.workflow.start(plannedSuccessover, {
      taskQueue,
      workflowId: `resume-steps/${taskQueue}`,
      args: [{ cluster: 'lab', target }],
      searchAttributes: { Cluster: ['lab'], Runbook: ['planned-successover'] },
      // A client option, not the workflow's: a task the dead worker held times out sooner.
      workflowTaskTimeout: '2 seconds',
    });
    const status = await waitForStep(handle, step);
    await first.kill();
    const killedAt = Date.now();
    // A started attempt of an ordinary activity would wait out its 60 s startToCloseTimeout.
    const orphans = await releaseDeadWorker(client, handle, { failOrphans: true });

    await startWorkerProcess(workerOptions(taskQueue));
    const r = await handle.result();
    const resumedMs = Date.now() - killedAt;
    expect([r.primary, r.target]).toEqual([primary, target]);
    primary = target;
    await expectHealthy(lab, target);
    // The lock workflow ends when it handles the release signal; if the dead worker had it
    // cached, that waits for its sticky queue to time out (~10 s), not for anything of ours.
    const lockHandle = client.workflow.getHandle(lockWorkflowId('lab'));
    const released = Date.now();
    for (;;) {
      const s = await lockHandle
        .describe()
        .then((d) => d.status.name)
        .catch((e: unknown) => (e instanceof WorkflowNotFoundError ? 'NOT_FOUND' : Promise.reject(e)));
      if (s !== 'RUNNING') break;
      expect(Date.now() - released).toBeLessThan(20_000);
      await new Promise((res) => setTimeout(res, 100));
    }
    const lockMs = Date.now() - released;
    console.log(
      `killed at "${step}" (${status}; orphaned attempts failed: ${orphans.join(', ') || 'none'}): done ${resumedMs} ms after the kill, lock ended ${lockMs} ms later (test ${Date.now() - t0} ms)`,
    );
  });

  // Regression: 'wait for target' may block up to waitTimeoutSeconds against a heartbeatTimeout
  // of 5 s; the critical section heartbeats every second so a healthy but slow wait is not taken
  // for a dead worker. The target applies with a 12 s delay here.
  test('a slow wait for the target inside the critical section is not mistaken for a crash', async () => {
    const target = primary === 'db1' ? 'db2' : 'db1';
    await query(lab.info, target, 'STOP SLAVE');
    await query(lab.info, target, 'CHANGE MASTER TO MASTER_DELAY = 12');
    await query(lab.info, target, 'START SLAVE');
    const client = await testClient();
    const taskQueue = `resume-${randomUUID()}`;
    await startWorkerProcess(workerOptions(taskQueue));
    const handle = await client.workflow.start(plannedSuccessover, {
      taskQueue,
      workflowId: `resume-steps/${taskQueue}`,
      args: [{ cluster: 'lab', target, waitTimeoutSeconds: 30, maxLagSeconds: 60 }],
      searchAttributes: { Cluster: ['lab'], Runbook: ['planned-successover'] },
    });
    try {
      const r = await handle.result();
      expect([r.primary, r.target]).toEqual([primary, target]);
      primary = target;
      await expectHealthy(lab, target);
    } finally {
      const attempt = await startedAttempt(handle, 'runCriticalSection');
      console.log(`slow wait for target: critical section attempt ${attempt}`);
      if ((await query(lab.info, target, 'SHOW SLAVE STATUS')).length > 0) {
        await query(lab.info, target, 'STOP SLAVE');
        await query(lab.info, target, 'CHANGE MASTER TO MASTER_DELAY = 0');
        await query(lab.info, target, 'START SLAVE');
      }
      expect(attempt).toBe(1);
    }
  });

  test('a worker stopped for an upgrade (SIGTERM) lets the step under way finish; the new worker goes on', async () => {
    const target = primary === 'db1' ? 'db2' : 'db1';
    const client = await testClient();
    const taskQueue = `resume-${randomUUID()}`;
    // The old release's worker, whose plan step is slow (held up to 15 s), stopped with a grace
    // longer than that step (the default 10 s is for steps of well under a second); the new
    // release's worker is already up.
    const old = await startWorkerProcess({
      ...workerOptions(taskQueue),
      failpoints: 'plan=hold',
      shutdownGraceSeconds: DEFAULT_SHUTDOWN_GRACE_SECONDS + 10,
    });
    const handle = await client.workflow.start(plannedSuccessover, {
      taskQueue,
      workflowId: `resume-steps/${taskQueue}`,
      args: [{ cluster: 'lab', target }],
      searchAttributes: { Cluster: ['lab'], Runbook: ['planned-successover'] },
    });
    expect(await waitForStep(handle, 'plan')).toBe('running');
    await startWorkerProcess(workerOptions(taskQueue));
    const stopping = old.stop(60_000);
    const r = await handle.result();
    await stopping;
    // It exited by itself, after its step: not cut off by the SIGKILL that stop() sends late.
    expect(await old.exited).toEqual({ code: 0, signal: null });
    expect([r.primary, r.target]).toEqual([primary, target]);
    primary = target;
    await expectHealthy(lab, target);
    // Finished where it started: no attempt cancelled and retried on the new worker.
    expect(await startedAttempt(handle, 'planSuccessover')).toBe(1);
  });

  test('no acknowledged write was lost across all the kills', async () => {
    const w = writer;
    writer = undefined;
    if (!w) throw new Error('no writer');
    await w.stop();
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
