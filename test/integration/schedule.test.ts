// Scheduled runbooks on a real netns lab and the run's dev server: a schedule created with the
// CLI fires at the next minute and its planned successover moves db1 → db2; a schedule whose
// window is closed waits when triggered, says until when, takes the cluster lock only after the
// window, and `skip-window` lets it go.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ScheduleNotFoundError, WorkflowFailedError, type Client } from '@temporalio/client';
import { createSchedule, listSchedules, triggerSchedule } from '../../cli/commands/schedule';
import { failureReason } from '../../cli/runbooks';
import type { PlannedSuccessoverResult } from '../../domain/runbook';
import { clusterLock } from '../../workflows';
import { lockWorkflowId, progressQuery, skipWindowUpdate, type Progress } from '../../workflows/api';
import { expectHealthy } from './clusterSnapshot';
import { startLab, type LabFixture } from './labFixture';
import { withWorker } from './temporal';
import { testEnv } from './testEnv';

const BIN = join(__dirname, '..', '..', 'bin', 'successover.js');
const run = promisify(execFile);

/** The CLI against the test's dev server (async: the in-process worker must keep polling). */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], {
      env: { ...process.env, TEMPORAL_ADDRESS: testEnv('address'), TEMPORAL_NAMESPACE: testEnv('namespace') },
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: x.code ?? -1, stdout: x.stdout ?? '', stderr: x.stderr ?? String(e) };
  }
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const waitingProgress = (client: Client, workflowId: string) =>
  until(`${workflowId} waiting for its window`, 30_000, async () => {
    const p = await client.workflow.getHandle(workflowId).query(progressQuery);
    return p.phase === 'waiting-for-window' ? p : undefined;
  });

let lab: LabFixture;
beforeAll(async () => {
  lab = await startLab({ mode: 'netns', hosts: 3 });
});
afterAll(async () => {
  await lab?.down();
});

