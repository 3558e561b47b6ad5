// `successover run planned`: start a runbook, wait, print the timeline (or JSON).
import type { Command } from 'commander';
import type { PlannedSuccessoverResult, TimelineStep } from '../../domain/runbook';
import { parseInput, PlannedSuccessoverInputSchema, RUNBOOKS } from '../../domain/runbook';
import { connectClient } from '../../temporal/connection';
import { failureReason, startRunbook, uiLink } from '../runbooks';

interface PlannedOptions {
  cluster: string;
  target?: string;
  dryRun?: boolean;
  force?: boolean;
  json?: boolean;
  maxLag?: string;
  waitTimeout?: string;
  taskQueue?: string;
}

export function registerRun(program: Command): void {
  const run = program.command('run').description('run a runbook on a cluster and wait for it');
  run
    .command('planned')
    .description('planned successover: move the primary role to a replica with a sub-second write blackout')
    .requiredOption('--cluster <name>', 'cluster from the inventory')
    .option('--target <host>', 'replica to promote (default: the best-ranked candidate)')
    .option('--dry-run', 'print the plan, change nothing')
    .option('--force', 'override the lag and long-transaction checks (never errant GTIDs or two writers)')
    .option('--max-lag <seconds>', 'refuse when the target lags more than this')
    .option('--wait-timeout <seconds>', 'bound on waiting for the target to apply the primary position')
    .option('--task-queue <name>', 'task queue of the workers')
    .option('--json', 'print {ok, workflowId, runId, blackoutMs, timeline, topology}')
    .action(async (o: PlannedOptions) => {
      const input = parseInput(PlannedSuccessoverInputSchema, RUNBOOKS.planned, {
        cluster: o.cluster,
        ...(o.target ? { target: o.target } : {}),
        ...(o.dryRun ? { dryRun: true } : {}),
        ...(o.force ? { force: true } : {}),
        ...(o.maxLag !== undefined ? { maxLagSeconds: Number(o.maxLag) } : {}),
        ...(o.waitTimeout !== undefined ? { waitTimeoutSeconds: Number(o.waitTimeout) } : {}),
      });
      const client = await connectClient();
      let started: Awaited<ReturnType<typeof startRunbook<PlannedSuccessoverResult>>> | undefined;
      try {
        started = await startRunbook<PlannedSuccessoverResult>(client, {
          runbook: RUNBOOKS.planned,
          workflow: 'plannedSuccessover',
          cluster: o.cluster,
          input,
          summary: `${o.dryRun ? 'dry run: ' : ''}planned successover ${o.target ? `→ ${o.target} ` : ''}on ${o.cluster}`,
          taskQueue: o.taskQueue,
        });
        if (!o.json)
          console.error(`started ${started.workflowId} (${uiLink(started.workflowId, started.runId)})`);
        const r = await started.result;
        if (o.json)
          console.log(
            JSON.stringify({ ...r, workflowId: started.workflowId, runId: started.runId }, null, 2),
          );
        else printPlanned(r);
      } catch (e) {
        const reason = failureReason(e);
        if (o.json)
          console.log(
            JSON.stringify(
              { ok: false, workflowId: started?.workflowId, runId: started?.runId, ...reason },
              null,
              2,
            ),
          );
        else console.error(`planned successover on ${o.cluster} failed: ${reason.message}`);
        process.exitCode = 1;
      } finally {
        await client.connection.close();
      }
    });
}

function printPlanned(r: PlannedSuccessoverResult): void {
  if (r.dryRun) {
    console.log(`dry run: ${r.primary} → ${r.target} on ${r.cluster}; nothing was changed. Plan:`);
    for (const c of r.plan) console.log(`  [${c.step}] ${c.on}: ${c.command}`);
  } else {
    console.log(`${r.primary} → ${r.target} on ${r.cluster}: write blackout ${r.blackoutMs} ms`);
    printTimeline(r.timeline);
  }
  for (const w of [...r.warnings, ...r.forced.map((f) => `forced: ${f}`)]) console.log(`  warning: ${w}`);
}

export function printTimeline(steps: TimelineStep[]): void {
  for (const s of steps)
    console.log(
      `  ${s.start.slice(11, 23)} ${String(s.ms ?? '').padStart(6)} ms  ${s.status.padEnd(8)} ${s.step}${s.host ? ` (${s.host})` : ''}${s.detail ? `: ${s.detail}` : ''}`,
    );
}
