// `successover run emergency`, `approve`, `abort`: start an emergency recovery (or join the one
// under way, as a repeated alert does), wait for it, and answer its approval gate.
import { setTimeout as delay } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { Command } from 'commander';
import type { FenceReport } from '../../domain/emergency/fence';
import type { LostReport } from '../../domain/emergency';
import type { Ranking } from '../../domain/ranking';
import {
  EmergencyRecoveryInputSchema,
  parseInput,
  RUNBOOKS,
  type EmergencyRecoveryInput,
  type EmergencyRecoveryResult,
} from '../../domain/runbook';
import { connectClient } from '../../temporal/connection';
import { startEmergencyRecovery, type StartedRecovery } from '../../triggers/start';
import { DEFAULT_TASK_QUEUE } from '../../worker/taskQueue';
import {
  abortUpdate,
  approveUpdate,
  FailureType,
  progressQuery,
  workflowIdFor,
  type ApprovalRequest,
} from '../../workflows/api';
import { failureReason, printRunFailure, printRunResult, uiLink } from '../runbooks';
import { printTimeline } from './run';

interface EmergencyOptions {
  cluster: string;
  primary?: string;
  reason?: string;
  ackFlapping?: boolean;
  json?: boolean;
  taskQueue: string;
}

export function registerEmergency(program: Command): void {
  // `run` is registered by cli/commands/run.ts; the emergency runbook joins it as a subcommand.
  const run = program.commands.find((c) => c.name() === 'run');
  if (!run) throw new Error('registerRun must come before registerEmergency');
  run
    .command('emergency')
    .description('emergency recovery: confirm the primary is dead, fence it, promote the best replica')
    .requiredOption('--cluster <name>', 'cluster from the inventory')
    .option('--primary <host>', 'the primary suspected dead (default: the one the replicas replicate from)')
    .option('--reason <text>', 'why (recorded in the run)')
    .option('--ack-flapping', 'recover even inside policy.recoveryBlockSeconds after the last recovery')
    .option('--task-queue <name>', 'task queue of the workers', DEFAULT_TASK_QUEUE)
    .option('--json', 'print {ok, workflowId, runId, outcome, primary, newPrimary, recoveryMs, ...}')
    .action(runEmergency);

  for (const [name, update, what] of [
    ['approve', approveUpdate, 'promote the candidate a waiting emergency recovery chose'],
    ['abort', abortUpdate, 'abort a waiting emergency recovery; nothing is changed'],
  ] as const)
    program
      .command(name)
      .description(what)
      .requiredOption('--cluster <name>', 'cluster whose emergency recovery waits for approval')
      .option('--by <name>', 'who decides (recorded in the timeline; default: $USER)')
      .option('--comment <text>', 'why (recorded in the timeline)')
      .action(async (o: { cluster: string; by?: string; comment?: string }) => {
        const by = o.by ?? process.env.USER;
        const request: ApprovalRequest = {
          ...(by ? { by } : {}),
          ...(o.comment ? { comment: o.comment } : {}),
        };
        const client = await connectClient();
        try {
          const workflowId = workflowIdFor(RUNBOOKS.emergency, o.cluster);
          const handle = client.workflow.getHandle(workflowId);
          const running = await handle.describe().then(
            (d) => d.status.name === 'RUNNING',
            () => false,
          );
          if (!running) throw new Error(`no emergency recovery of ${o.cluster} is running (${workflowId})`);
          console.log(`${workflowId}: ${await handle.executeUpdate(update, { args: [request] })}`);
        } catch (e) {
          console.error(`${name} on ${o.cluster} refused: ${failureReason(e).message}`);
          process.exitCode = 1;
        } finally {
          await client.connection.close();
        }
      });
}