describe('scheduled runbooks', () => {
  test('a schedule fires at the next minute and its planned successover moves db1 → db2; pause, list, delete', async () => {
    await withWorker(lab.info.inventory, async ({ client, taskQueue }) => {
      const id = `lab-next-minute-${taskQueue.slice(-8)}`;
      // The first whole minute at least 25 s away, so the schedule exists before it comes
      // (the CLI starts slowly on a loaded machine).
      const fireAt = new Date(Math.ceil((Date.now() + 25_000) / 60_000) * 60_000);
      const cron = `${fireAt.getUTCMinutes()} ${fireAt.getUTCHours()} * * *`;
      const created = await cli(
        'schedule',
        'create',
        '--id',
        id,
        '--runbook',
        'planned',
        '--cluster',
        'lab',
        '--cron',
        cron,
        '--input',
        '{"target":"db2"}',
        '--task-queue',
        taskQueue,
        '--json',
      );
      expect(created).toMatchObject({ code: 0 });
      expect(JSON.parse(created.stdout)).toMatchObject({ ok: true, id, nextRunAt: fireAt.toISOString() });

      try {
        const handle = client.schedule.getHandle(id);
        const action = await until(
          'the scheduled run',
          120_000,
          async () => (await handle.describe()).info.recentActions[0],
        );
        expect(action.scheduledAt).toEqual(fireAt);
        const { workflowId, firstExecutionRunId } = action.action.workflow;
        // Temporal appends the scheduled time to the action's workflow id.
        expect(workflowId).toBe(`planned-successover/lab-${fireAt.toISOString().replace('.000Z', 'Z')}`);
        const runHandle = client.workflow.getHandle(workflowId, firstExecutionRunId);
        const r = (await runHandle.result()) as PlannedSuccessoverResult;
        expect([r.primary, r.target, r.dryRun]).toEqual(['db1', 'db2', false]);
        console.log(
          `scheduled run ${workflowId}: scheduled ${fireAt.toISOString()}, taken ${action.takenAt.toISOString()}, blackout ${r.blackoutMs} ms`,
        );
        const d = await runHandle.describe();
        expect(d.searchAttributes).toMatchObject({
          Cluster: ['lab'],
          Runbook: ['planned-successover'],
          RunbookPhase: ['done'],
          TemporalScheduledById: [id],
        });
        // The run took and released the cluster lock like any other.
        const lock = r.timeline.find((s) => s.step === 'lock');
        expect(lock?.status).toBe('done');
        await expectHealthy(lab, 'db2');

        const paused = await cli('schedule', 'pause', id, '--note', 'maintenance freeze');
        expect(paused).toMatchObject({ code: 0, stdout: `schedule ${id} paused: maintenance freeze\n` });
        // Listing is eventually consistent: wait in process, then read it through the CLI.
        await until('the paused schedule in the list', 30_000, async () =>
          (await listSchedules(client)).find((s) => s.id === id && s.paused),
        );
        const l = await cli('schedule', 'list', '--json');
        const listed = (JSON.parse(l.stdout) as { id: string }[]).find((s) => s.id === id);
        expect(listed).toMatchObject({
          id,
          runbook: 'planned',
          cluster: 'lab',
          when: `cron ${cron}`,
          paused: true,
          note: 'maintenance freeze',
          lastRun: { workflowId, runId: firstExecutionRunId },
        });
        expect((await handle.describe()).state.paused).toBe(true);
      } finally {
        const deleted = await cli('schedule', 'delete', id);
        expect(deleted).toMatchObject({ code: 0, stdout: `schedule ${id} deleted\n` });
      }
      await expect(client.schedule.getHandle(id).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
      await until('the schedule gone from the list', 30_000, async () =>
        (await listSchedules(client)).some((s) => s.id === id) ? undefined : true,
      );
    });
  });

  test('triggered outside its window a run waits and says until when; the lock comes after; skip-window lets it go', async () => {
    await withWorker(lab.info.inventory, async ({ client, taskQueue }) => {
      const id = `lab-window-${taskQueue.slice(-8)}`;
      // A daily window opening in two hours: closed now, whatever the time of day.
      const opens = new Date(Math.floor((Date.now() + 2 * 3_600_000) / 60_000) * 60_000);
      const hhmm = (d: Date) => d.toISOString().slice(11, 16);
      const window = `daily ${hhmm(opens)}-${hhmm(new Date(opens.getTime() + 30 * 60_000))} UTC`;
      const { planned } = await createSchedule(client, {
        id,
        runbook: 'planned',
        cluster: 'lab',
        window,
        input: '{"target":"db1"}',
        taskQueue,
      });
      expect(planned.options.action.args).toEqual([{ target: 'db1', cluster: 'lab', window }]);
      const lockHolders: string[] = [];
      try {
        // 1. Triggered now: the run waits for the window without the cluster lock.
        const first = await triggerSchedule(client, id);
        if (!first.started) throw new Error(first.reason);
        const p: Progress = await waitingProgress(client, first.workflowId);
        expect(p.window).toEqual({
          spec: window,
          opensAt: opens.toISOString(),
          closesAt: new Date(opens.getTime() + 30 * 60_000).toISOString(),
          waiting: true,
        });
        expect(p.timeline).toEqual([
          expect.objectContaining({
            step: 'wait for window',
            status: 'running',
            detail: expect.stringContaining(opens.toISOString()),
          }),
        ]);
        const waiting = client.workflow.getHandle(first.workflowId);
        const d = await waiting.describe();
        expect(d.searchAttributes).toMatchObject({
          RunbookPhase: ['waiting-for-window'],
          TemporalScheduledById: [id],
        });
        // Nobody holds the cluster while this run waits (an earlier run's lock is closed).
        const lockState = await client.workflow
          .getHandle(lockWorkflowId('lab'))
          .describe()
          .then(
            (l) => l.status.name,
            () => 'NOT_FOUND',
          );
        expect(lockState).not.toBe('RUNNING');

        // A second trigger while it waits is skipped: overlap policy skip.
        const second = await triggerSchedule(client, id);
        expect(second).toMatchObject({
          started: false,
          reason: expect.stringMatching(/overlap policy skip/),
        });
        const described = await cli('schedule', 'describe', id);
        expect(described.code).toBe(0);
        expect(described.stdout).toContain(`schedule ${id}: planned-successover on lab, window ${window}\n`);
        expect(described.stdout).toContain('overlap skip, catch-up window 30m');
        expect(described.stdout).toContain(`running: ${first.workflowId}`);
        expect(described.stdout).toMatch(/runs: 1 started, 1 skipped \(overlap\)/);

        // Another runbook holds the cluster (a running stand-in named in the lock's memo): once
        // the window is skipped, the run is refused by the lock.
        const realHolder = await client.workflow.start(clusterLock, {
          taskQueue,
          workflowId: `stand-in-holder/${taskQueue}`,
          args: [{ cluster: 'elsewhere', holder: { workflowId: 'x', runId: 'y', runbook: 'test' } }],
        });
        lockHolders.push(realHolder.workflowId);
        const lock = await client.workflow.start(clusterLock, {
          taskQueue,
          workflowId: lockWorkflowId('lab'),
          args: [
            {
              cluster: 'lab',
              holder: {
                workflowId: realHolder.workflowId,
                runId: realHolder.firstExecutionRunId,
                runbook: 'emergency-recovery',
              },
            },
          ],
          memo: {
            holder: {
              workflowId: realHolder.workflowId,
              runId: realHolder.firstExecutionRunId,
              runbook: 'emergency-recovery',
            },
          },
        });
        lockHolders.push(lock.workflowId);
        expect(
          await waiting.executeUpdate(skipWindowUpdate, { args: [{ by: 'tester', comment: 'lock check' }] }),
        ).toBe('window skipped by tester: the successover starts now');
        const refusal = await waiting.result().then(
          () => 'completed',
          (e: unknown) => (e instanceof WorkflowFailedError ? failureReason(e).message : String(e)),
        );
        expect(refusal).toMatch(
          new RegExp(
            `cluster lab is locked by emergency-recovery stand-in-holder/${taskQueue} \\(run ${realHolder.firstExecutionRunId}\\)`,
          ),
        );
        await lock.terminate('test done');
        await realHolder.terminate('test done');
        lockHolders.length = 0;

        // 2. Triggered again with the cluster free: it waits, skip-window (CLI) lets it go, db2 → db1.
        const third = await triggerSchedule(client, id);
        if (!third.started) throw new Error(third.reason);
        await waitingProgress(client, third.workflowId);
        const skipped = await cli(
          'skip-window',
          '--workflow-id',
          third.workflowId,
          '--by',
          'alice',
          '--comment',
          'urgent',
        );
        expect(skipped).toMatchObject({
          code: 0,
          stdout: `${third.workflowId}: window skipped by alice: the successover starts now\n`,
        });
        const handle = client.workflow.getHandle(third.workflowId);
        const r = (await handle.result()) as PlannedSuccessoverResult;
        expect([r.primary, r.target]).toEqual(['db2', 'db1']);
        expect(r.timeline[0]).toMatchObject({
          step: 'wait for window',
          status: 'skipped',
          detail: `window ${window} skipped by alice: urgent (it would have opened at ${opens.toISOString()})`,
        });
        expect(r.timeline[1].step).toBe('lock');
        await expectHealthy(lab, 'db1');
      } finally {
        for (const w of lockHolders)
          await client.workflow
            .getHandle(w)
            .terminate('test done')
            .catch(() => undefined);
        await client.schedule.getHandle(id).delete();
      }
    });
  });
});