async function runEmergency(o: EmergencyOptions): Promise<void> {
  const raw: EmergencyRecoveryInput = {
    cluster: o.cluster,
    ...(o.primary ? { primary: o.primary } : {}),
    ...(o.reason ? { reason: o.reason } : {}),
    ...(o.ackFlapping ? { ackFlapping: true } : {}),
    source: { kind: 'cli', receivedAt: new Date().toISOString() },
  };
  parseInput(EmergencyRecoveryInputSchema, RUNBOOKS.emergency, raw); // a bad input fails before connecting
  const client = await connectClient();
  let started: StartedRecovery | undefined;
  try {
    started = await startEmergencyRecovery(client, o.taskQueue, raw);
    console.error(
      `${started.started ? 'started' : 'joined the recovery already under way:'} ${started.workflowId} (${uiLink(started.workflowId, started.runId)})`,
    );
    const handle = client.workflow.getHandle(started.workflowId, started.runId);
    const result = handle.result() as Promise<EmergencyRecoveryResult>;
    // Not awaited: a query the worker is slow to answer must not hold back the result.
    void announceApproval(handle, o.cluster, result).catch(() => undefined);
    printRunResult(o.json, started, await result, printRecovery);
  } catch (e) {
    printRunFailure(o.json, started, e, (reason) =>
      reason.type === FailureType.Refused
        ? reason.message
        : `emergency recovery of ${o.cluster} failed: ${reason.message}`,
    );
  } finally {
    await client.connection.close();
  }
}

/** Until the run ends, says (once, on stderr) when it waits for a human and how to answer. */
async function announceApproval(handle: WorkflowHandle, cluster: string, result: Promise<unknown>) {
  let done = false;
  const ended = result.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done) {
    const progress = await handle.query(progressQuery).catch(() => undefined);
    if (progress?.phase === 'approval') {
      const asked = progress.timeline.find((s) => s.step === 'approval' && s.status === 'running');
      console.error(
        [
          `waiting for approval to promote ${asked?.host ?? 'the chosen candidate'} on ${cluster} (the run aborts by itself when nobody answers in time):`,
          `  successover approve --cluster ${cluster} [--by NAME] [--comment TEXT]`,
          `  successover abort --cluster ${cluster} [--by NAME] [--comment TEXT]`,
        ].join('\n'),
      );
      return;
    }
    await Promise.race([ended, delay(1000, undefined, { ref: false })]);
  }
}

function printRecovery(r: EmergencyRecoveryResult): void {
  if (r.outcome === 'false-alarm') {
    console.log(`${r.cluster}: ${r.reason}`);
    console.log(`${r.primary} stays the primary.`);
  } else
    console.log(`${r.cluster} recovered: ${r.primary} → ${r.newPrimary} in ${r.recoveryMs} ms (${r.reason})`);
  console.log('evidence:');
  for (const e of r.evidence) console.log(`  ${e.from.padEnd(8)} ${e.says.padEnd(7)} ${e.detail}`);
  const ranking = r.ranking as Ranking | undefined;
  if (ranking) {
    console.log('candidates:');
    for (const c of ranking.candidates)
      console.log(
        `  ${c.name === r.newPrimary ? '→' : c.eligible ? ' ' : 'x'} ${c.name.padEnd(8)} ${c.reasons.join('; ')}`,
      );
  }
  const fencing = r.fencing as FenceReport | undefined;
  if (fencing) {
    console.log(`fencing of ${fencing.host}: ${fencing.fenced ? 'fenced' : 'NOT fenced: no fence held'}`);
    for (const [what, f] of Object.entries({
      read_only: fencing.readOnly,
      traffic: fencing.traffic,
      command: fencing.command,
    }))
      console.log(`  ${what.padEnd(9)} ${f.status.padEnd(7)} ${f.detail}`);
  }
  const lost = r.lost as LostReport | undefined;
  if (lost) console.log(`lost transactions: ${lost.summary}`);
  if (r.fenceWatch) console.log(`fence watch: ${r.fenceWatch}`);
  for (const w of r.warnings) console.log(`warning: ${w}`);
  console.log('timeline:');
  printTimeline(r.timeline);
}
